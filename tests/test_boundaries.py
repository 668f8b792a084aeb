"""Architecture rules a user would feel: the engine runs without Textual (cron, runbooks)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import kafka_sre_tui.engine


def test_engine_never_imports_textual() -> None:
    modules = [m.name for m in pkgutil.walk_packages(kafka_sre_tui.engine.__path__, "kafka_sre_tui.engine.")]
    assert len(modules) >= 6
    code = ("import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "import kafka_sre_tui.config, kafka_sre_tui.localkafka\n"
            "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(','.join(leaked))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_headless_commands_do_not_load_textual() -> None:
    code = ("import sys\nfrom kafka_sre_tui.cli.main import main\n"
            "try:\n    main(['topics', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(any(m.startswith('textual') for m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"
