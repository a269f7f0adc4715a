"""The ERP rollout demo: 北京华信商贸 ERP 实施项目 (ERP-2026), started about four months ago and now in the middle of
execution. Its first two gates were passed through the real implementation process (the steering committee
countersigning each), which now waits at the four execution streams. The project has its team, plan, budget,
timesheets and expenses (a little behind: SPI ≈ 0.9, CPI ≈ 0.95), milestones, requirements traced to the
processes, training, the communication plan, change requests, KPI history, a risk register and early-warning
rules — the data migration error rate close to its threshold. Running it twice adds nothing."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from engine.queries import tasks
from erp.projects import evm, kpis, plans, services
from erp.projects.models import Project, ProjectTask, WorkPackage
from erp.projects.process import start_implementation
from erp.risks import services as risks
from erp.risks import warnings

CODE = "ERP-2026"
PM, SPONSOR, BY = "zhangwei", "liuyang", "zhangwei"
COMMITTEE = ("liuyang", "lina")
D = Decimal
#: today minus these days: the project's start, the gate reviews of phases 1 and 2
STARTED, FIRST_GATE, SECOND_GATE = 122, 88, 52
TARGET_SPI, TARGET_CPI = D("0.915"), D("0.95")

MEMBERS = [  # username, role, allocation %, hourly rate (CNY)
    ("zhangwei", "project_manager", 80, "420.00"), ("zhaolei", "technical_expert", 100, "360.00"),
    ("zhaolei", "business_analyst", 50, "320.00"), ("sunlei", "technical_expert", 100, "300.00"),
    ("wangjun", "tester", 60, "220.00"), ("chenjing", "user_representative", 30, "180.00"),
    ("zhaoqiang", "user_representative", 30, "180.00")]
#: phase → (first day, last day) relative to the start
PHASE_PLAN = {"understanding": (0, 33), "preparation": (34, 69), "execution": (70, 209), "go_live": (210, 239),
              "optimisation": (240, 329)}
PACKAGES = [  # phase, code, name, owner, first day, last day, budget, stream
    ("understanding", "1.1", "项目启动与章程 Kick-off and charter", "zhangwei", 0, 9, "48000.00", None),
    ("understanding", "1.2", "现状调研与业务蓝图 As-is survey and blueprint", "zhaolei", 5, 33, "126000.00", None),
    ("preparation", "2.1", "系统环境搭建 System environment", "sunlei", 34, 50, "88000.00", None),
    ("preparation", "2.2", "主数据标准与迁移方案 Master data standard and migration plan", "zhaolei", 40, 69,
     "96000.00", None),
    ("execution", "3.1", "系统配置 System configuration", "zhaolei", 70, 160, "210000.00", "configuration"),
    ("execution", "3.2", "数据迁移 Data migration", "sunlei", 75, 190, "168000.00", "data_migration"),
    ("execution", "3.3", "关键用户与最终用户培训 Key-user and end-user training", "zhaolei", 100, 200,
     "92000.00", "training"),
    ("execution", "3.4", "集成测试与用户验收测试 Integration and user acceptance testing", "wangjun", 120, 209,
     "110000.00", "testing"),
    ("go_live", "4.1", "上线切换与现场支持 Cut-over and hypercare", "zhangwei", 210, 239, "150000.00", None),
    ("optimisation", "5.1", "持续优化与项目验收 Optimisation and acceptance", "zhangwei", 240, 329, "112000.00",
     None),
]
TASKS = [  # work package, name, assignee, first day, last day, deliverable
    ("1.2", "销售与收款流程调研 Order-to-cash survey", "zhaolei", 5, 20, "业务蓝图-销售篇"),
    ("1.2", "采购与付款流程调研 Procure-to-pay survey", "zhaolei", 12, 30, "业务蓝图-采购篇"),
    ("2.2", "客户主数据清洗规则 Customer master cleansing rules", "zhaolei", 40, 60, "主数据标准 v1.0"),
    ("3.1", "销售模块配置 Sales configuration", "zhaolei", 70, 110, None),
    ("3.1", "采购与库存配置 Purchasing and stock configuration", "sunlei", 90, 140, None),
    ("3.1", "审批流与决策表配置 Approval flows and decision tables", "zhaolei", 110, 160, None),
    ("3.2", "客户主数据第一轮模拟导入 Customer master dry run 1", "sunlei", 80, 105, "模拟导入报告 #1"),
    ("3.2", "期初库存与应收余额迁移 Opening stock and receivables", "sunlei", 105, 150, None),
    ("3.3", "关键用户培训 Key-user training", "zhaolei", 100, 125, "培训签到表"),
    ("3.4", "集成测试 Integration test", "wangjun", 120, 165, "测试报告"),
]
BUDGET = {  # phase → category → amount (the phase's work packages share it)
    "understanding": {"labour": "96000.00", "consulting": "68000.00", "travel": "10000.00"},
    "preparation": {"labour": "90000.00", "hardware": "58000.00", "software": "36000.00"},
    "execution": {"labour": "330000.00", "consulting": "150000.00", "training": "60000.00", "travel": "20000.00",
                  "other": "20000.00"},
    "go_live": {"labour": "90000.00", "consulting": "50000.00", "other": "10000.00"},
    "optimisation": {"labour": "80000.00", "consulting": "32000.00"},
}
MILESTONES = [  # name, phase, due day, achieved day
    ("项目启动会 Kick-off meeting", "understanding", 3, 3),
    ("业务蓝图签署 Blueprint signed off", "understanding", 33, 34),
    ("系统环境就绪 System environment ready", "preparation", 50, 53),
    ("系统配置完成 Configuration complete", "execution", 160, None),
    ("数据迁移模拟导入通过 Migration dry run passed", "execution", 150, None),
    ("上线 Go-live", "go_live", 210, None),
    ("项目验收 Project acceptance", "optimisation", 329, None),
]
REQUIREMENTS = [  # code, title, priority, owner, status, traces
    ("RQ-001", "报价折扣超限须审批 Discounts above the limit need approval", "must", "zhaoqiang", "verified",
     [("process", "order_to_cash"), ("form", "approval/review")]),
    ("RQ-002", "超信用额度订单由信用经理放行 Credit manager releases orders over the limit", "must", "chenjing",
     "implemented", [("process", "order_to_cash"), ("form", "order_to_cash/credit_review")]),
    ("RQ-003", "分批发货与缺货订单 Partial deliveries and backorders", "must", "wangjun", "implemented",
     [("process", "order_to_cash"), ("form", "order_to_cash/delivery")]),
    ("RQ-004", "逾期应收自动催款 Automatic dunning of overdue receivables", "should", "chenjing", "approved",
     [("process", "order_to_cash")]),
    ("RQ-005", "采购申请按金额分级审批 Requisition approval by amount", "must", "zhangwei", "verified",
     [("process", "procurement"), ("process", "approval")]),
    ("RQ-006", "询价比价 RFQ and quote comparison", "should", "zhangwei", "implemented",
     [("process", "procurement"), ("form", "procurement/award")]),
    ("RQ-007", "收货与三单匹配 Goods receipt and three-way match", "must", "wangjun", "implemented",
     [("process", "procurement"), ("form", "procurement/receipt"), ("form", "procurement/match_exception")]),
    ("RQ-008", "付款审批与银行付款文件 Payment approval and the bank's payment file", "must", "chenjing",
     "approved", [("process", "procurement"), ("form", "procurement/payment")]),
    ("RQ-009", "增值税专用发票管理 Special VAT invoices", "must", "chenjing", "approved",
     [("form", "procurement/supplier_invoice")]),
    ("RQ-010", "仓库手持终端扫码 Barcode scanning in the warehouse", "could", "wangjun", "proposed", []),
]
TRAINING = [  # title, audience, trainer, day, hour, hours, location, invitees, absent
    ("关键用户培训：销售与收款 Key users: order to cash", "销售部、财务部关键用户", "zhaolei", 104, 9, "6",
     "总部 3 楼培训室", ["zhaoqiang", "chenjing", "sunmei", "wangfang"], ["sunmei"]),
    ("关键用户培训：采购与库存 Key users: procure to pay", "采购部、仓储部关键用户", "sunlei", 111, 9, "6",
     "总部 3 楼培训室", ["wangfang", "wangjun", "chenjing"], []),
    ("最终用户培训：待办与审批 End users: inbox and approvals", "全体员工", "zhaolei", 130, 14, "2",
     "线上 腾讯会议", ["wangfang", "zhaoqiang", "chenjing", "sunmei", "wangjun", "zhoumin"], []),
]
COMMUNICATIONS = [  # name, kind, audience group, cadence, owner, weekday
    ("项目周例会 Weekly status meeting", "meeting", "project_managers", "weekly", "zhangwei", 0),
    ("项目周报 Weekly status report", "report", "steering_committee", "weekly", "zhangwei", 4),
    ("项目指导委员会月度会议 Monthly steering committee", "meeting", "steering_committee", "monthly", "zhangwei", 2),
]
RISKS = [  # title, owner, probability, impact, category, proximity, strategy, cause, triggers, contingency, actions
    ("关键用户忙于年底结账 Key users busy with the year-end close", "zhangwei", 4, 4, "organisational", "near",
     "mitigate", "财务、销售关键用户 12 月至 1 月集中处理年结与对账",
     "培训出勤率低于 90%；验收测试用例按期完成率低于 80%",
     "调整验收测试排期，由顾问代为准备测试数据，必要时上线推迟两周",
     "提前锁定关键用户时间，年结期间只安排半天工作坊"),
    ("遗留客户主数据质量差 Poor quality of the legacy customer master", "zhaolei", 4, 5, "data", "imminent",
     "mitigate", "旧系统客户重复、统一社会信用代码缺失、联系人过期",
     "模拟导入错误率超过 2%；重复客户超过 50 户", "暂停导入，组织销售部集中清洗两周，客户编码人工复核",
     "建立清洗规则与责任人，每轮模拟导入后复盘"),
    ("定制开发范围蔓延 Customisation scope creep", "zhangwei", 3, 4, "schedule", "near", "avoid",
     "业务部门不断提出报表与界面定制", "变更请求每月超过 3 个；配置工作包进度落后 10% 以上",
     "冻结范围，非关键需求移入持续优化阶段", "所有需求走变更请求，由项目指导委员会审批"),
    ("实施顾问人员流动 Vendor consultant turnover", "liuyang", 2, 4, "vendor", "far", "transfer",
     "实施商顾问流动率高", "核心顾问提出离职或被调往其他项目", "合同约定更换顾问须提前一个月并由实施商承担交接成本",
     "要求实施商指定备岗顾问，知识文档化"),
    ("上线与春节冲突 Go-live clashing with Spring Festival", "zhangwei", 3, 5, "schedule", "near", "avoid",
     "计划上线日期距春节假期不足三周", "上线前两周仍有阻断级缺陷；春节前物流高峰订单量翻倍",
     "上线推迟到元宵节后，春节期间旧系统继续运行", "与业务确认封网期，倒排上线计划"),
    ("银行付款文件格式对接 Integration with the bank's payment file format", "sunlei", 3, 3, "technical", "near",
     "mitigate", "开户行网银批量付款文件格式每年更新", "银行测试环境联调失败；银行发布新格式通知",
     "上线初期由出纳在网银手工录入付款", "尽早取得银行接口文档并在测试环境联调"),
    ("仓库人员抵触新系统 User resistance in the warehouse", "wangjun", 3, 3, "organisational", "near",
     "mitigate", "仓库人员习惯纸质单据，担心扫码增加工作量", "培训缺勤；上线后纸质单据仍在流转",
     "安排现场支持人员驻仓两周，纸质单据并行一个月", "选仓库骨干做关键用户，展示扫码省时的效果"),
    ("咨询费超支 Budget overrun on consulting", "lina", 3, 4, "budget", "near", "mitigate",
     "顾问人天按实际结算，定制与返工增加人天", "预算消耗率超过 80%；成本绩效指数低于 0.9",
     "动用管理储备，削减持续优化阶段的咨询人天", "每月核对顾问人天，超出部分走变更请求"),
    ("个人信息合规 Personal information compliance (PIPL)", "chenjing", 2, 4, "compliance", "far", "mitigate",
     "客户联系人个人信息迁入新系统", "发现未脱敏的个人信息导出", "立即停止导出，评估并上报个人信息保护负责人",
     "按角色脱敏，记录访问日志"),
]


def load_projects(session, engine) -> dict:
    """The rollout project (once): what was added."""
    added = {"implementation projects": 0, "risks": 0, "warning rules": 0}
    if session.scalar(select(Project.id).where(Project.code == CODE)) is not None:
        return added
    now = clock.now()
    start = now.astimezone(BEIJING).date() - timedelta(days=STARTED)
    with clock.frozen(_at(start, 0)):
        project = _plan(session, start)
        process = start_implementation(session, engine, project, user=PM)
    _pass_gate(session, engine, process.id, _at(start, STARTED - FIRST_GATE))
    _pass_gate(session, engine, process.id, _at(start, STARTED - SECOND_GATE))
    with clock.frozen(now):
        _engagement(session, project, start)
        _progress(session, project, start)
        found = _risks(session, project, start)
        _kpis(session, project, now)
        rules = _warning_rules(session, engine, project, found, now)
    added.update({"implementation projects": 1, "risks": len(found), "warning rules": rules})
    return added


def _at(start, day: int, hour: int = 10) -> datetime:
    return datetime.combine(start + timedelta(days=day), time(hour), tzinfo=BEIJING)


def _plan(session, start):
    project = services.create_project(
        session, code=CODE, name_zh="北京华信商贸 ERP 实施项目", name_en="Beijing Huaxin Trading ERP implementation",
        manager=PM, sponsor=SPONSOR, start_date=start, planned_end=start + timedelta(days=329),
        goals="销售、采购、库存与财务在一套系统中闭环；订单处理周期缩短 30%；月结时间由 7 天缩短到 3 天",
        scope="销售与收款、采购与付款、库存、总账与应收应付、审批流；不含人力资源与生产", by=BY)
    for username, role, allocation, rate in MEMBERS:
        services.add_member(session, project, username, role, allocation_percent=allocation, hourly_rate=rate, by=BY)
    plans.replan(session, project, {"phases": {key: {"planned_start": start + timedelta(days=first),
                                                     "planned_end": start + timedelta(days=last)}
                                               for key, (first, last) in PHASE_PLAN.items()}},
                 reason="项目章程批准后的详细计划 The detailed plan after the charter", by=BY)
    for phase, code, name, owner, first, last, budget, stream in PACKAGES:
        services.add_work_package(session, project, phase, code=code, name=name, owner=owner, budget=budget,
                                  planned_start=start + timedelta(days=first),
                                  planned_end=start + timedelta(days=last), stream=stream, by=BY)
    for package, name, assignee, first, last, deliverable in TASKS:
        services.add_task(session, project, package, name=name, assignee=assignee, deliverable=deliverable,
                          planned_start=start + timedelta(days=first), planned_end=start + timedelta(days=last),
                          by=BY)
    for phase, lines in BUDGET.items():
        for category, amount in lines.items():
            services.add_budget_line(session, project, phase, category=category, amount=amount, by=BY)
    plans.take_baseline(session, project, reason="项目计划基线 The approved project plan", by=SPONSOR)
    return project


def _pass_gate(session, engine, instance_id: int, at: datetime) -> None:
    """The project manager confirms the phase's deliverables, every committee member approves the gate."""
    with clock.frozen(at - timedelta(hours=2)):
        [work] = [t for t in tasks(session, instance_id=instance_id) if t["element_id"] == "phase_work"]
        engine.complete(session, work["id"], {"deliverables_done": True, "notes": "交付物已提交评审"}, PM)
    with clock.frozen(at):
        for task in tasks(session, instance_id=instance_id):
            if task["element_id"] == "countersign":
                engine.complete(session, task["id"], {"decision": "approve", "comment": "同意进入下一阶段"},
                                task["assignee"])


