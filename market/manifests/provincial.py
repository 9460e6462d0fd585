"""The provincial solid-waste information system, behind one small interface (DESIGN.md §4 rule 9).

    gateway().submit(report_key, payload) -> provincial number

`file` (default) writes one JSON document per event into PROVINCIAL_DIR, the format documented in
docs/provincial.md; `http` POSTs the same document to PROVINCIAL_URL. Both are idempotent per
report key: sending a report again (a retry after a timeout) never files it twice.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from flask import current_app

FORMAT_VERSION = 1


class ProvincialError(Exception):
    """The provincial system did not take the report; the job retries it."""


class Gateway(Protocol):
    def submit(self, report_key: str, payload: dict) -> str | None: ...


def document(report_key: str, payload: dict) -> dict:
    return {"format": "hazex-manifest-event", "version": FORMAT_VERSION, "report_key": report_key,
            **payload}


class FileGateway:
    """One JSON file per event, written atomically; the file name is the report key."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def submit(self, report_key: str, payload: dict) -> str | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{report_key}.json"
        if not target.exists():
            tmp = self.folder / f".{report_key}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(document(report_key, payload), ensure_ascii=False,
                                      indent=2, sort_keys=True), encoding="utf-8")
            os.replace(tmp, target)
        # The file drop gives no official number; the manifest's own number stands in.
        return payload["manifest"]["number"]


class HttpGateway:
    """POST {url}/manifest-events with the document; the answer names the provincial number."""

    def __init__(self, url: str, token: str | None, timeout: float):
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def submit(self, report_key: str, payload: dict) -> str | None:
        body = json.dumps(document(report_key, payload), ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(f"{self.url}/manifest-events", data=body, method="POST")
        req.add_header("Content-Type", "application/json; charset=utf-8")
        req.add_header("Idempotency-Key", report_key)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                answer = json.loads(resp.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as exc:
            raise ProvincialError(f"HTTP {exc.code} from the provincial system") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ProvincialError(f"provincial system unreachable: {exc}") from exc
        number = answer.get("provincial_number")
        if not isinstance(number, str) or not number:
            raise ProvincialError("the provincial system answered without a provincial_number")
        return number[:60]


def gateway() -> Gateway:
    cfg = current_app.config
    if cfg["PROVINCIAL_GATEWAY"] == "http":
        return HttpGateway(cfg["PROVINCIAL_URL"], cfg.get("PROVINCIAL_TOKEN"),
                           cfg["PROVINCIAL_TIMEOUT"])
    return FileGateway(cfg["PROVINCIAL_DIR"])
