"""Where a redirect may go: only to a path on this site (no open redirects)."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_target(target: str | None, host_url: str | None = None) -> str | None:
    """`target` as a path on this site, or None when it could lead a browser elsewhere.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so "/\\evil.com" and
    "/\\t/evil.com" are as off-site as "//evil.com". An absolute URL on `host_url` (e.g. a Referer)
    is reduced to its path.
    """
    if not target:
        return None
    if host_url and target.startswith(host_url):
        target = "/" + target[len(host_url):]
    if any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
