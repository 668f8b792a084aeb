"""A backup location given as a URL no store here speaks is refused, in every command that takes one: once,
``--backup-dir s3://bucket/dr`` exited 0 with the backup in a local folder ``s3:/bucket/dr``."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafka_sre_tui.cli.main import main

COMMANDS = [
    ["backup", "--topic", "orders", "--cluster", "127.0.0.1:1"],
    ["backup", "--resume", "20261124T181500123Z-orders-a1b2c3", "--cluster", "127.0.0.1:1"],
    ["verify", "20261124T181500123Z-orders-a1b2c3"],
    ["backups", "list"],
    ["backups", "show", "20261124T181500123Z-orders-a1b2c3"],
    ["backups", "prune", "--dry-run"],
    ["restore", "--backup-id", "20261124T181500123Z-orders-a1b2c3", "--cluster", "127.0.0.1:1"],
    ["health", "--cluster", "127.0.0.1:1"],
]
URLS = ["s3a://bucket/dr", "abfs://container/dr", "HTTPS://host/x", "file:///tmp/dr"]


def _refused(err: str, url: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    scheme = url.split(":", 1)[0].lower()
    assert lines[0].startswith("error: ") and f"'{url}'" in lines[0], err
    assert f"{scheme}:// is not a storage backups can be kept in" in lines[0], err
    assert "use a local directory or s3://, az://, gs://" in lines[0], err


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
@pytest.mark.parametrize("url", URLS)
def test_backup_dir_url_is_refused_and_nothing_is_written(command: list[str], url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("")
    assert main(["--config", str(config), *command, "--backup-dir", url]) == 2
    _refused(capsys.readouterr().err, url)
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no local folder named s3:


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_base_path_url_in_the_config_is_refused(command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text('[backup]\nbase_path = "file:///srv/dr"\n')
    assert main(["--config", str(config), *command]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"error: {config}: backup.base_path: 'file:///srv/dr': file:// is not a storage backups can be kept in; "
        "use a local directory or s3://, az://, gs://"]
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_local_paths_that_merely_contain_a_colon_are_still_paths(tmp_path: Path) -> None:
    from kafka_sre_tui.engine.storage.store import open_location

    assert open_location(str(tmp_path / "a:b")) == tmp_path / "a:b"
    assert open_location("~/dr") == Path.home() / "dr"
    assert open_location("relative/s3:/x") == Path("relative/s3:/x")
    assert str(open_location("s3://bucket/dr/", {"endpoint": "http://127.0.0.1:1", "allow_http": True})) == \
        "s3://bucket/dr"


@pytest.mark.parametrize(("body", "message"), [
    ('secret_access_key = "hunter2"', "backup.object_store: secret_access_key: unknown key; secrets are not read "
                                      "from the config: use the environment (AWS_ACCESS_KEY_ID"),
    ('account_key = "hunter2"', "account_key: unknown key; secrets are not read from the config"),
    ('endpont = "http://x"', "endpont: unknown key; known keys: account_name, allow_http, endpoint"),
    ("allow_http = 1", "allow_http: expected true or false, got"),
    ('retry_seconds = "60"', "retry_seconds: expected a number, got"),
])
def test_object_store_options_never_take_a_secret(body: str, message: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[backup]\nbase_path = "s3://bucket/dr"\n[backup.object_store]\n{body}\n')
    assert main(["--config", str(config), "backups", "list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "hunter2" not in err, err