def _progress(session, project, start) -> None:
    """Phases 1-2 done, execution a little behind (SPI ≈ 0.9) and a little over cost (CPI ≈ 0.95)."""
    today = clock.now().astimezone(BEIJING).date()
    packages = session.scalars(select(WorkPackage).where(WorkPackage.project_id == project.id)
                               .order_by(WorkPackage.code)).all()
    done = [p for p in packages if p.phase_id in _phase_ids(session, project, ("understanding", "preparation"))]
    for package in done:
        services.set_progress(session, package, 100, actual_start=package.planned_start,
                              actual_end=package.planned_end, by=package.owner)
    running = [p for p in packages if p not in done and p.planned_start <= today]
    planned = {p.code: p.budget * evm.planned_fraction(p.planned_start, p.planned_end, today) for p in running}
    pv = sum((p.budget for p in done), D(0)) + sum(planned.values(), D(0))
    share = (TARGET_SPI * pv - sum((p.budget for p in done), D(0))) / sum(planned.values(), D(0))
    for package in running:
        percent = (planned[package.code] * share / package.budget * 100).quantize(D(1), ROUND_HALF_UP)
        services.set_progress(session, package, min(percent, D(95)), actual_start=package.planned_start,
                              by=package.owner)
    for task in ("客户主数据清洗规则 Customer master cleansing rules", "销售与收款流程调研 Order-to-cash survey",
                 "采购与付款流程调研 Procure-to-pay survey", "关键用户培训 Key-user training"):
        services.set_progress(session, _task(session, project, task), 100, by=PM)
    services.set_progress(session, _task(session, project, "销售模块配置 Sales configuration"), 80, by=PM)
    _costs(session, project, start, today)


