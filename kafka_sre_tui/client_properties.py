"""Java-style ``client.properties`` files, as SREs already keep them for Kafka's own tools.

Only the connection keys are read; tuning keys (``acks``, ``client.id``, ...) mean nothing to us
and are ignored. A security setting we cannot honour (a JKS store, Kerberos) is an error, never
silently dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from kafka_sre_tui.engine.errors import ConfigError

_JAAS_OPTION = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Java's only line terminators (not \u2028, \x85, ...)
_BLANKS = " \t\f"  # Java's only white space here (not \xa0)


def parse_properties(text: str) -> dict[str, str]:
    """Parse the java.util.Properties line format: ``key=value``, ``key: value``, ``key value``,
    ``#``/``!`` comments, backslash line continuations and escapes."""
    props: dict[str, str] = {}
    logical = ""
    for raw in _LINE_BREAK.split(text):
        line = raw.lstrip(_BLANKS)
        if not logical and (not line or line[0] in "#!"):
            continue
        if _ends_with_continuation(line):
            logical += line[:-1]
            continue
        logical += line
        key, value = _split_key_value(logical)
        props[_unescape(key)] = _unescape(value)
        logical = ""
    if logical:
        key, value = _split_key_value(logical)
        props[_unescape(key)] = _unescape(value)
    return props


def _ends_with_continuation(line: str) -> bool:
    backslashes = len(line) - len(line.rstrip("\\"))
    return backslashes % 2 == 1


def _split_key_value(line: str) -> tuple[str, str]:
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=:" or ch in _BLANKS:
            key = line[:i]
            rest = line[i:].lstrip(_BLANKS)
            if rest[:1] in ("=", ":") and ch in _BLANKS:
                rest = rest[1:].lstrip(_BLANKS)
            elif ch in "=:":
                rest = line[i + 1:].lstrip(_BLANKS)
            return key, rest
        i += 1
    return line, ""


def _unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(nxt, nxt))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def cluster_keys_from_properties(path: Path, where: str) -> dict[str, object]:
    """Translate a client.properties file into this project's cluster keys; ``where`` names the
    config key that points at the file, for errors."""
    try:
        props = parse_properties(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path} ({exc.strerror}); check the path") from None
    keys: dict[str, object] = {}
    if "bootstrap.servers" in props:
        keys["bootstrap_servers"] = props["bootstrap.servers"]
    if "security.protocol" in props:
        keys["security_protocol"] = props["security.protocol"].upper()
    if "sasl.mechanism" in props:
        keys["sasl_mechanism"] = props["sasl.mechanism"].upper()
    if "sasl.jaas.config" in props:
        options = dict(_JAAS_OPTION.findall(props["sasl.jaas.config"]))
        if "username" in options:
            keys["username"] = options["username"]
        if "password" in options:
            keys["password"] = options["password"]
    for store, target in (("truststore", "ssl_ca_file"), ("keystore", "ssl_cert_file")):
        location = props.get(f"ssl.{store}.location")
        if not location:
            continue
        kind = props.get(f"ssl.{store}.type", "JKS").upper()
        if kind != "PEM":
            raise ConfigError(
                f"{path}: ssl.{store}.type: {kind} stores are not supported; "
                f"convert to PEM (keytool -exportcert -rfc / openssl pkcs12) and set ssl.{store}.type=PEM")
        keys[target] = location
        if store == "keystore":
            keys["ssl_key_file"] = location  # a PEM keystore holds the key and its chain
    if "ssl.key.password" in props:
        keys["ssl_key_password"] = props["ssl.key.password"]
    if props.get("ssl.endpoint.identification.algorithm", "https") == "":
        keys["ssl_check_hostname"] = False
    return keys
