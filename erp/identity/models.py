"""Users and group memberships (the web app's login, roles and admin pages build on these)."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    #: zh_CN or en
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    #: the username of this person's manager (escalations of their overdue tasks go there)
    manager: Mapped[str | None] = mapped_column(String(100))


class GroupMembership(Base):
    __tablename__ = "group_membership"
    __table_args__ = (UniqueConstraint("user_id", "group_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    #: the group's key, as used for BPMN lane names (e.g. "finance", "sales_manager")
    group_name: Mapped[str] = mapped_column(String(200), index=True)
    #: the group lead (组长) receives escalations of the group's unclaimed overdue tasks
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
