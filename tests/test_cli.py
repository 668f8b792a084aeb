"""Command-line surface: every command has --help, shared options go before or after the command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import build_parser, main

COMMANDS = ["demo", "dashboard", "clusters", "topics", "groups", "lag", "drain", "backup", "verify", "backups",
            "restore", "migrate", "health", "exporter"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: kafka-sre-tui {command}" in capsys.readouterr().out


def test_config_and_cluster_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--config", "a.toml", "--cluster", "x:1", "groups", "--json"])
    after = parser.parse_args(["groups", "--config", "a.toml", "--cluster", "x:1", "--json"])
    for args in (before, after):
        assert (args.config, args.cluster, args.command, args.json) == ("a.toml", "x:1", "groups", True)


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lag"])  # the group is required
    assert info.value.code == 2
    assert "the following arguments are required: group" in capsys.readouterr().err


def test_no_cluster_anywhere_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KAFKA_SRE_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["groups"]) == 2
    assert "no cluster given: pass --cluster" in capsys.readouterr().err


def test_entry_points_and_module() -> None:
    bin_dir = Path(sys.executable).parent
    for exe in ("kafka-sre-tui", "ksre"):
        path = shutil.which(exe, path=str(bin_dir))
        assert path, f"{exe} is not installed next to {sys.executable}"
        assert subprocess.run([path, "--help"], capture_output=True, text=True, check=True).stdout.startswith(
            "usage: kafka-sre-tui")
    result = subprocess.run([sys.executable, "-m", "kafka_sre_tui", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout


@pytest.mark.parametrize(("size", "shown"), [
    (None, None), (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 * 1024**2, "5.0 MiB"),
    (3 * 1024**3 + 1024**3 // 2, "3.5 GiB"), (1024**4, "1.0 TiB"), (2048 * 1024**5, "2,048.0 PiB")])
def test_sizes_print_in_binary_units(size: int | None, shown: str | None) -> None:
    from kafka_sre_tui.cli.output import human_bytes

    assert human_bytes(size) == shown
