"""Architecture rules a user would feel: the engine runs without Textual (cron, runbooks), and the
import contract that keeps the layout readable (README, Layout):

- the engine never imports the dashboard (`tui`) or the CLI;
- `engine/kafka` (everything that speaks the Kafka protocol) imports no capability package;
- the CLI imports the dashboard only inside a function, to start it.

Imports are read from the source (every `import` and `from ... import`, at any depth), so an import
hidden in a function counts too.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import kafka_sre_tui.engine

PACKAGE = Path(kafka_sre_tui.engine.__file__).resolve().parents[1]
CAPABILITIES = ("backup", "restore", "migrate", "drain", "inspect", "storage", "target", "records",
                "group_offsets", "replay")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether at module level) for every import in one file."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(f"{node.module}.{alias.name}", id(node) in top) for alias in node.names]
    return found


def _violations(folder: str, forbidden: tuple[str, ...], top_level_only: bool = False) -> list[str]:
    bad = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for module, at_top in _imports(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden) and (at_top or not top_level_only):
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    return bad


def test_engine_imports_neither_the_dashboard_nor_the_cli() -> None:
    assert _violations("engine", ("kafka_sre_tui.tui", "kafka_sre_tui.cli", "textual")) == []


def test_kafka_layer_imports_no_capability() -> None:
    forbidden = tuple(f"kafka_sre_tui.engine.{name}" for name in CAPABILITIES)
    assert _violations("engine/kafka", forbidden) == []


def test_cli_starts_the_dashboard_but_never_imports_it_at_load() -> None:
    assert _violations("cli", ("kafka_sre_tui.tui", "textual"), top_level_only=True) == []


def test_the_rules_see_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\ndef f():\n    from kafka_sre_tui.tui.app import KsreApp\n")
    assert _imports(sample) == [("os", True), ("kafka_sre_tui.tui.app.KsreApp", False)]


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
