import sys

from kafka_sre_tui.cli.main import main

sys.exit(main())
