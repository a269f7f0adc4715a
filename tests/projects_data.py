"""Small factories for implementation-project tests: a project, and the three-work-package project whose
earned value tests/integration/test_projects_evm.py works out by hand."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from erp.projects import services

M = Decimal
START, END = date(2026, 3, 2), date(2026, 6, 30)


def project(session, code="ERP-2026", start=START, end=END, manager="zhang"):
    return services.create_project(session, code=code, name_zh="ERP 实施项目", name_en="ERP implementation",
                                   manager=manager, sponsor="chen", start_date=start, planned_end=end,
                                   goals="一套系统管业务", scope="销售、采购、库存、财务", by="tester")


def members(session, found):
    """li, technical expert at 200.00 an hour; wang, business analyst at 150.00."""
    services.add_member(session, found, "li", "technical_expert", hourly_rate="200.00")
    services.add_member(session, found, "wang", "business_analyst", hourly_rate="150.00", allocation_percent=50)


def three_packages(session, code="ERP-2026"):
    """Blueprint 1.1 (10 days, 10 000), configuration 2.1 (20 days, 40 000), data migration 3.1 (30 days,
    30 000); progress 100 %, 30 %, 10 %; four timesheets and two expenses (see test_projects_evm)."""
    found = project(session, code=code)
    members(session, found)
    wp = services.add_work_package
    blueprint = wp(session, found, "understanding", code="1.1", name="业务蓝图 Blueprint", owner="wang",
                   planned_start=date(2026, 3, 2), planned_end=date(2026, 3, 11), budget="10000.00")
    configuration = wp(session, found, "preparation", code="2.1", name="系统配置 Configuration", owner="li",
                       planned_start=date(2026, 3, 7), planned_end=date(2026, 3, 26), budget="40000.00",
                       stream="configuration", depends_on="1.1")
    migration = wp(session, found, "execution", code="3.1", name="数据迁移 Data migration", owner="li",
                   planned_start=date(2026, 4, 1), planned_end=date(2026, 4, 30), budget="30000.00",
                   stream="data_migration")
    services.set_progress(session, blueprint, 100, actual_start=date(2026, 3, 2), actual_end=date(2026, 3, 11))
    services.set_progress(session, configuration, 30, actual_start=date(2026, 3, 7))
    services.set_progress(session, migration, "10", actual_start=date(2026, 4, 1))
    services.log_time(session, found, "1.1", "li", date(2026, 3, 3), M("8"))
    services.log_time(session, found, "1.1", "wang", date(2026, 3, 5), M("7.5"))
    services.log_time(session, found, "2.1", "li", date(2026, 3, 10), M("8"))
    services.log_time(session, found, "3.1", "li", date(2026, 4, 15), M("4"))
    services.add_expense(session, found, category="software", spent_on=date(2026, 3, 9), amount="5000.00",
                         work_package_code="2.1", description="licences")
    services.add_expense(session, found, category="travel", spent_on=date(2026, 5, 10), amount="1234.56",
                         phase_key="execution", description="上海出差")
    return found
