"""Credentials hidden from messages: :func:`redact`."""

from __future__ import annotations

import re

_HOST_AFTER = r"@(?=[\w.-]{1,255}(?:[:/\s'\"?#)\]]|$))"
_SCHEME = r"(?P<scheme>\b[A-Za-z][\w+.-]{0,30}://)"
# Every repetition is bounded, so that a long message cannot make a pattern
# try each start position against the rest of the text.
_CREDENTIAL_NAMES = (
    r"password|passwd|pwd|secret|secret_access_key|aws_secret_access_key|"
    r"client_secret|token|access_token|refresh_token|id_token|api_key|apikey|"
    r"access_key|account_key|sas_token|sig|signature"
)
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:secret@host, the secret holding anything ("/", "@", " ").
    (
        re.compile(
            rf"{_SCHEME}[^\s/@:]{{0,256}}:(?:(?!\w{{1,30}}://).){{0,512}}{_HOST_AFTER}"
        ),
        r"\g<scheme>***@",
    ),
    # scheme://user@host
    (re.compile(rf"{_SCHEME}[^/\s@]{{1,256}}@"), r"\g<scheme>***@"),
    # user:secret@host, without a scheme.
    (
        re.compile(
            r"(?<![\w/:.*])[\w.+-]{1,128}:(?!//)[^\s@]{1,256}?(?:@[^\s@]{1,256}?)"
            rf"{{0,4}}?{_HOST_AFTER}"
        ),
        "***@",
    ),
    # password=..., "token": "...", ?sig=... (query strings, dict reprs, env)
    (
        re.compile(
            rf"(?i)(?P<key>\b(?:{_CREDENTIAL_NAMES})\b['\"]?\s*[=:]\s*['\"]?)"
            r"[^\s&'\",;}]+"
        ),
        r"\g<key>***",
    ),
    (re.compile(r"(?i)\b(?P<key>bearer\s+)[\w.~+/-]+=*"), r"\g<key>***"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "***"),
)


def redact(text: str) -> str:
    """Hide credentials in ``text``: those of URLs and the common shapes.

    ``scheme://user:secret@host`` (the secret may hold ``/``, ``@`` or
    spaces), ``user:secret@host`` without a scheme, ``password=...``,
    ``"token": "..."`` and query string secrets (``?sig=...``), bearer
    tokens and AWS access key ids.

    Args:
        text: A message or traceback.

    Returns:
        The text with ``***`` in place of each secret.
    """
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text
