"""config.toml / config.yaml -> typed, validated settings, with one-line errors.

Lookup order: ``--config PATH``, ``$KAFKA_SRE_TUI_CONFIG``, ``./config.toml`` (or .yaml/.yml),
then ``$XDG_CONFIG_HOME/kafka-sre-tui/config.toml`` (or .yaml/.yml). No file is fine: every
command also takes a bare bootstrap address.

Secrets and TLS files are resolved when a cluster is used, not when the file is read, so a
production entry whose password variable is unset on this host does not stop you from using a
local cluster; the error, when it comes, still names the file and the key.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka_sre_tui.client_properties import cluster_keys_from_properties
from kafka_sre_tui.engine.errors import ConfigError

ENV_VAR = "KAFKA_SRE_TUI_CONFIG"
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")
MIN_REFRESH_SECONDS = 1.0
_BARE_ADDRESS = re.compile(r"^(?:[\w.\-]+|\[[0-9a-fA-F:]+\]):\d{1,5}(?:,(?:[\w.\-]+|\[[0-9a-fA-F:]+\]):\d{1,5})*$")


@dataclass(frozen=True)
class ClusterConfig:
    """How to reach one cluster, with everything resolved: what the engine connects with."""

    name: str
    bootstrap_servers: tuple[str, ...]
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_ca_file: Path | None = None
    ssl_cert_file: Path | None = None
    ssl_key_file: Path | None = None
    ssl_key_password: str | None = field(default=None, repr=False)
    ssl_check_hostname: bool = True
    oauth_token_command: str | None = field(default=None, repr=False)
    oauth_token_file: Path | None = None
    aws_msk_iam_region: str | None = None
    read_only: bool = False
    request_timeout_seconds: float = 10.0
    retry_seconds: float = 60.0  # how long a job waits for a cluster that went away before it stops
    color: str | None = None
    source: str = "command line"

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def uses_oauth(self) -> bool:
        return self.uses_sasl and self.sasl_mechanism == "OAUTHBEARER"

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")


@dataclass(frozen=True)
class ClusterEntry:
    """A cluster as written in the config file, checked for shape. :meth:`build` reads what lives
    outside the file (client.properties, password variable or file, TLS files) when it is used."""

    name: str
    source: Path
    values: Mapping[str, Any]
    client_properties: Path | None = None

    @property
    def bootstrap_text(self) -> str:
        servers = self.values.get("bootstrap_servers")
        return ",".join(servers) if servers else f"(from {self.client_properties})"

    @property
    def read_only(self) -> bool:
        return bool(self.values.get("read_only", False))

    def build(self) -> ClusterConfig:
        where = f"{self.source}: clusters.{self.name}"
        values: dict[str, Any] = {}
        if self.client_properties is not None:
            for key, raw in cluster_keys_from_properties(self.client_properties, f"{where}.client_properties").items():
                converter = (_CLUSTER_KEYS | _PROPERTIES_ONLY_KEYS)[key](self.client_properties)
                values[key] = _convert(converter, raw, self.client_properties, key)
        values.update(self.values)  # keys in the config file win over client.properties
        if "bootstrap_servers" not in values:
            raise ConfigError(f"{where}: bootstrap_servers is missing; set it (\"host:port,host:port\") "
                              "or put bootstrap.servers in the client_properties file")
        password_env, password_file = values.pop("password_env", None), values.pop("password_file", None)
        if password_env:
            values["password"] = os.environ.get(password_env)
            if values["password"] is None:
                raise ConfigError(f"{where}.password_env: environment variable {password_env} "
                                  "is not set; export it or use password_file")
        elif password_file:
            values["password"] = _read_secret(password_file, f"{where}.password_file")
        cluster = ClusterConfig(name=self.name, source=str(self.source), **values)
        token_sources = [k for k in _TOKEN_KEYS if getattr(cluster, k) is not None]
        if cluster.uses_oauth and len(token_sources) != 1:
            raise ConfigError(f"{where}: OAUTHBEARER needs exactly one of {', '.join(_TOKEN_KEYS)}"
                              + (f" (got {', '.join(token_sources)})" if token_sources else ""))
        if token_sources and not cluster.uses_oauth:
            raise ConfigError(f"{where}.{token_sources[0]}: only used with sasl_mechanism = \"OAUTHBEARER\" "
                              "and a SASL security_protocol")
        if cluster.uses_sasl and not cluster.uses_oauth and (not cluster.username or cluster.password is None):
            raise ConfigError(f"{where}: {cluster.security_protocol} needs username and password_env "
                              "or password_file")
        for key in ("ssl_ca_file", "ssl_cert_file", "ssl_key_file"):
            path = getattr(cluster, key)
            if path is not None and not os.access(path, os.R_OK):
                raise ConfigError(f"{where}.{key}: cannot read {path}; check the path and permissions")
        return cluster


DEFAULT_MAX_BACKUP_SIZE_GB = 100.0


@dataclass(frozen=True)
class BackupSettings:
    base_path: Path | str = field(default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share") / "backups")
    compression: str = "zstd"
    max_concurrent_backups: int = 2
    retention_days: int = 30
    max_backup_size_gb: float | None = None  # None: not set; `backups prune` keeps DEFAULT_MAX_BACKUP_SIZE_GB
    encryption_key_file: Path | None = None  # AES-256-GCM at rest when one of these two is set
    encryption_key_env: str | None = None
    object_store: dict[str, Any] = field(default_factory=dict)  # endpoint, region, allow_http, ... (no secrets)

    @property
    def prune_limit_gb(self) -> float:
        """What ``backups prune`` keeps the total under: the configured size, else the default."""
        return DEFAULT_MAX_BACKUP_SIZE_GB if self.max_backup_size_gb is None else self.max_backup_size_gb


@dataclass(frozen=True)
class AuditSettings:
    path: Path = field(default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state") / "audit.log")


@dataclass(frozen=True)
class UiSettings:
    refresh_seconds: float = 5.0
    theme: str = "ksre-night"


@dataclass(frozen=True)
class NotifySettings:
    """``[notify]``: webhooks told when a job run with ``--notify`` ends, and of its alerts on the way
    (see observe/notify.py and observe/alerts.py)."""

    webhooks: tuple[str, ...] = ()  # generic JSON POST
    slack_webhooks: tuple[str, ...] = ()  # Slack-compatible {"text": ...}
    timeout_seconds: float = 5.0
    retries: int = 3
    migration_lag_records: int | None = None  # a following migration's replication lag above this: alert
    migration_lag_seconds: float | None = None


@dataclass(frozen=True)
class AppConfig:
    path: Path | None = None
    clusters: Mapping[str, ClusterEntry] = field(default_factory=dict)
    default_cluster: str | None = None
    backup: BackupSettings = field(default_factory=BackupSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    audit: AuditSettings = field(default_factory=AuditSettings)

    def cluster(self, ref: str | None) -> ClusterConfig:
        """A configured cluster by name, or a bare ``host:port[,host:port]`` (PLAINTEXT)."""
        ref = ref or self.default_cluster or (next(iter(self.clusters)) if len(self.clusters) == 1 else None)
        if ref is None:
            hint = f"one of: {', '.join(self.clusters)}" if self.clusters else "host:port"
            raise ConfigError(f"no cluster given: pass --cluster ({hint}) or set default_cluster in the config")
        if ref in self.clusters:
            return self.clusters[ref].build()
        if _BARE_ADDRESS.match(ref):
            return ClusterConfig(name=ref, bootstrap_servers=tuple(ref.split(",")))
        known = ", ".join(self.clusters) or "none configured"
        raise ConfigError(f"unknown cluster '{ref}': use a configured name ({known}) or host:port")


# -- loading ----------------------------------------------------------------------------------

def find_config_file(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    for folder in (Path.cwd(), _xdg("XDG_CONFIG_HOME", ".config")):
        for name in ("config.toml", "config.yaml", "config.yml"):
            if (folder / name).is_file():
                return folder / name
    return None


def load_config(explicit: str | None = None) -> AppConfig:
    path = find_config_file(explicit)
    if path is None:
        return AppConfig()
    return parse_config(_read_document(path), path)


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror}); "
                          f"check --config or ${ENV_VAR}") from None
    if path.suffix in (".yaml", ".yml"):
        import yaml  # only a YAML config pays for importing it

        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise _not_valid(path, exc) from None
    else:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _not_valid(path, exc) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: the top level must be a table of settings")
    return doc


def _not_valid(path: Path, exc: Exception) -> ConfigError:
    detail = str(exc).replace("\n", " ")
    return ConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {detail}")


def parse_config(doc: Mapping[str, Any], path: Path) -> AppConfig:
    _check_keys(doc, {"default_cluster", "clusters", "backup", "ui", "audit", "notify"}, path, "")
    clusters_doc = _table(doc.get("clusters", {}), path, "clusters")
    clusters = {name: _parse_cluster(name, _table(body, path, f"clusters.{name}"), path)
                for name, body in clusters_doc.items()}
    default = doc.get("default_cluster")
    if default is not None and default not in clusters:
        raise ConfigError(f"{path}: default_cluster: '{default}' is not under [clusters]; "
                          f"add [clusters.{default}] or fix the name")
    backup = _parse_section(BackupSettings, _BACKUP_KEYS, doc.get("backup", {}), path, "backup")
    ui = _parse_section(UiSettings, _UI_KEYS, doc.get("ui", {}), path, "ui")
    notify = _parse_section(NotifySettings, _NOTIFY_KEYS, doc.get("notify", {}), path, "notify")
    audit = _parse_section(AuditSettings, {"path": _path}, doc.get("audit", {}), path, "audit")
    return AppConfig(path=path, clusters=clusters, default_cluster=default, backup=backup, ui=ui, audit=audit,
                     notify=notify)


def _parse_cluster(name: str, body: Mapping[str, Any], path: Path) -> ClusterEntry:
    section = f"clusters.{name}"
    if "password" in body:
        raise ConfigError(f"{path}: {section}.password: inline passwords are not read; put it in an "
                          "environment variable (password_env) or a file (password_file)")
    _check_keys(body, set(_CLUSTER_KEYS), path, section)
    values = {key: _convert(_CLUSTER_KEYS[key](path), raw, path, f"{section}.{key}") for key, raw in body.items()}
    props = values.pop("client_properties", None)
    if "bootstrap_servers" not in values and props is None:
        raise ConfigError(f"{path}: {section}: bootstrap_servers is missing; "
                          "set it (\"host:port,host:port\") or point client_properties at a file")
    return ClusterEntry(name=name, source=path, values=values, client_properties=props)


def _parse_section(cls: type[Any], keys: Mapping[str, Callable[[Path], Callable[[Any], Any]]],
                   body: Any, path: Path, section: str) -> Any:
    body = _table(body, path, section)
    _check_keys(body, set(keys), path, section)
    return cls(**{k: _convert(keys[k](path), v, path, f"{section}.{k}") for k, v in body.items()})


def _check_keys(body: Mapping[str, Any], known: set[str], path: Path, section: str) -> None:
    for key in body:
        if key not in known:
            where = f"{section}.{key}" if section else key
            raise ConfigError(f"{path}: {where}: unknown key; known keys here: {', '.join(sorted(known))}")


def _table(value: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {where}: expected a table, got {type(value).__name__}")
    return value


def _convert(converter: Callable[[Any], Any], raw: Any, path: Path, where: str) -> Any:
    try:
        return converter(raw)
    except ValueError as exc:
        raise ConfigError(f"{path}: {where}: {exc}") from None


# -- value converters: each raises ValueError("expected ..., got ...") -------------------------

def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _str(_: Path) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        if not isinstance(v, str) or not v:
            raise ValueError(f"expected a non-empty string, got {_describe(v)}")
        return v
    return conv


def _bool(_: Path) -> Callable[[Any], bool]:
    def conv(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ValueError(f"expected true or false, got {_describe(v)}")
        return v
    return conv


def _number(minimum: float, integer: bool = False) -> Callable[[Path], Callable[[Any], Any]]:
    def make(_: Path) -> Callable[[Any], Any]:
        def conv(v: Any) -> Any:
            ok_types = (int,) if integer else (int, float)
            if isinstance(v, bool) or not isinstance(v, ok_types) or not (math.isfinite(v) and v >= minimum):
                kind = "a whole number" if integer else "a number"
                raise ValueError(f"expected {kind} >= {minimum:g}, got {_describe(v)}")
            return v
        return conv
    return make


def _choice(options: tuple[str, ...], fold: Callable[[str], str]) -> Callable[[Path], Callable[[Any], str]]:
    def make(_: Path) -> Callable[[Any], str]:
        def conv(v: Any) -> str:
            if not isinstance(v, str) or fold(v) not in options:
                raise ValueError(f"expected one of {', '.join(options)}, got {_describe(v)}")
            return fold(v)
        return conv
    return make


def _path(config_path: Path) -> Callable[[Any], Path]:
    def conv(v: Any) -> Path:
        p = Path(_str(config_path)(v)).expanduser()
        return p if p.is_absolute() else (config_path.parent / p)
    return conv


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
OBJECT_SCHEMES = ("s3", "az", "gs")
OBJECT_STORE_KEYS: dict[str, type | tuple[type, ...]] = {
    "endpoint": str, "region": str, "allow_http": bool, "virtual_hosted_style": bool, "account_name": str,
    "retry_seconds": (int, float)}


def url_scheme(text: str) -> str | None:
    """The ``scheme`` of ``scheme://...``, lower-cased; None for a path."""
    found = _URL.match(text.strip())
    return found.group(1).lower() if found else None