def _costs(session, project, start, today) -> None:
    """Weekly timesheets of the team, then the consultants' and licence invoices making AC = EV / 0.95."""
    rota = [("1.1", "zhangwei", "project_manager", 0, 9), ("1.2", "zhaolei", "business_analyst", 5, 33),
            ("2.1", "sunlei", "technical_expert", 34, 50), ("2.2", "zhaolei", "business_analyst", 40, 69),
            ("3.1", "zhaolei", "technical_expert", 70, 999), ("3.2", "sunlei", "technical_expert", 75, 999),
            ("3.3", "zhaolei", "business_analyst", 100, 999), ("3.4", "wangjun", "tester", 120, 999)]
    for day in range(0, (today - start).days, 7):
        work_date = start + timedelta(days=day)
        if day >= 34:
            services.log_time(session, project, "2.1" if day < 70 else "3.1", "zhangwei", work_date, D(16),
                              role="project_manager")
        for package, username, role, first, last in rota:
            if first <= day <= last:
                services.log_time(session, project, package, username, work_date, D(24), role=role)
    figures = evm.figures(session, project, today)
    target = (figures["ev"] / TARGET_CPI).quantize(D("0.01"), ROUND_HALF_UP)
    rest = target - figures["ac"]
    invoices = [("travel", 100, None, "杭州供应商现场调研差旅 Travel to the Hangzhou supplier", D("0.02")),
                ("software", 45, "2.1", "ERP 软件许可（首期）ERP licences, first instalment", D("0.20")),
                ("hardware", 48, "2.1", "应用服务器与数据库服务器 Servers", D("0.15")),
                ("consulting", 20, "1.2", "实施顾问费（第一阶段）Consultants, phase 1", D("0.30")),
                ("consulting", 95, "3.1", "实施顾问费（配置）Consultants, configuration", None)]
    assert rest > 0, "the demo's timesheets cost more than its target actual cost"
    spent = D(0)
    for category, day, package, text, part in invoices:
        amount = (rest * part).quantize(D("0.01")) if part is not None else rest - spent  # the last: the rest
        services.add_expense(session, project, category=category, spent_on=start + timedelta(days=day),
                             amount=amount, work_package_code=package,
                             phase_key=None if package else "execution", description=text, by=PM)
        spent += amount


