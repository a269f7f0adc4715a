"""zh-CN demo data: the people of the reference company and approvals in flight. Running it twice adds nothing."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.settings import load_settings
from engine.deploy import read_paths
from engine.models import ProcessInstance
from erp.demo_erp import load as load_erp
from erp.demo_privacy import load_privacy
from erp.demo_projects import load_projects
from erp.demo_purchasing import load_purchasing
from erp.demo_sales import load_order_to_cash
from erp.identity.services import ensure_group, ensure_user, set_password

#: every demo user's password (the README says so; change it on a real system)
DEMO_PASSWORD = "demo1234"

PEOPLE = [
    # username, display name, email, groups, roles, manager
    ("wangfang", "王芳", "wangfang@example.cn", ["employees", "purchasing"], ["employee", "purchasing"], "zhangwei"),
    ("zhangwei", "张伟", "zhangwei@example.cn", ["employees", "dept_manager", "sales_manager", "contract_committee",
                                                  "project_managers"],
     ["employee", "manager"], "liuyang"),
    ("lina", "李娜", "lina@example.cn", ["employees", "finance_director", "credit_manager", "contract_committee",
                                          "steering_committee"],
     ["employee", "manager"], "liuyang"),
    ("liuyang", "刘洋", "liuyang@example.cn", ["employees", "general_manager", "steering_committee"],
     ["employee", "manager"], None),
    ("chenjing", "陈静", "chenjing@example.cn", ["employees", "finance", "user_representatives"], ["employee"],
     "lina"),
    ("zhaolei", "赵磊", "zhaolei@example.cn", ["employees", "process_analysts", "data_stewards", "technical_experts",
                                              "business_analysts"], ["employee", "analyst"], "liuyang"),
    ("admin", "系统管理员", "admin@example.cn", ["it"], ["administrator"], None),
    ("zhaoqiang", "赵强", "zhaoqiang@example.cn", ["employees", "sales", "user_representatives"], ["employee", "sales"],
     "zhangwei"),
    ("sunmei", "孙梅", "sunmei@example.cn", ["employees", "finance"], ["employee", "finance"], "lina"),
    ("wangjun", "王军", "wangjun@example.cn", ["employees", "warehouse", "testers"], ["employee", "warehouse"],
     "zhangwei"),
    ("zhoumin", "周敏", "zhoumin@example.cn", ["employees", "legal", "contract_committee"], ["employee"],
     "liuyang"),
    ("sunlei", "孙磊", "sunlei@example.cn", ["employees", "technical_experts"], ["employee"], "zhaolei"),
]

GROUPS = {
    # name: (中文, English)
    "employees": ("全体员工", "All employees"),
    "purchasing": ("采购部", "Purchasing"),
    "dept_manager": ("部门经理", "Department managers"),
    "finance_director": ("财务总监", "Finance director"),
    "general_manager": ("总经理", "General manager"),
    "finance": ("财务部", "Finance"),
    "process_analysts": ("流程分析师", "Process analysts"),
    # data migration: review dry runs, accept warnings, sign off imports
    "data_stewards": ("数据管理员", "Data stewards"),
    "it": ("信息部", "IT"),
    "sales": ("销售部", "Sales"),
    "warehouse": ("仓储部", "Warehouse"),
    "sales_manager": ("销售经理", "Sales managers"),
    "credit_manager": ("信用经理", "Credit managers"),
    "legal": ("法务部", "Legal"),
    # contracts from 500,000 CNY need every member's countersign (会签), see bpmn/approval/approval_levels.dmn
    "contract_committee": ("合同评审委员会", "Contract review committee"),
    # the ERP implementation project's lanes (bpmn/implementation); gate reviews need every committee member (会签)
    "steering_committee": ("项目指导委员会", "Steering committee"),
    "project_managers": ("项目经理", "Project managers"),
    "technical_experts": ("技术专家", "Technical experts"),
    "business_analysts": ("业务分析师", "Business analysts"),
    "testers": ("测试人员", "Testers"),
    "user_representatives": ("用户代表", "User representatives"),
}

APPROVALS = [
    # business key, subject, amount (CNY), department, requester, decisions taken so far
    ("PR-2026-0001", "办公用品采购（打印纸、硒鼓）", Decimal("3200.00"), "行政部", "wangfang", []),
    ("PR-2026-0002", "服务器采购（2 台）", Decimal("56000.00"), "信息部", "wangfang", []),
    ("PR-2026-0003", "ERP 实施咨询费（第一阶段）", Decimal("380000.00"), "项目管理办公室", "chenjing", []),
    ("PR-2026-0004", "销售部团建费用", Decimal("8600.00"), "销售部", "wangfang",
     [("zhangwei", {"decision": "return", "comment": "请附上活动方案与报价单"})]),
    ("PR-2026-0005", "财务软件年费", Decimal("12800.00"), "财务部", "chenjing",
     [("zhangwei", {"decision": "approve", "comment": "同意"}), ("lina", {"decision": "approve", "comment": "同意"})]),
]


def load_demo(session, engine) -> str:
    for name, (title_zh, title_en) in GROUPS.items():
        ensure_group(session, name, title_zh, title_en)
    for username, name, email, groups, roles, _manager in PEOPLE:
        user = ensure_user(session, username, name, email=email, groups=groups, roles=roles)
        if not user.password_hash:
            set_password(user, DEMO_PASSWORD)
    for username, *_, manager in PEOPLE:
        if manager:
            ensure_user(session, username, manager=manager)
    deployed = engine.deploy(session, read_paths([load_settings().bpmn_dir]), user="system", comment="演示数据")
    existing = set(session.scalars(select(ProcessInstance.business_key)))
    started = 0
    for key, title, amount, department, requester, decisions in APPROVALS:
        if key in existing:
            continue
        instance = engine.start(session, "approval", {"title": title, "amount": amount,
                                                      "department": department, "requester": requester},
                                business_key=key, user=requester)
        for user, data in decisions:
            from engine.queries import tasks

            [task] = tasks(session, instance_id=instance.id)
            engine.complete(session, task["id"], data, user)
        started += 1
    erp_summary = load_erp(session)
    erp_summary += f"; {load_order_to_cash(session, engine)} order-to-cash instance(s)"
    purchasing = load_purchasing(session, engine)
    erp_summary += "; " + ", ".join(f"{n} {what}" for what, n in purchasing.items())
    projects = load_projects(session, engine)
    erp_summary += "; " + ", ".join(f"{n} {what}" for what, n in projects.items())
    erp_summary += "; " + load_privacy(session, engine)
    return (f"演示数据已就绪 demo data ready: {len(PEOPLE)} users, "
            f"{len(deployed)} process definition(s), {started} new approval instance(s); {erp_summary}")
