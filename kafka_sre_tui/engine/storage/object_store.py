"""The object-store side of the storage seam (S3 and S3-compatible, Azure Blob, GCS), through obstore.

A key prefix stands for a directory. Small files (plan, state, manifest) are single PUTs, atomic on every
store. A segment is streamed as a multipart upload from a bounded buffer (no temporary file); it becomes
visible only when the upload completes, and one that fails is aborted. Reads are ranged (a buffered
reader fetches :data:`READ_BUFFER` bytes per request). Credentials come from the environment as each
cloud's tools expect (``AWS_*``, ``AZURE_STORAGE_*``, ``GOOGLE_APPLICATION_CREDENTIALS``); the config holds
only where and how to connect. Errors name the store, the key and what to do, never a secret.

Object stores have no locks that die with their holder: here :meth:`ObjectLocation.try_lock` always
succeeds and ``max_concurrent_backups`` is not enforced (each backup writes only under its own id).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.storage.store import StoreError

WRITE_BUFFER = 8 << 20  # one multipart part; at most WRITE_CONCURRENCY + 1 of them in memory per segment
WRITE_CONCURRENCY = 2
READ_BUFFER = 4 << 20
DELETE_BATCH = 500


@dataclass(frozen=True)
class _Root:
    url: str  # scheme://bucket/prefix, as the user wrote it (no trailing /)
    bucket: str
    prefix: str | None
    options: dict[str, Any]
    store: Any  # an obstore store rooted at the prefix
    endpoint: str | None


def object_location(url: str, options: dict[str, Any]) -> ObjectLocation:
    """The location ``scheme://bucket/prefix`` with ``[backup.object_store]`` options."""
    scheme, rest = url.split("://", 1)
    scheme = scheme.lower()
    bucket, _, path = rest.strip("/").partition("/")
    if not bucket:
        raise ConfigError(f"'{url}' names no bucket: write {scheme}://BUCKET/PREFIX")
    import obstore.store

    prefix = path.strip("/") or None
    endpoint = options.get("endpoint")
    client: Any = {"allow_http": True} if options.get("allow_http") else {}
    config: Any = {}
    store: Any
    retry: Any = {"max_retries": 10, "retry_timeout": timedelta(seconds=float(options.get("retry_seconds", 60)))}
    try:
        if scheme == "s3":
            config = {k: v for k, v in (("endpoint", endpoint), ("region", options.get("region"))) if v}
            if "virtual_hosted_style" in options:
                config["virtual_hosted_style_request"] = options["virtual_hosted_style"]
            store = obstore.store.S3Store(bucket, prefix=prefix, config=config, client_options=client,
                                          retry_config=retry, credential_provider=_boto3_credentials())
        elif scheme == "az":
            config = {k: v for k, v in (("endpoint", endpoint), ("account_name", options.get("account_name"))) if v}
            store = obstore.store.AzureStore(bucket, prefix=prefix, config=config, client_options=client,
                                             retry_config=retry)
        else:
            store = obstore.store.GCSStore(bucket, prefix=prefix, client_options=client, retry_config=retry)
    except Exception as exc:  # obstore's configuration errors name what is missing
        raise ConfigError(f"cannot open {url}: {_first_line(exc)}; see the README's Backups section") from None
    root = _Root(f"{scheme}://{rest.strip('/')}", bucket, prefix, options, store, endpoint)
    return ObjectLocation(root, "")


def _boto3_credentials() -> Any:
    """boto3's credential chain (``~/.aws`` profiles, SSO) when boto3 is installed and no ``AWS_ACCESS_KEY_ID``
    is set; else None and obstore reads the environment and instance roles itself."""
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return None
    try:
        import boto3  # type: ignore[import-not-found, unused-ignore]
        from obstore.auth.boto3 import Boto3CredentialProvider
    except ImportError:
        return None
    session = boto3.Session()
    return Boto3CredentialProvider(session) if session.get_credentials() is not None else None