def _engagement(session, project, start) -> None:
    for name, phase, due, achieved in MILESTONES:
        milestone = services.add_milestone(session, project, name=name, phase_key=phase,
                                           due_date=start + timedelta(days=due), by=BY)
        if achieved is not None:
            services.achieve_milestone(session, milestone, on=start + timedelta(days=achieved), by=BY)
    for code, title, priority, owner, status, traces in REQUIREMENTS:
        requirement = services.add_requirement(session, project, code=code, title=title, priority=priority,
                                               owner=owner, traces=[{"kind": k, "ref": r} for k, r in traces], by=BY)
        path = {"approved": ["approved"], "implemented": ["approved", "implemented"],
                "verified": ["approved", "implemented", "verified"]}.get(status, [])
        for step in path:
            services.set_requirement_status(session, requirement, step, by=BY)
    for title, audience, trainer, day, hour, hours, location, invitees, absent in TRAINING:
        training = services.add_training_session(session, project, title=title, audience=audience, trainer=trainer,
                                                 starts_at=_at(start, day, hour), duration_hours=hours,
                                                 location=location, invitees=invitees, by=BY)
        if training.starts_at <= clock.now():
            for username in invitees:
                services.record_attendance(session, training, username, username not in absent, by=trainer)
    for name, kind, group, cadence, owner, weekday in COMMUNICATIONS:
        services.add_communication(session, project, name=name, kind=kind, audience_group=group, cadence=cadence,
                                   owner=owner, weekday=weekday, by=BY)
    approved = services.submit_change_request(
        session, project, title="银行批量付款文件接口 Interface to the bank's batch payment file",
        reason="开户行新版网银只接受新格式批量付款文件，原计划手工录入无法满足每周 200 笔付款",
        cost_impact="36000.00", days_impact=10, requested_by="chenjing", by="chenjing")
    services.decide_change_request(session, approved, "approved", by=SPONSOR)
    services.add_work_package(session, project, "execution", code="3.5", name="银行付款文件接口 Bank payment file",
                              owner="sunlei", planned_start=start + timedelta(days=110),
                              planned_end=start + timedelta(days=170), budget="36000.00", by=BY)
    services.submit_change_request(
        session, project, title="仓库手持终端扫码收发货 Barcode scanning for receipts and deliveries",
        reason="仓储部希望上线即用扫码，减少手工录入差错", cost_impact="48000.00", days_impact=12,
        requested_by="wangjun", by="wangjun")


