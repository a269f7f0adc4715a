"""Settings read from the environment; every variable is prefixed ERP_."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    bpmn_dir: Path
    forms_dir: Path
    script_cpu_seconds: float
    echo_sql: bool


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    default_db = f"sqlite:///{ROOT / 'instance' / 'erp.sqlite3'}"
    return Settings(
        database_url=env.get("ERP_DATABASE_URL", default_db),
        bpmn_dir=Path(env.get("ERP_BPMN_DIR", ROOT / "bpmn")),
        forms_dir=Path(env.get("ERP_FORMS_DIR", ROOT / "forms")),
        script_cpu_seconds=float(env.get("ERP_SCRIPT_CPU_SECONDS", "2.0")),
        echo_sql=env.get("ERP_ECHO_SQL", "") in ("1", "true", "yes"),
    )
