import sys

from kafka_sre_tui.cli import main

sys.exit(main())
