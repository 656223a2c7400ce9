"""Storage URLs as the config holds them: :func:`redact_url` makes one safe to print.

It lives with the config (which owns the URL and prints it in ``scout status``) rather than
with the ledger, so the config never imports the ledger; the ledger re-exports it.
"""

from __future__ import annotations

__all__ = ["redact_url"]

#: query-string parameters that hold credentials (``?password=…`` is accepted by libpq)
_SECRET_PARAMS = ("password", "passwd", "pwd", "secret", "token", "sslpassword")


def redact_url(url: str) -> str:
    """The storage URL with any password — in the user-info part or in the query string —
    replaced by ``***`` (safe to print or log). The one redaction function of the package."""
    if url.startswith("journal://"):
        return url
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        query = {k: ("***" if k.lower() in _SECRET_PARAMS else v)
                 for k, v in parsed.query.items()}
        text = parsed.set(query=query).render_as_string(hide_password=True)
        return text.replace("%2A%2A%2A", "***")
    except Exception:  # an unparsable URL: show only its scheme
        return url.split("://", 1)[0] + "://***" if "://" in url else "***"
