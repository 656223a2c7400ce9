"""Storage URLs as the config holds them: :func:`redact_url` makes one safe to print,
:func:`check_scheme` refuses the kinds the ledger does not support (MySQL among them).

It lives with the config (which owns the URL and prints it in ``scout status``) rather than
with the ledger, so the config never imports the ledger; the ledger re-exports it.
"""

from __future__ import annotations

__all__ = ["SCHEMES", "check_scheme", "redact_url"]

#: storage URL schemes the ledger supports: SQLite, PostgreSQL and journal files
SCHEMES = ("sqlite", "postgresql", "journal")

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


def check_scheme(url: str) -> None:
    """Refuse a storage URL the ledger does not support, saying what to use instead."""
    scheme = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else url
    if scheme in ("mysql", "mariadb"):
        raise ValueError(f"storage URL {redact_url(url)!r}: MySQL/MariaDB is not supported (the "
                         f"ledger's atomic work queue is tested on SQLite, PostgreSQL and "
                         f"journal files); use postgresql://user@host/db or journal:///path.log")
    if scheme not in SCHEMES:
        raise ValueError(f"storage URL {redact_url(url)!r}: unsupported scheme {scheme!r}; use "
                         f"sqlite:///file.db, postgresql://user@host/db or journal:///path.log")
