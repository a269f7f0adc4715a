"""Errors as pages for people and as JSON with stable codes for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.errors import Conflict, ErpError, InvalidInput, NotFound, PermissionDenied, RateLimited

#: HTTP status -> the stable error code the API returns
CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid_input",
         429: "rate_limited", 500: "internal_error"}


def status_of(exc: Exception) -> int:
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, RateLimited):
        return 429
    return 400


def error_response(exc: Exception, status: int | None = None):
    status = status or status_of(exc)
    message = str(exc).split("\n")[0]
    errors = getattr(exc, "errors", None) or {}
    if request.path.startswith("/api/"):
        body = {"error": {"code": CODES.get(status, "error"), "message": message}}
        if errors:
            body["error"]["fields"] = errors
        response = jsonify(body)
    else:
        response = render_template("error.html", status=status, message=message, errors=errors)
    response = _with_status(response, status)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _with_status(response, status):
    from flask import make_response

    response = make_response(response)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ErpError)
    def erp_error(exc):
        return error_response(exc)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(PermissionDenied(_("The form expired or did not come from this site. "
                                                 "Reload the page and try again.")), 400)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {401: _("Please log in."), 403: _("You do not have permission for this."),
                    404: _("Not found."), 405: _("Method not allowed."), 413: _("The upload is too large."),
                    500: _("Something went wrong on the server; the error was logged.")}
        return error_response(Exception(messages.get(exc.code, exc.description or exc.name)), exc.code)
