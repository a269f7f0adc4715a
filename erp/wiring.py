"""The composition root: builds the engine with the domain's operators, forms and group directory."""
from __future__ import annotations

from functools import lru_cache

from core.settings import load_settings
from engine.operators import OperatorRegistry
from engine.runtime import Engine
from erp.identity.queries import groups_of
from forms import FormCatalog

#: the domain modules whose tasks.py registers service-task operators (each exposes register(registry))
OPERATOR_MODULES: list[str] = []


def build_registry() -> OperatorRegistry:
    import importlib

    registry = OperatorRegistry()
    for name in OPERATOR_MODULES:
        importlib.import_module(name).register(registry)
    return registry


@lru_cache(maxsize=1)
def engine() -> Engine:
    settings = load_settings()
    return Engine(build_registry(), FormCatalog(settings.forms_dir), groups_of=groups_of,
                  script_cpu_seconds=settings.script_cpu_seconds)


def build_worker(database, **options):
    """The worker with everything time-driven the product has registered."""
    from erp.worker import Worker

    return Worker(database, engine(), **options)
