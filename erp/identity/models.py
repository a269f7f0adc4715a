"""Users, roles, groups and group memberships; login attempts (for rate limiting), TOTP second factors and API
tokens."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), info={"personal": "personal", "grade": "general"})
    email: Mapped[str | None] = mapped_column(String(320), info={"personal": "personal", "grade": "general"})
    #: zh_CN or en
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    #: the username of this person's manager (escalations of their overdue tasks go there)
    manager: Mapped[str | None] = mapped_column(String(100))
    #: werkzeug's salted hash (scrypt); None: the user cannot log in with a password
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: employee | manager | analyst | administrator (see erp.identity.permissions)
    roles: Mapped[list] = mapped_column(JSON, default=lambda: ["employee"])
    #: a deactivated user can neither log in nor use a token; their history stays
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: when the password was last set: browser sessions that logged in before then no longer count
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Group(Base):
    """A group of people; BPMN lanes and candidateGroups name groups by `name`."""

    __tablename__ = "app_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    title_zh: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))


class GroupMembership(Base):
    __tablename__ = "group_membership"
    __table_args__ = (UniqueConstraint("user_id", "group_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    #: the group's key, as used for BPMN lane names (e.g. "finance", "sales_manager")
    group_name: Mapped[str] = mapped_column(String(200), index=True)
    #: the group lead (组长) receives escalations of the group's unclaimed overdue tasks
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LoginAttempt(Base):
    """Every login attempt (password or second-factor code), kept for rate limiting and shown in the audit pages."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),
                      Index("ix_login_attempt_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    username: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    #: what was checked: "password" or "code" (the TOTP second factor)
    factor: Mapped[str] = mapped_column(String(10), default="password", server_default="password")


class ApiToken(Base):
    """A bearer token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SavedFilter(Base):
    """An inbox filter a user saved under a name (the query string of the inbox page)."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(2000))


class TaskDelegation(Base):
    """A standing delegation (代理): from one date to another, the delegator's new tasks go to the delegate (and
    tasks offered to the delegator's groups are offered to the delegate too). Tasks already handed over stay
    with the delegate when the delegation ends."""

    __tablename__ = "task_delegation"
    __table_args__ = (Index("ix_task_delegation_delegator", "delegator", "ended_at"),
                      Index("ix_task_delegation_period", "starts_on", "ends_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the username who is away
    delegator: Mapped[str] = mapped_column(String(100))
    #: the username who works their tasks meanwhile
    delegate: Mapped[str] = mapped_column(String(100))
    #: only the tasks of this process (e.g. "approval"); None: every process
    process_key: Mapped[str | None] = mapped_column(String(200))
    #: the first and last day (Beijing time), both included
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: set when the delegator ended it early (or replaced it with a new one)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TotpCredential(Base):
    """A user's TOTP second factor (RFC 6238: six digits, 30-second steps). It counts once the user has confirmed
    it with a first code; until then it is an enrolment in progress."""

    __tablename__ = "totp_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), unique=True)
    #: the shared secret, base32 (the authenticator app holds the same)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: None while enrolling: the second factor is not asked for at login yet
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: the time step of the last code accepted: a code is good only once (no replay within its 30 s)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
