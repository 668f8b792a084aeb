"""Our commands as measured child processes: backup per codec, verify, restore, migrate."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.child import ChildRun, run_child


@dataclass(frozen=True)
class Cli:
    """How to call ``kafka-sre-tui`` for the benchmark: its own config, backups in ``backup_dir``."""

    config: Path
    backup_dir: Path

    @classmethod
    def create(cls, workdir: Path) -> Cli:
        config = workdir / "bench-config.toml"
        backups = workdir / "backups"
        backups.mkdir(parents=True, exist_ok=True)
        config.write_text(f'[backup]\nbase_path = "{backups}"\nmax_concurrent_backups = 8\n')
        return cls(config, backups)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "kafka_sre_tui", args[0], "--config", str(self.config), *args[1:]]

    def run(self, *args: str) -> tuple[ChildRun, dict[str, Any]]:
        """Run a ``--json`` command; the parsed document is empty when it failed."""
        run = run_child(self.command(*args, "--json"))
        doc: dict[str, Any] = {}
        if run.ok:
            doc = json.loads(run.stdout)
        return run, doc

    def backup(self, bootstrap: str, topic: str, codec: str, max_messages: int | None = None
               ) -> tuple[ChildRun, dict[str, Any]]:
        extra = ["--max-messages", str(max_messages)] if max_messages else []
        return self.run("backup", "--cluster", bootstrap, "--topic", topic, "--backup-dir", str(self.backup_dir),
                        "--compression", codec, "--checkpoint-seconds", "5", *extra)

    def verify(self, backup_id: str) -> tuple[ChildRun, dict[str, Any]]:
        return self.run("verify", backup_id, "--backup-dir", str(self.backup_dir))

    def restore(self, bootstrap: str, backup_id: str, target: str) -> tuple[ChildRun, dict[str, Any]]:
        return self.run("restore", "--cluster", bootstrap, "--backup-id", backup_id, "--backup-dir",
                        str(self.backup_dir), "--target-topic", target, "--create-topic")

    def migrate_help(self) -> str | None:
        """The migrate command's help text, or None while it does not exist."""
        run = run_child(self.command("migrate", "--help"))
        return run.stdout if run.ok else None

    def migrate(self, source: str, topic: str, target: str, target_topic: str, help_text: str
                ) -> tuple[ChildRun, dict[str, Any]]:
        args = ["migrate", "--source-cluster", source, "--source-topic", topic, "--target-cluster", target]
        if "--target-topic" in help_text:
            args += ["--target-topic", target_topic]
        if "--create-topic" in help_text:
            args.append("--create-topic")
        if "--state-dir" in help_text:
            args += ["--state-dir", str(self.backup_dir.parent / "migrations" / target_topic)]
        if "--json" not in help_text:
            return run_child(self.command(*args)), {}
        return self.run(*args)


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
