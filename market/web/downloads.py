"""Serving stored files: always as a download under a sanitised name, never rendered inline."""
from __future__ import annotations

import re
import unicodedata

from flask import send_file

# Control characters (CR, LF, NUL…), quotes, path separators and characters Windows refuses.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\'\\/:*?<>|;]')
MAX_NAME = 120


def safe_filename(name: str | None, default: str = "download") -> str:
    """A file name that is safe in a Content-Disposition header and on any disk."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    text = _UNSAFE.sub("_", text)
    text = " ".join(text.split()).strip(" .")
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 \
            else text[:MAX_NAME]
    return text or default


def send_attachment(path_or_file, *, mimetype: str | None, filename: str | None, **kwargs):
    """send_file as an attachment (Werkzeug adds RFC 5987 filename* for non-ASCII names)."""
    return send_file(path_or_file, mimetype=mimetype or "application/octet-stream",
                     as_attachment=True, download_name=safe_filename(filename), **kwargs)
