"""The weekly status report (项目状态报告): its figures from a hand-set plan, the mail the Monday job sends to
the audience group of the project's report communication — through a real SMTP server, once per week, in each
reader's language — and the PDF with Chinese text."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from core import clock
from core.calendar import BEIJING
from erp.identity.services import ensure_user
from erp.projects import reports, services
from erp.projects.pdf import status_report_pdf
from erp.wiring import periodic_jobs
from notifications.config import MailConfig
from notifications.sender import send_due
from tests import mail_server
from tests.projects_data import three_packages
from tests.risks_data import risk

smtp_server = mail_server.smtp_server  # the fixture, used by name
MONDAY = datetime(2026, 7, 6, 8, 0, tzinfo=BEIJING)
#: (username, groups, locale): the steering committee reads the report; the others do not
PEOPLE = [("chen", ["steering_committee"], "zh_CN"), ("smith", ["steering_committee"], "en"),
          ("zhang", ["project_managers"], "zh_CN"), ("wangfang", [], "zh_CN"), ("lina", [], "zh_CN")]


@pytest.fixture
def rollout(tx):
    """tests/projects_data.py's three work packages (after the plan's end: PV 80,000, EV 25,000, AC 11,359.56),
    active, with a weekly report to the steering committee on Mondays and two risks."""
    with clock.frozen(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)), tx() as session:
        for username, groups, locale in PEOPLE:
            ensure_user(session, username, username, groups=groups, locale=locale, email=f"{username}@example.cn")
        project = three_packages(session)
        services.start_phase(session, project, "understanding")
        services.add_communication(session, project, name="周报 Weekly status report", kind="report",
                                   audience_group="steering_committee", cadence="weekly", owner="zhang", weekday=0,
                                   starting=date(2026, 7, 6))
        services.add_communication(session, project, name="周例会 Weekly meeting", kind="meeting",
                                   audience_group="project_managers", cadence="weekly", owner="zhang", weekday=0,
                                   starting=date(2026, 3, 2))
        services.add_milestone(session, project, name="上线 Go-live", due_date=date(2026, 6, 30))
        risk(session, project, owner="wangfang", probability=4, impact=4, title="关键用户无法全程参与")
        risk(session, project, owner="lina", probability=2, impact=3, title="历史数据质量差", category="data")
        risk(session, project, owner="lina", probability=5, impact=5, title="已关闭的风险", status="closed")


def _send(tx, at) -> dict:
    with clock.frozen(at), tx() as session:
        return reports.send_status_reports(session, at)


def test_the_report_has_the_hand_computed_figures_the_rag_status_and_the_top_risks(tx, rollout):
    with tx(readonly=True) as session:
        report = reports.status_report(session, "ERP-2026", date(2026, 7, 6))
    figures = report["evm"]
    assert (figures["pv"], figures["ev"], figures["ac"]) == (Decimal("80000.00"), Decimal("25000.00"),
                                                             Decimal("11359.56"))
    assert (figures["spi"], figures["cpi"], figures["eac"]) == (Decimal("0.3125"), Decimal("2.2008"),
                                                               Decimal("36350.59"))
    assert report["rag"]["status"] == "red" and [r["key"] for r in report["rag"]["reasons"]] == ["spi"]
    assert [r["code"] for r in report["top_risks"]] == ["R-001", "R-002"]  # the closed one is left out
    assert report["heatmap"][3][3] == 1 and report["heatmap"][1][2] == 1 and report["heatmap"][4][4] == 0
    assert [m["name"] for m in report["milestones_due"]] == ["上线 Go-live"] and report["milestones_due"][0]["overdue"]


def test_a_project_on_track_is_green_and_amber_needs_a_warning(tx, rollout):
    with tx() as session:
        early = reports.rag_status(session, "ERP-2026", date(2026, 3, 10))  # SPI 1.4706, CPI 2.6810
        assert early["status"] == "green" and early["reasons"] == []
        risk(session, "ERP-2026", owner="lina", probability=4, impact=4, title="第二个高风险")
        risk(session, "ERP-2026", owner="lina", probability=5, impact=3, title="第三个高风险")
        amber = reports.rag_status(session, "ERP-2026", date(2026, 3, 10))  # 3 open high risks: the warning
        assert amber["status"] == "amber" and [r["key"] for r in amber["reasons"]] == ["open_high_risks"]


def test_the_weekly_mail_reaches_the_audience_group_only_once_a_week(tx, database, rollout, smtp_server):
    mail = MailConfig(server=smtp_server.host, port=smtp_server.port, timeout=5)
    assert _send(tx, MONDAY) == {"projects": 1, "mails": 2}
    send_due(database, mail, now=MONDAY + timedelta(minutes=1))
    assert sorted(to for envelope in smtp_server.envelopes for to in envelope) == ["chen@example.cn",
                                                                                   "smith@example.cn"]
    chinese = next(m for m in smtp_server.messages if m["To"] == "chen@example.cn")
    english = next(m for m in smtp_server.messages if m["To"] == "smith@example.cn")
    assert "【项目状态报告】ERP-2026" in chinese["Subject"] and chinese["Subject"].endswith("红")
    assert "[Status report] ERP-2026" in english["Subject"] and "RED" in english["Subject"]
    body = chinese.get_body(("plain",)).get_content()
    assert "项目状态：红" in body and "进度绩效指数（SPI）：0.3125" in body and "成本绩效指数（CPI）：2.2008" in body
    assert "完工估算（EAC）：¥36,350.59" in body and "R-001 关键用户无法全程参与" in body
    assert body.index("R-001") < body.index("R-002") and "已关闭的风险" not in body
    html = english.get_body(("html",)).get_content()
    assert "0.3125" in html and "¥36,350.59" in html and "/projects/ERP-2026/status-report.pdf" in html

    # the same week again (the job run twice, or late): nothing more
    assert _send(tx, MONDAY + timedelta(hours=3))["mails"] == 0
    assert _send(tx, MONDAY + timedelta(days=2))["mails"] == 0
    send_due(database, mail, now=MONDAY + timedelta(days=2, minutes=1))
    assert len(smtp_server.messages) == 2
    # the next Monday: the next report
    assert _send(tx, MONDAY + timedelta(days=7))["mails"] == 2


def test_a_project_without_a_report_due_sends_nothing(tx, rollout):
    assert _send(tx, MONDAY - timedelta(days=7)) == {"projects": 0, "mails": 0}  # first due on 6 July


def test_the_job_is_registered_for_monday_mornings(database):
    jobs = periodic_jobs(database)
    spec = jobs._jobs["projects.weekly_status_report"]
    assert spec.schedule == "0 8 * * mon"


def test_the_pdf_is_a_pdf_with_the_chinese_font(tx, rollout):
    with tx(readonly=True) as session:
        report = reports.status_report(session, "ERP-2026", date(2026, 7, 6))
    pdf = status_report_pdf(report)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 3000
    assert b"STSong-Light" in pdf
