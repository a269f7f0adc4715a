"""One transaction per request: opened on first use, committed after the view when the response is a success
(or the view asked to keep its writes, as a failed login does), rolled back otherwise."""
from __future__ import annotations

from flask import Flask, g

from core import db
from core.errors import Conflict


def session():
    """The request's session (one transaction)."""
    if "db_transaction" not in g:
        g.db_transaction = db.get_database().transaction()
        g.db_session = g.db_transaction.__enter__()
    return g.db_session


def keep_writes() -> None:
    """Commit this request's writes even though its response is an error (e.g. a failed login attempt)."""
    g.db_keep_writes = True


def init_app(app: Flask) -> None:
    @app.after_request
    def commit(response):
        transaction = g.pop("db_transaction", None)
        if transaction is None:
            return response
        g.pop("db_session", None)
        if response.status_code < 400 or g.pop("db_keep_writes", False):
            try:
                transaction.__exit__(None, None, None)
            except Conflict as exc:
                from webapp.errors import error_response

                return error_response(exc, 409)
        else:
            _roll_back(transaction)
        return response

    @app.teardown_request
    def rollback(exc):
        transaction = g.pop("db_transaction", None)
        if transaction is not None:  # the view raised past the error handlers
            g.pop("db_session", None)
            _roll_back(transaction)


class _Rollback(Exception):
    pass


def _roll_back(transaction) -> None:
    try:
        transaction.__exit__(_Rollback, _Rollback(), None)
    except _Rollback:
        pass
