"""The password policy applies wherever a password is set (an administrator's new user or reset, `erp user
create`) and never at login: passwords set before it, like the demo's, keep working. Its length is a setting."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from core import db
from core.errors import InvalidInput
from erp import cli
from erp.identity.login import authenticate
from erp.identity.passwords import (
    LETTERS_AND_DIGITS,
    NOT_THE_CURRENT,
    NOT_THE_USERNAME,
    TOO_COMMON,
    PasswordPolicy,
    password_problems,
)
from erp.identity.services import ensure_user, get_user, register_user, reset_password, set_password, user_by_name
from erp.identity.totp import has_second_factor


@pytest.mark.parametrize("password, problems", [
    ("lotus-pond-2026", []),
    ("短密码1", ["at least 10 characters"]),
    ("onlyletters-here", [LETTERS_AND_DIGITS]),
    ("12345678901234", [LETTERS_AND_DIGITS]),
    ("Zhang.Wei.2026", [NOT_THE_USERNAME]),
    ("Password123", [TOO_COMMON]),
    ("woaini1314", [TOO_COMMON]),
    ("", ["at least 10 characters", LETTERS_AND_DIGITS]),
])
def test_each_rule_of_the_policy(password, problems):
    assert password_problems(password, username="zhang.wei.2026") == problems


def test_chinese_characters_count_as_letters():
    assert password_problems("北京朝阳区望京2026", username="wangfang") == []


def test_the_minimum_length_is_a_setting(monkeypatch):
    monkeypatch.setenv("ERP_PASSWORD_MIN_LENGTH", "14")
    assert PasswordPolicy.configured().min_length == 14
    assert password_problems("lotus-pond-2026", username="x") == []
    assert password_problems("lotus-2026", username="x") == ["at least 14 characters"]
    assert password_problems("lotus-2026", username="x", policy=PasswordPolicy(min_length=8)) == []


def test_an_administrator_cannot_reset_to_a_weak_or_the_same_password(database):
    with database.transaction() as session:
        user = ensure_user(session, "wangfang", password="first-pass-2026")
        with pytest.raises(InvalidInput) as refused:
            reset_password(session, user, "first-pass-2026", actor="admin")
        assert refused.value.errors == {"password": [NOT_THE_CURRENT]}
        with pytest.raises(InvalidInput) as refused:
            reset_password(session, user, "wangfang", actor="admin")
        assert refused.value.errors == {"password": ["at least 10 characters", LETTERS_AND_DIGITS, NOT_THE_USERNAME]}
        reset_password(session, user, "second-pass-2026", actor="admin")
        assert authenticate(session, "wangfang", "second-pass-2026", "10.0.0.1").user is not None


def test_a_new_users_initial_password_follows_the_policy(database):
    with database.transaction() as session:
        with pytest.raises(InvalidInput) as refused:
            register_user(session, username="liuyang", password="password123", actor="admin")
        assert refused.value.errors == {"password": [TOO_COMMON]}
        register_user(session, username="liuyang", password="lotus-pond-2026", actor="admin")


def test_the_demo_password_still_logs_in(database):
    with database.transaction() as session:
        user = ensure_user(session, "zhangwei")
        set_password(user, "demo1234")  # as `erp demo` does
        assert password_problems("demo1234", username="zhangwei") != []
        checked = authenticate(session, "zhangwei", "demo1234", "10.0.0.1")
        assert checked.user is not None and not checked.needs_code
        assert not has_second_factor(session, user.id)


@pytest.fixture
def erp(database, database_url, monkeypatch):
    monkeypatch.setenv("ERP_DATABASE_URL", database_url)
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli.main, list(args), catch_exceptions=False)
    db._default = database  # the command group configured its own; the fixture's database is the test's


def test_erp_user_create_refuses_a_weak_password(erp, database):
    refused = erp("user", "create", "lisi", "--role", "employee", "--password", "lisi")
    assert refused.exit_code == 1
    assert "at least 10 characters" in refused.output and LETTERS_AND_DIGITS in refused.output
    with database.transaction(readonly=True) as session:
        assert user_by_name(session, "lisi") is None
    assert erp("user", "create", "lisi", "--role", "employee", "--password", "at-least-8").exit_code == 0
    again = erp("user", "create", "lisi", "--role", "employee", "--password", "at-least-8")
    assert again.exit_code == 1 and NOT_THE_CURRENT in again.output
    with database.transaction(readonly=True) as session:
        assert get_user(session, "lisi").password_hash.startswith("scrypt:")
