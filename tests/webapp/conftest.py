"""Web app fixtures: the app on the test database, a client, users with roles, and logging in."""
from __future__ import annotations

import re

import pytest

from core import db
from erp.identity.services import ensure_user
from webapp import create_app

PASSWORD = "secret-pass-1"


@pytest.fixture
def app(database, engine):
    app = create_app({"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(database):
    """make_user("wangfang", roles=["employee"], groups=["employees"]) -> the username (password PASSWORD)."""

    def make(username, roles=("employee",), groups=(), *, name=None, locale="zh_CN", manager=None, email=None):
        with db.transaction() as session:
            ensure_user(session, username, name or username, roles=list(roles), groups=list(groups),
                        password=PASSWORD, locale=locale, manager=manager,
                        email=email or f"{username}@example.cn")
        return username

    return make


def login(client, username, password=PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:500]
    return response


def csrf_token(client, path="/login") -> str:
    """The CSRF token a page carries (for tests that keep CSRF protection on)."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