class ObjectLocation:
    """A key (or key prefix) under a store's root."""

    def __init__(self, root: _Root, key: str, known_dir: bool = False) -> None:
        self.root, self.key, self._known_dir = root, key, known_dir

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1] if self.key else self.root.url.rsplit("/", 1)[-1]

    def __truediv__(self, part: str) -> Self:
        part = str(part).strip("/")
        return type(self)(self.root, f"{self.key}/{part}" if self.key else part)

    def __str__(self) -> str:
        return f"{self.root.url}/{self.key}" if self.key else self.root.url

    def __repr__(self) -> str:
        return f"ObjectLocation({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectLocation) and (other.root.url, other.key) == (self.root.url, self.key)

    def __hash__(self) -> int:
        return hash((self.root.url, self.key))

    def resolve(self) -> Self:
        return self

    def exists(self) -> bool:
        return self.is_file() or self.is_dir()

    def is_file(self) -> bool:
        if not self.key or self._known_dir:
            return False
        try:
            self._head()
        except FileNotFoundError:
            return False
        return True

    def is_dir(self) -> bool:
        if self._known_dir:
            return True
        listed = self._list_level()
        return bool(listed["common_prefixes"] or listed["objects"])

    def iterdir(self) -> Iterator[Self]:
        listed = self._list_level()
        start = len(self.key) + 1 if self.key else 0
        for prefix in sorted(listed["common_prefixes"]):
            yield type(self)(self.root, prefix.rstrip("/"), known_dir=True)
        for meta in listed["objects"]:
            if meta["path"][start:]:
                yield type(self)(self.root, meta["path"])

    def read_bytes(self) -> bytes:
        import obstore

        with self._errors("read"):
            return bytes(obstore.get(self.root.store, self.key).bytes())

    def unlink(self, missing_ok: bool = False) -> None:
        import obstore

        if not missing_ok and not self.is_file():
            raise FileNotFoundError(str(self))
        with self._errors("delete"):
            obstore.delete(self.root.store, self.key)

    def size(self) -> int:
        return int(self._head()["size"])

    def write_atomic(self, data: bytes) -> None:
        import obstore

        with self._errors("write"):
            obstore.put(self.root.store, self.key, data, use_multipart=False)

    def read_versioned(self) -> tuple[bytes, str] | None:
        import obstore

        try:
            with self._errors("read"):
                got = obstore.get(self.root.store, self.key)
                return bytes(got.bytes()), str(got.meta["e_tag"])
        except FileNotFoundError:
            return None

    def write_if(self, data: bytes, version: str | None) -> str | None:
        """A conditional PUT: ``If-None-Match: *`` to create, ``If-Match: ETAG`` to replace. A store that
        ignores these headers would make this an ordinary PUT (S3 honours both since 2024; s3proxy does)."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        mode: Any = "create" if version is None else {"e_tag": version}
        with self._errors("write"):
            try:
                put = obstore.put(self.root.store, self.key, data, use_multipart=False, mode=mode)
            except (AlreadyExistsError, PreconditionError):
                return None
        return str(put["e_tag"])

    @contextlib.contextmanager
    def open_read(self) -> Iterator[_RangeReader]:
        import obstore

        with self._errors("read"):
            handle = obstore.open_reader(self.root.store, self.key, buffer_size=READ_BUFFER)
        reader = _RangeReader(handle, self)
        try:
            yield reader
        finally:
            handle.close()

    def create_segment(self) -> _UploadSink:
        import obstore

        with self._errors("write"):
            writer = obstore.open_writer(self.root.store, self.key, buffer_size=WRITE_BUFFER,
                                         max_concurrency=WRITE_CONCURRENCY)
        return _UploadSink(writer, self)

    def make_dirs(self) -> None:
        return None  # a prefix exists once an object is written under it

    def files(self) -> Iterator[tuple[str, int]]:
        import obstore

        start = len(self.key) + 1 if self.key else 0
        with self._errors("list"):
            for chunk in obstore.list(self.root.store, self.key or None, chunk_size=1000):
                for meta in chunk:
                    yield meta["path"][start:], int(meta["size"])

    def remove_tree(self) -> None:
        import obstore

        keys = [f"{self.key}/{name}" if self.key else name for name, _ in self.files()]
        with self._errors("delete"):
            for i in range(0, len(keys), DELETE_BATCH):
                obstore.delete(self.root.store, keys[i:i + DELETE_BATCH])

    def discard_if_empty(self) -> None:
        return None

    def discard_unfinished_uploads(self) -> list[str]:
        """On S3, abort the multipart uploads a killed backup left under this prefix (best effort: without
        credentials in the environment, or without the right to list uploads, a lifecycle rule must do it).
        Azure and GCS drop uncommitted uploads by themselves after about a week."""
        if not self.root.url.startswith("s3://"):
            return []
        from xml.etree.ElementTree import ParseError

        from kafka_sre_tui.engine.storage.s3_uploads import abort_open_uploads

        prefix = "/".join(p for p in (self.root.prefix, self.key) if p) + "/"
        try:
            return abort_open_uploads(self.root.bucket, prefix, self.root.options)
        except (OSError, ValueError, ParseError):
            return []

    def contains(self, other: object) -> bool:
        return (isinstance(other, ObjectLocation) and other.root.url == self.root.url
                and (not self.key or other.key.startswith(self.key + "/")))

    def try_lock(self) -> _NoLock:
        return _NoLock()

    def is_locked(self) -> bool:
        return False

    def local_dir(self) -> Path | None:
        return None

    def _head(self) -> dict[str, Any]:
        import obstore

        with self._errors("read"):
            return dict(obstore.head(self.root.store, self.key))

    def _list_level(self) -> dict[str, Any]:
        import obstore

        with self._errors("list"):
            return dict(obstore.list_with_delimiter(self.root.store, self.key or None))

    @contextlib.contextmanager
    def _errors(self, verb: str) -> Iterator[None]:
        """obstore's errors as one line naming the store, the key and what to do; not-found of a key stays
        FileNotFoundError (callers test for absence), a missing bucket does not."""
        try:
            yield
        except FileNotFoundError as exc:
            if "NoSuchBucket" in str(exc) or "ContainerNotFound" in str(exc):
                raise translate(exc, verb, self) from None
            raise FileNotFoundError(f"{self} does not exist") from None
        except Exception as exc:
            if type(exc).__module__.startswith("obstore") or isinstance(exc, OSError | ValueError):
                raise translate(exc, verb, self) from None
            raise


_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")


def translate(exc: BaseException, verb: str, where: ObjectLocation) -> StoreError:
    text = str(exc)
    code = _CODE.search(text)
    found = code.group(1) if code else ""
    name = type(exc).__name__
    what = f"cannot {verb} {where}"
    bucket = where.root.bucket
    kind = "container" if where.root.url.startswith("az://") else "bucket"
    if found in ("NoSuchBucket", "ContainerNotFound") or "ContainerNotFound" in text:
        return StoreError(f"{what}: {kind} '{bucket}' does not exist; create it or fix the URL")
    if found in ("AuthorizationHeaderMalformed", "PermanentRedirect", "IncorrectEndpoint") or "region" in found.lower():
        return StoreError(f"{what}: {kind} '{bucket}' is in another region ({found}); set AWS_REGION or "
                          "[backup.object_store] region to the bucket's region")
    if found in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthenticationFailed") or (
            "failed to authenticate" in text) or name in (
            "UnauthenticatedError",) or (name == "PermissionDeniedError" and not found):
        return StoreError(f"{what}: the credentials were refused ({found or name}); check AWS_ACCESS_KEY_ID / "
                          "AWS_SECRET_ACCESS_KEY (Azure: AZURE_STORAGE_ACCOUNT_KEY or a SAS) for this store")
    if found == "AccessDenied" or name == "PermissionDeniedError":
        return StoreError(f"{what}: access denied; grant these credentials read, write, list and delete on "
                          f"{kind} '{bucket}'")
    if "error sending request" in text or "Connect" in text or "connection" in text.lower() or "timed out" in text:
        # not retriable here: obstore already retried for [backup.object_store] retry_seconds
        return StoreError(f"{what}: the store at {where.root.endpoint or where.root.url} cannot be reached; check "
                          "that it is up and [backup.object_store] endpoint")
    return StoreError(f"{what}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for secret in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_KEY"):
        value = os.environ.get(secret)
        if value:
            line = line.replace(value, "***")
    return line[:300]


class _RangeReader:
    """obstore's buffered reader as the file handle verify and restore read through (bytes out)."""

    def __init__(self, handle: Any, where: ObjectLocation) -> None:
        self.handle, self.where = handle, where

    def read(self, size: int = -1, /) -> bytes:
        with self.where._errors("read"):
            return bytes(self.handle.read(size if size >= 0 else None))

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return int(self.handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self.handle.tell())

    def close(self) -> None:
        self.handle.close()


class _UploadSink:
    """A segment streamed as a multipart upload; visible only once :meth:`commit` completes it."""

    def __init__(self, writer: Any, where: ObjectLocation) -> None:
        self.writer, self.where = writer, where

    def write(self, data: bytes | memoryview) -> None:
        try:
            with self.where._errors("write"):
                self.writer.write(data)
        except BaseException:
            self.abort()
            raise

    def commit(self) -> None:
        try:
            with self.where._errors("write"):
                self.writer.close()
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the upload and the parts sent so far (obstore aborts an upload left on an exception)."""
        with contextlib.suppress(Exception):
            if not self.writer.closed():
                self.writer.__exit__(RuntimeError, RuntimeError("aborted"), None)


class _NoLock:
    def close(self) -> None:
        return None
