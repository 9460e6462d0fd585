"""Domain errors and HTTP errors mapped to responses in one place, for HTML and JSON alike."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, jsonify, render_template, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from market.errors import DomainError
from market.web.limiter import retry_after_seconds

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "permission_denied", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "validation_failed",
               429: "rate_limited", 500: "server_error", 503: "unavailable"}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str, field: str | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if field:
            body["error"]["field"] = field
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, field=field), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.field)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_response(400, "csrf_failed",
                              _("The form expired or was not sent from this site; reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            401: _("Please log in."),
            403: _("You may not do this."),
            404: _("Not found."),
            413: _("The upload is too large."),
            429: _("Too many attempts; wait a minute and try again."),
        }
        status = exc.code or 500
        if status == 429 and (wait := retry_after_seconds()):
            messages[429] = _("Too many attempts; try again in %(wait)s.",
                              wait=format_timedelta(timedelta(seconds=wait), threshold=1.1))
        return error_response(status, _HTTP_CODES.get(status, "error"),
                              messages.get(status, exc.description or exc.name))
