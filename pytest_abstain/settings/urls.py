"""Endpoint base URLs: what makes one unusable, and how to quote one in a message without
its credentials or query."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def url_problem(url: str) -> str | None:
    """What makes `url` unusable as an endpoint base URL, or None."""
    if not url:
        return "is empty"
    if any(c.isspace() or not c.isprintable() for c in url):
        # A URL pasted into a CI secret often ends in a newline, which no HTTP library takes.
        return "contains a space or a control character"
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ of an IPv6 address
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    try:
        port = parts.port
    except ValueError:  # out of range, or not a number
        port = 0
    if port == 0:
        return "has a port that is not a number from 1 to 65535"
    return None


def quoted_url(url: str) -> str:
    """`url` quoted for a message, even one that does not parse: the user:password before the
    host becomes ***, and the query (which may hold a key) and the fragment are left out."""
    head = re.split(r"[?#]", url, maxsplit=1)[0]
    cut = url[len(head)] + "..." if len(head) < len(url) else ""
    return repr(re.sub(r"^([^:/]+://)?.*@", r"\1***@", head, flags=re.DOTALL) + cut)


def openai_base_url_problem(value: str) -> str | None:
    """The usage error for OPENAI_BASE_URL, when the client will use it, or None."""
    problem = url_problem(value)
    if problem is None:
        return None
    return (
        f"OPENAI_BASE_URL: {problem}, got {quoted_url(value)} "
        "(the endpoint, as --abstain-base-url is not given)"
    )
