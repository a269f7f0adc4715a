"""The Alembic migrations build exactly the schema the models declare, on both databases."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from core.db import Base
from core.migrate import alembic_config, upgrade
from erp.schema import all_models
from tests.conftest import scratch_postgres


def test_migrations_match_the_models(database):
    all_models()
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.fixture
def fresh_url(database, tmp_path):
    """An empty database of the test's kind, dropped after."""
    if database.is_sqlite:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    with scratch_postgres("test") as url:
        yield url


def test_0024_moves_the_import_marks_to_their_own_table_and_back(fresh_url):
    upgrade(fresh_url, "0023")
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO migration_run (id, entity, mapping, source_name, source_kind, status, total, "
                          "ok, warnings, errors, imported, created_at) VALUES (1, 'customers', '{}', 'a.csv', "
                          "'csv', 'importing', 2, 2, 0, 0, 1, CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO migration_row (id, run_id, row_no, raw, \"values\", status, reasons, imported, "
                          "target_id, batch) VALUES (1, 1, 2, '{}', '{}', 'ok', '[]', :yes, 'C-000001', 3), "
                          "(2, 1, 3, '{}', '{}', 'ok', '[]', :no, NULL, NULL)"), {"yes": True, "no": False})
    upgrade(fresh_url, "0024")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT row_id, batch, target_id FROM migration_row_import")).all() == \
            [(1, 3, "C-000001")]
        assert "imported" not in {c["name"] for c in inspect(conn).get_columns("migration_row")}
    command.downgrade(alembic_config(fresh_url), "0023")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, imported, target_id, batch FROM migration_row ORDER BY id")).all() == \
            [(1, True, "C-000001", 3), (2, False, None, None)]
        assert "migration_row_import" not in inspect(conn).get_table_names()
    engine.dispose()
