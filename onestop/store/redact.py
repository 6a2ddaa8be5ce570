"""Database URLs without their password, for messages and logs. No driver import."""

from __future__ import annotations

import re

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
    # Not urlsplit: a password holding an unencoded '@' or '/', or a broken IPv6 bracket, would be
    # split wrongly or refused, and printed. The user info ends at the last '@' before the query.
    scheme, _, rest = out.partition("://")
    q = rest.find("?")
    at = (rest if q < 0 else rest[:q]).rfind("@")
    if at <= 0 or ":" not in rest[:at]:
        return out
    user = rest[:at].split(":", 1)[0]
    return f"{scheme}://{user}:{MASK}{rest[at:]}"


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with each given secret replaced by ``***`` (for driver messages that might echo it)."""
    for s in secrets:
        if s:
            text = text.replace(s, MASK)
    return text
