"""Storing scanned documents outside static/, under random names, typed by content."""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from market.accounts.policies import sniff_scan_type
from market.errors import ValidationFailed
from market.uow import after_rollback, in_transaction


def store_scan(stream, field: str = "scan") -> tuple[str, str]:
    """Validate and store an uploaded scan; return (stored name, MIME type).

    Called inside the use case's transaction: if it rolls back, the file is removed again, so a
    refused use case leaves nothing on disk.
    """
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    data = stream.read(limit + 1)
    if not data:
        raise ValidationFailed(_("The file is empty."), field=field)
    if len(data) > limit:
        raise ValidationFailed(_("The file is larger than %(size)s.", size=size_label(limit)),
                               field=field)
    mime = sniff_scan_type(data[:16])
    if mime is None:
        raise ValidationFailed(_("Only PDF, JPEG or PNG files are accepted (judged by content)."),
                               field=field)
    name = secrets.token_hex(16) + {"application/pdf": ".pdf", "image/jpeg": ".jpg",
                                    "image/png": ".png"}[mime]
    folder = Path(current_app.config["UPLOAD_DIR"])
    write_file(folder / name, data)
    return name, mime


def write_file(path: Path, data: bytes) -> None:
    """Write a file that belongs to the current transaction: removed again if it rolls back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if in_transaction():  # outside one (a check on its own) there is nothing to roll back
        after_rollback(lambda: path.unlink(missing_ok=True))
    path.write_bytes(data)


def size_label(n: int) -> str:
    """A byte count for people: 10 MB, 512 KB, 1000 bytes."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


def scan_path(name: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / name
