"""Every module that declares tables, imported so Base.metadata knows them (Alembic, tests)."""


def all_models() -> None:
    import core.calendar  # noqa: F401
    import engine.models  # noqa: F401
    import erp.audit.models  # noqa: F401
    import erp.catalog.models  # noqa: F401
    import erp.crm.models  # noqa: F401
    import erp.escalation.models  # noqa: F401
    import erp.files.models  # noqa: F401
    import erp.finance.models  # noqa: F401
    import erp.identity.models  # noqa: F401
    import erp.inventory.models  # noqa: F401
    import erp.jobs.models  # noqa: F401
    import erp.migration.models  # noqa: F401
    import erp.privacy.models  # noqa: F401
    import erp.projects.models  # noqa: F401
    import erp.purchasing.models  # noqa: F401
    import erp.risks.models  # noqa: F401
    import erp.sales.models  # noqa: F401
    import notifications.models  # noqa: F401
