"""The web app: the task inbox, forms, start and instance pages, administration and the JSON API.

`create_app(config)` is the only entry point; nothing outside this package imports it except `erp serve` and
the tests.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import db
from core.settings import load_settings

DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # a working day
    # the session cookie is sent only when the session changed: a background request (the modeler's lint, a
    # syntax check) answered after a page's own request must not put back an older session over it (a flashed
    # message lost, a language choice undone). Activity still renews the cookie (webapp.security.SEEN_EVERY)
    "SESSION_REFRESH_EACH_REQUEST": False,
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,  # uploads are capped at 10 MB, plus the form around them
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "INBOX_PAGE_SIZE": 25,
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.update(DEFAULTS)
    app.config["SECRET_KEY"] = os.environ.get("ERP_SECRET_KEY") or _instance_secret(app)
    # Secure cookies unless explicitly serving plain HTTP (the local demo and the tests do).
    secure = os.environ.get("ERP_INSECURE_COOKIES", "") not in ("1", "true", "yes")
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config.update(config or {})
    if app.config.get("DATABASE_URL"):
        db.configure(app.config["DATABASE_URL"])
    # The engine (tests hand in their own); otherwise the product's composition root builds it on first use.
    app.extensions["erp.engine"] = app.config.get("ENGINE")

    from webapp import access_log, assets, errors, i18n, navigation, requestdb, security, security_headers

    _server_timing(app)  # first: its after_request runs last, so the commit is included
    requestdb.init_app(app)
    security.init_app(app)
    access_log.init_app(app)  # names the acting user for the audit trail
    i18n.init_app(app)
    errors.init_app(app)
    assets.init_app(app)
    navigation.init_app(app)
    _register_blueprints(app)
    security_headers.init_app(app)
    _behind_proxies(app)
    return app


def _behind_proxies(app: Flask) -> None:
    """Behind ERP_TRUSTED_PROXIES reverse proxies the client's address, scheme and host are the ones the
    proxies forward (X-Forwarded-For/-Proto/-Host): without it every request would come from the proxy, one
    address for the whole company in the logs and the login limits."""
    hops = app.config.get("TRUSTED_PROXIES", load_settings().trusted_proxies)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _server_timing(app: Flask) -> None:
    """Every response says how long the server worked on it (`Server-Timing: app;dur=<ms>`): browsers' developer
    tools show it, and `erp bench inbox` reads it."""
    from time import perf_counter

    from flask import g

    @app.before_request
    def start_clock():
        g.request_started = perf_counter()

    @app.after_request
    def stop_clock(response):
        started = g.pop("request_started", None)
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(perf_counter() - started) * 1000:.2f}"
        return response


def _register_blueprints(app: Flask) -> None:
    from webapp.views import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def _instance_secret(app: Flask) -> str:
    """A random key kept in instance/secret_key, so sessions survive a restart and all local processes agree."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