def unsupported_backup_url(text: str) -> str | None:
    """Why ``text`` cannot be a backup location (a URL other than s3://, az://, gs://: ``Path`` would make
    ``x://b/dr`` a local folder ``x:/b/dr``, and the user would believe the backup is elsewhere), or None."""
    scheme = url_scheme(text)
    if scheme is None or scheme in OBJECT_SCHEMES:
        return None
    return (f"'{text}': {scheme}:// is not a storage backups can be kept in; use a local directory or "
            f"{', '.join(s + '://' for s in OBJECT_SCHEMES)}")


def _backup_dir(config_path: Path) -> Callable[[Any], Path | str]:
    """Like :func:`_path`, but an object-store URL stays a URL and any other URL is refused."""
    def conv(v: Any) -> Path | str:
        text = _str(config_path)(v)
        problem = unsupported_backup_url(text)
        if problem is not None:
            raise ValueError(problem)
        return text if url_scheme(text) else _path(config_path)(v)
    return conv


def _object_store(_: Path) -> Callable[[Any], dict[str, Any]]:
    """``[backup.object_store]``: where and how to reach the store; credentials never (environment only)."""
    def conv(v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise ValueError(f"expected a table, got {_describe(v)}")
        for key, value in v.items():
            kind = OBJECT_STORE_KEYS.get(key)
            if kind is None:
                secret = any(w in key for w in ("secret", "key", "token", "sas", "password"))
                hint = ("secrets are not read from the config: use the environment (AWS_ACCESS_KEY_ID / "
                        "AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_ACCOUNT_KEY, GOOGLE_APPLICATION_CREDENTIALS)"
                        if secret else f"known keys: {', '.join(sorted(OBJECT_STORE_KEYS))}")
                raise ValueError(f"{key}: unknown key; {hint}")
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                expected = "true or false" if kind is bool else "a string" if kind is str else "a number"
                raise ValueError(f"{key}: expected {expected}, got {_describe(value)}")
        return dict(v)
    return conv


def _servers(_: Path) -> Callable[[Any], tuple[str, ...]]:
    def conv(v: Any) -> tuple[str, ...]:
        items = v.split(",") if isinstance(v, str) else v
        if not isinstance(items, list | tuple) or not items:
            raise ValueError(f"expected \"host:port,host:port\" or a list, got {_describe(v)}")
        servers = tuple(s.strip() for s in items if isinstance(s, str))
        if len(servers) != len(items) or not all(_BARE_ADDRESS.match(s) for s in servers):
            raise ValueError(f"expected host:port entries, got {v!r}")
        return servers
    return conv


def _read_secret(path: Path, where: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path} ({exc.strerror}); check the path") from None


def _xdg(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / default) / "kafka-sre-tui"


_CLUSTER_KEYS: dict[str, Callable[[Path], Callable[[Any], Any]]] = {
    "bootstrap_servers": _servers,
    "security_protocol": _choice(SECURITY_PROTOCOLS, str.upper),
    "sasl_mechanism": _choice(SASL_MECHANISMS, str.upper),
    "username": _str,
    "password_env": _str,
    "password_file": _path,
    "ssl_ca_file": _path,
    "ssl_cert_file": _path,
    "ssl_key_file": _path,
    "ssl_check_hostname": _bool,
    "oauth_token_command": _str,
    "oauth_token_file": _path,
    "aws_msk_iam_region": _str,
    "read_only": _bool,
    "request_timeout_seconds": _number(0.1),
    "retry_seconds": _number(0),
    "color": _str,
    "client_properties": _path,
}
_TOKEN_KEYS = ("oauth_token_command", "oauth_token_file", "aws_msk_iam_region")
# Secrets are read inline only from a client.properties file, which SREs already keep that way.
_PROPERTIES_ONLY_KEYS: dict[str, Callable[[Path], Callable[[Any], Any]]] = {
    "password": _str,
    "ssl_key_password": _str,
}
_BACKUP_KEYS = {
    "base_path": _backup_dir,
    "object_store": _object_store,
    "compression": _choice(COMPRESSIONS, str.lower),
    "max_concurrent_backups": _number(1, integer=True),
    "retention_days": _number(0, integer=True),
    "max_backup_size_gb": _number(0),
    "encryption_key_file": _path,
    "encryption_key_env": _str,
}
_UI_KEYS = {
    "refresh_seconds": _number(MIN_REFRESH_SECONDS),
    "theme": _str,
}


def _urls(_: Path) -> Callable[[Any], tuple[str, ...]]:
    def conv(v: Any) -> tuple[str, ...]:
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(u, str) and u.startswith(("http://", "https://"))
                                                   for u in items):
            raise ValueError(f"expected http(s) URLs, got {_describe(v)}")
        return tuple(items)
    return conv


_NOTIFY_KEYS = {
    "webhooks": _urls,
    "slack_webhooks": _urls,
    "timeout_seconds": _number(0.1),
    "retries": _number(0, integer=True),
    "migration_lag_records": _number(0, integer=True),
    "migration_lag_seconds": _number(0),
}
