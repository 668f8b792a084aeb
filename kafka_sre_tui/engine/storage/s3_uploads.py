"""Multipart uploads a killed backup left open on S3: listed and aborted when the backup resumes or ends.

A process killed with ``kill -9`` cannot abort the segment it was uploading; S3 keeps (and bills) the
parts until someone aborts the upload, and obstore has no call to list uploads. These two requests
(ListMultipartUploads, AbortMultipartUpload) are signed here with AWS Signature V4 from the standard
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``; without them (instance roles,
profiles) nothing is cleaned and a bucket lifecycle rule has to do it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from xml.etree import ElementTree

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def abort_open_uploads(bucket: str, prefix: str, options: dict[str, object]) -> list[str]:
    """Abort every multipart upload under ``prefix``; the keys they were for. Nothing without credentials
    in the environment."""
    access, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not access or not secret:
        return []
    region = str(options.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                 or "us-east-1")
    endpoint = str(options.get("endpoint") or f"https://s3.{region}.amazonaws.com").rstrip("/")
    if options.get("virtual_hosted_style"):
        scheme, host = endpoint.split("://", 1)
        base = f"{scheme}://{bucket}.{host}"
    else:
        base = f"{endpoint}/{bucket}"
    signer = _Signer(access, secret, os.environ.get("AWS_SESSION_TOKEN"), region)
    listing = signer.call("GET", f"{base}?{urlencode({'uploads': '', 'prefix': prefix})}")
    aborted = []
    for upload in ElementTree.fromstring(listing).iter(f"{_S3_NS}Upload"):
        key, upload_id = upload.findtext(f"{_S3_NS}Key"), upload.findtext(f"{_S3_NS}UploadId")
        if key and upload_id:
            signer.call("DELETE", f"{base}/{quote(key, safe='/-_.~')}?{urlencode({'uploadId': upload_id})}")
            aborted.append(key)
    return aborted


class _Signer:
    def __init__(self, access: str, secret: str, token: str | None, region: str) -> None:
        self.access, self.secret, self.token, self.region = access, secret, token, region

    def call(self, method: str, url: str) -> bytes:
        request = urllib.request.Request(url, method=method, headers=self.headers(method, url))
        with urllib.request.urlopen(request, timeout=30) as answer:
            return bytes(answer.read())

    def headers(self, method: str, url: str, now: datetime | None = None) -> dict[str, str]:
        parts = urlsplit(url)
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        headers = {"host": parts.netloc, "x-amz-content-sha256": _EMPTY_SHA256, "x-amz-date": stamp}
        if self.token:
            headers["x-amz-security-token"] = self.token
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                         for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
        names = ";".join(sorted(headers))
        canonical = "\n".join([method, quote(parts.path or "/", safe="/-_.~%"), query,
                               "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), names, _EMPTY_SHA256])
        scope = f"{stamp[:8]}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = f"AWS4{self.secret}".encode()
        for part in (stamp[:8], self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access}/{scope}, SignedHeaders={names}, "
                                    f"Signature={signature}")
        return headers