def _kpis(session, project, now) -> None:
    """A few weeks of history, then this week's computed values."""
    history = {"spi": ("computed", ["0.98", "0.96", "0.94", "0.93"]),
               "cpi": ("computed", ["0.99", "0.98", "0.97", "0.96"]),
               "migration_error_rate": ("migration", ["3.8", "2.6", "1.6", "1.7", "1.9"]),
               "uat_pass_rate": ("manual", ["78", "84", "88"])}
    for key, (source, values) in history.items():
        for weeks_ago, value in zip(range(len(values), 0, -1), values, strict=True):
            moment = now - timedelta(weeks=weeks_ago - 1 if key in ("migration_error_rate", "uat_pass_rate")
                                     else weeks_ago, hours=1)
            kpis.record(session, project, key, value, at=moment, source=source)
    kpis.refresh(session, project, now)


def _risks(session, project, start) -> list:
    found = []
    for n, (title, owner, probability, impact, category, proximity, strategy, cause, triggers, contingency,
            actions) in enumerate(RISKS):
        identified = start + timedelta(days=5 + 3 * n)
        risk = risks.create_risk(session, project, title=title, owner=owner, probability=probability, impact=impact,
                                 category=category, proximity=proximity, strategy=strategy, cause=cause,
                                 triggers=triggers, contingency_plan=contingency, actions=actions,
                                 identified_on=identified, residual_probability=max(1, probability - 1),
                                 residual_impact=impact, by=PM)
        risks.review_risk(session, risk, by=owner, notes="月度风险审查 Monthly risk review",
                          status="monitoring" if probability * impact >= 12 else "open")
        found.append(risk)
    return found


