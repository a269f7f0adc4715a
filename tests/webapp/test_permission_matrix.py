"""Every route and API endpoint × every role: each view declares the permission it needs, the server refuses
the roles without it (403), lets the others through, and sends anonymous visitors to the login page (pages)
or answers 401 (API). The matrix is built from the app's URL map, so a new route is covered the day it is
added — and fails here if it forgets to declare its permission."""
from __future__ import annotations

import pytest

from erp.identity.permissions import PERMISSIONS, ROLES
from erp.identity.services import create_token, user_by_name
from tests.webapp.conftest import login

PUBLIC_ENDPOINTS = {"static", "vendor.vendor", "auth.login", "auth.login_code", "auth.language", "api.openapi"}
SAMPLE_ARGS = {"int": 999_999, "default": "approval", "path": "missing.js"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        values[name] = SAMPLE_ARGS["int"] if kind == "integer" else (
            "en" if name == "locale" else "bootstrap" if name == "package" else SAMPLE_ARGS["default"])
    return rule.build(values, append_unknown=False)[1]


def test_every_view_declares_its_permission(app):
    undeclared = []
    for rule, _method in _routes(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "erp_public", None) is None:
            undeclared.append(rule.endpoint)
        elif view.erp_public:
            assert rule.endpoint in PUBLIC_ENDPOINTS, f"{rule.endpoint} is public but not expected to be"
        elif view.erp_permission is not None:
            assert view.erp_permission in PERMISSIONS, f"{rule.endpoint}: unknown permission"
    assert undeclared == [], "views without @requires or @public"


def test_the_matrix_covers_many_routes(app):
    assert len(list(_routes(app))) >= 10


def _request(client, method, url, headers=None):
    kwargs = {"headers": headers or {}}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        kwargs["json" if url.startswith("/api/") else "data"] = {}
    return client.open(url, method=method, **kwargs)


def test_anonymous_visitors_are_sent_to_log_in(app):
    client = app.test_client()
    for rule, method in _routes(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "erp_public", False):
            continue
        url = _url(rule)
        response = _request(client, method, url)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthenticated"
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_its_permissions_allow(app, make_user, database, role):
    username = make_user(f"only_{role}", roles=[role])
    client = app.test_client()
    login(client, username)
    with database.transaction() as session:
        token = create_token(session, user_by_name(session, username), "matrix")
    checked = 0
    for rule, method in _routes(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "erp_public", False) or rule.endpoint == "auth.logout":
            continue
        url = _url(rule)
        headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else {}
        response = _request(client, method, url, headers)
        allowed = view.erp_permission is None or role in PERMISSIONS[view.erp_permission]
        if allowed:
            assert response.status_code not in (401, 403), (role, method, url, response.status_code)
            assert response.status_code < 500, (role, method, url, response.get_data(as_text=True)[:300])
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)
        checked += 1
    assert checked >= 5
