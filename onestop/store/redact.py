"""Database URLs without their password, for messages and logs. No driver import."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# password=… in a URL query or in a libpq "key=value" connection string (quoted or not).
_KV = re.compile(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)")


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (user, host, port and database kept)."""
    if not url:
        return ""
    out = _KV.sub(lambda m: m.group(1) + MASK, url)
    if "://" not in out:
        return out
    try:
        parts = urlsplit(out)
    except ValueError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1" + MASK + "@", out)
    if parts.password is None:
        return out
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostinfo}"))


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with each given secret replaced by ``***`` (for driver messages that might echo it)."""
    for s in secrets:
        if s:
            text = text.replace(s, MASK)
    return text