def _warning_rules(session, engine, project, found, now) -> int:
    by_title = {r.title.split(" ")[0]: r for r in found}
    rules = [
        ("进度绩效指数低于 0.9 SPI below 0.9", "kpi:spi", "<", "0.9", by_title["关键用户忙于年底结账"]),
        ("数据迁移错误率超过 2% Migration error rate above 2 %", "kpi:migration_error_rate", ">", "2",
         by_title["遗留客户主数据质量差"]),
        ("审批逾期超过 5 件 More than 5 overdue approvals", "process_overdue_tasks:approval", ">", "5",
         by_title["定制开发范围蔓延"]),
        ("预算消耗超过 80% Budget burn above 80 %", "budget_burn", ">", "80", by_title["咨询费超支"]),
    ]
    for name, metric, comparator, threshold, risk in rules:
        rule = warnings.create_rule(session, project, name=name, metric=metric, comparator=comparator,
                                    threshold=threshold, risk=risk.id, every_minutes=60, by=PM)
        warnings.evaluate_rule(session, engine, rule, now)
    return len(rules)


def _phase_ids(session, project, keys) -> set[int]:
    return {services.find_phase(session, project, key).id for key in keys}


def _task(session, project, name) -> ProjectTask:
    return session.scalar(select(ProjectTask).join(WorkPackage, WorkPackage.id == ProjectTask.work_package_id)
                          .where(WorkPackage.project_id == project.id, ProjectTask.name == name))
