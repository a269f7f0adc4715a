"""Roles and what they permit. Every page and API endpoint names one permission; a user holds the union of
their roles' permissions. Finer rules (whose task, whose instance) are checked by the services and queries."""
from __future__ import annotations

#: employee, manager, analyst and administrator run the processes; sales (销售), finance (财务), warehouse
#: (仓管) and purchasing (采购) work in the ERP pages
ROLES = ("employee", "manager", "analyst", "administrator", "sales", "finance", "warehouse", "purchasing",
         "privacy_officer", "auditor")

#: permission -> the roles that hold it
PERMISSIONS: dict[str, frozenset[str]] = {
    # work the inbox, start processes, see the instances one is involved in
    "task.work": frozenset(ROLES),
    "process.start": frozenset(ROLES),
    "instance.view": frozenset(ROLES),
    # every instance, not only one's own (managers see their reports' through instance.view)
    "instance.view_all": frozenset({"analyst", "administrator"}),
    # personal information (phone numbers, ID numbers, bank accounts) unmasked; the person in charge of
    # personal-information protection answers people's requests about their own information and needs it
    "personal_data.view": frozenset({"manager", "administrator", "privacy_officer"}),
    # set due and follow-up dates on others' tasks, reassign within one's team
    "task.supervise": frozenset({"manager", "administrator"}),
    # process definitions and their versions (the modeler builds on this)
    "definition.view": frozenset({"analyst", "administrator"}),
    # the modeler (流程设计器): save diagram drafts, validate them, preview moving instances between versions
    "definition.edit": frozenset({"analyst", "administrator"}),
    # deploy a draft as a new version and move running instances to another version
    "definition.deploy": frozenset({"analyst", "administrator"}),
    # retry incidents, suspend, resume, terminate
    "instance.administer": frozenset({"administrator"}),
    # users, groups, roles, tokens
    "admin.users": frozenset({"administrator"}),
    # the audit trail (审计日志): searched and exported, read only, by auditors and administrators
    "audit.view": frozenset({"administrator", "auditor"}),
    # the access log (访问日志) of personal information shown unmasked
    "access_log.view": frozenset({"auditor", "privacy_officer", "administrator"}),
    # customers, contacts, opportunities and activities: a sales rep sees only the customers in their charge
    "crm.view": frozenset({"sales", "manager", "administrator"}),
    # every customer, not only one's own
    "crm.view_all": frozenset({"manager", "administrator"}),
    # create customers, log activities, move opportunities through the pipeline
    "crm.edit": frozenset({"sales", "manager"}),
    # stock levels, moves and reorder points
    "stock.view": frozenset({"sales", "warehouse", "finance", "manager", "administrator"}),
    # the books: trial balance, profit and loss, balance sheet, receivables aging
    "ledger.view": frozenset({"finance", "manager", "administrator"}),
    # quotations, sales orders, deliveries, invoices and payments: a sales rep sees those of their customers
    "sales.view": frozenset({"sales", "finance", "warehouse", "manager", "administrator"}),
    # every customer's sales documents
    "sales.view_all": frozenset({"finance", "warehouse", "manager", "administrator"}),
    # create quotations and send them into order-to-cash
    "sales.edit": frozenset({"sales", "manager"}),
    # record payments received and import bank statements
    "payment.record": frozenset({"finance"}),
    # deliver a process message from outside (integrations: payments, goods receipts)
    "message.send": frozenset({"finance", "administrator"}),
    # raise purchase requisitions and follow one's own (anyone may ask for something to be bought)
    "requisition.create": frozenset(ROLES),
    # suppliers, every requisition, RFQs, purchase orders, receipts and match exceptions
    "purchasing.view": frozenset({"purchasing", "warehouse", "finance", "manager", "administrator"}),
    # create and change suppliers, record suppliers' quotes
    "purchasing.edit": frozenset({"purchasing", "manager"}),
    # what we owe suppliers: supplier invoices, payables and their aging
    "payables.view": frozenset({"finance", "manager", "administrator"}),
    # the implementation project (实施项目): dashboard, Gantt, risk register, status report; everyone on the
    # rollout follows it
    "project.view": frozenset(ROLES),
    # plan, progress and gate reviews (the implementation process does them; the pages offer the links)
    "project.manage": frozenset({"manager", "administrator"}),
    # identify, assess and change risks; a risk's owner may also review their own risk (checked by the view)
    "risk.edit": frozenset({"manager", "analyst", "administrator"}),
    # data migration (数据迁移): upload legacy files, read the dry run, submit imports, see reconciliations; the
    # data stewards
    "migration.run": frozenset({"analyst", "administrator", "manager"}),
    # personal information (个人信息保护): the inventory, the consent ledger, people's requests and security
    # incidents; the person in charge of personal-information protection (个人信息保护负责人) and administrators
    "privacy.manage": frozenset({"privacy_officer", "administrator"}),
    # file a request about one's own information or on behalf of a customer; report a security incident
    "privacy.request": frozenset(ROLES),
}


def permissions_of(roles) -> frozenset[str]:
    roles = set(roles or ())
    return frozenset(p for p, holders in PERMISSIONS.items() if holders & roles)


def has_permission(roles, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(PERMISSIONS[permission] & set(roles or ()))


def check_roles(roles) -> list[str]:
    from core.errors import InvalidInput

    roles = [r.strip() for r in roles if r and r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}",
                           {"roles": [f"unknown: {', '.join(unknown)}"]})
    if not roles:
        raise InvalidInput("a user needs at least one role", {"roles": ["at least one role"]})
    return list(dict.fromkeys(roles))
