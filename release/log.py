"""logfmt step logs on stderr; stdout is kept for data."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from release.core.pattern import LazyPattern

_BARE = LazyPattern(r"^[^\s\"=]+$")  # compiled when the first line is logged

# Secrets registered at run time (tokens, passwords); never printed, whatever the caller passes.
_SECRETS: set[str] = set()


def register_secret(value: str | None) -> None:
    """Make `value` print as `***` in every later log line and error message."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


# Credentials inside URLs (`https://user:pass@host/`) and secret query parameters: tokens and
# passwords, and the credentials of presigned storage URLs that registries redirect blob reads
# to (S3's X-Amz-Signature/-Credential/-Security-Token, GCS's X-Goog-*, Azure SAS `sig`,
# CloudFront's Signature and Policy, OSS's and the legacy S3 form's access key ids).
# Compiled when first used: a run that logs nothing and fails nowhere (`extract-notes` printing
# its notes) never scrubs a line.
_URL_USERINFO = LazyPattern(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
_CREDENTIAL_PARAMS = (
    r"[a-z0-9_.-]*(?:signature|credential|token|secret|password|passwd|accesskeyid|accessid)"
    r"|(?:x-[a-z]+-)?(?:sig|key|apikey|api_key|pwd|policy|auth|authorization|code)"
)
_QUERY_SECRET = LazyPattern(rf"(?i)([?&;](?:{_CREDENTIAL_PARAMS})=)[^&#;\s\"'<>]+")


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every registered (and `extra`) secret replaced by `***`, and every URL
    scrubbed of its userinfo and secret query parameters."""
    for secret in sorted({*_SECRETS, *(s for s in extra if s)}, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_USERINFO.sub(r"\1***@", text)
    return _QUERY_SECRET.sub(r"\1***", text)


def _quote(value: object) -> str:
    text = "" if value is None else str(value)
    if isinstance(value, bool):
        text = str(value).lower()
    if text and _BARE.match(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def logfmt(**fields: object) -> str:
    """Render `fields` as one logfmt line (keys in the order given)."""
    return " ".join(f"{key}={_quote(value)}" for key, value in fields.items())


def step(name: str, /, stream: TextIO | None = None, **fields: object) -> None:
    """Print `step=<name> key=value ...` on stderr, secrets redacted."""
    line = redact(logfmt(step=name, **fields))
    print(line, file=stream or sys.stderr, flush=True)
