"""Running the Alembic migrations from code (the CLI, the setup command and the tests)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.settings import ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
