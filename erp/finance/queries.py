"""Reading the books: accounts, 试算平衡表, 利润表, 资产负债表, 总账/明细账 and 账龄分析.

Amounts are Decimal with 2 places.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from erp.finance.models import Account, JournalEntry, JournalLine
from erp.finance.services import CENT, ZERO, today

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "over_90")


def money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def accounts(session) -> list[dict]:
    parents = {a.id: a.code for a in session.scalars(select(Account))}
    return [dict(code=a.code, name_zh=a.name_zh, name_en=a.name_en, type=a.type, normal_side=a.normal_side,
                 parent=parents.get(a.parent_id), postable=a.postable, active=a.active)
            for a in session.scalars(select(Account).order_by(Account.code))]


def _totals(session, *, date_from: date | None = None, date_to: date | None = None) -> dict[str, tuple]:
    """Per account code: (debit total, credit total) of the lines dated within the bounds."""
    query = (select(Account.code, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
             .join(JournalLine, JournalLine.account_id == Account.id)
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id).group_by(Account.code))
    if date_from is not None:
        query = query.where(JournalEntry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(JournalEntry.entry_date <= date_to)
    return {code: (money(d), money(c)) for code, d, c in session.execute(query)}


def _on_side(side: str, debit: Decimal, credit: Decimal) -> Decimal:
    return debit - credit if side == "debit" else credit - debit


def trial_balance(session, as_of: date | None = None) -> dict:
    """Every account posted to: debit and credit totals and the balance on its normal side."""
    totals = _totals(session, date_to=as_of)
    rows = []
    for a in session.scalars(select(Account).where(Account.code.in_(totals)).order_by(Account.code)):
        debit, credit = totals[a.code]
        rows.append(dict(code=a.code, name_zh=a.name_zh, name_en=a.name_en, type=a.type,
                         normal_side=a.normal_side, debit=debit, credit=credit,
                         balance=_on_side(a.normal_side, debit, credit)))
    total_debit, total_credit = sum((r["debit"] for r in rows), ZERO), sum((r["credit"] for r in rows), ZERO)
    balance_debit = sum((max(r["debit"] - r["credit"], ZERO) for r in rows), ZERO)
    balance_credit = sum((max(r["credit"] - r["debit"], ZERO) for r in rows), ZERO)
    return dict(as_of=as_of, accounts=rows, total_debit=total_debit, total_credit=total_credit,
                balance_debit=balance_debit, balance_credit=balance_credit,
                balanced=total_debit == total_credit and balance_debit == balance_credit)


#: 利润表 lines of the small-enterprise format: (key, 中文, account codes, sign in the operating profit)
PROFIT_LINES = (
    ("operating_revenue", "营业收入", ("5001", "5051"), 1),
    ("operating_cost", "营业成本", ("5401", "5402"), -1),
    ("taxes_and_surcharges", "税金及附加", ("5403",), -1),
    ("selling_expenses", "销售费用", ("5601",), -1),
    ("administrative_expenses", "管理费用", ("5602",), -1),
    ("finance_costs", "财务费用", ("5603",), -1),
    ("investment_income", "投资收益", ("5111",), 1),
    ("non_operating_income", "营业外收入", ("5301",), 1),
    ("non_operating_expenses", "营业外支出", ("5711",), -1),
    ("income_tax", "所得税费用", ("5801",), -1),
)


def _income(session, date_from=None, date_to=None) -> tuple[dict[str, Decimal], Decimal]:
    """Per revenue/expense account its amount (revenue on credit, expense on debit) and the net profit."""
    totals = _totals(session, date_from=date_from, date_to=date_to)
    amounts, net = {}, ZERO
    for a in session.scalars(select(Account).where(Account.type.in_(("revenue", "expense")))):
        debit, credit = totals.get(a.code, (ZERO, ZERO))
        amount = _on_side("credit" if a.type == "revenue" else "debit", debit, credit)
        amounts[a.code] = amount
        net += amount if a.type == "revenue" else -amount
    return amounts, net


def profit_and_loss(session, date_from: date, date_to: date) -> dict:
    """利润表 for the period: the standard's lines, operating/total/net profit."""
    amounts, net = _income(session, date_from, date_to)
    lines = {key: sum((amounts.get(c, ZERO) for c in codes), ZERO) for key, _, codes, _ in PROFIT_LINES}
    operating = sum((sign * lines[key] for key, _, _, sign in PROFIT_LINES[:7]), ZERO)
    total = operating + lines["non_operating_income"] - lines["non_operating_expenses"]
    return dict(date_from=date_from, date_to=date_to, lines=lines, operating_profit=operating,
                total_profit=total, net_profit=net,
                accounts={code: amount for code, amount in sorted(amounts.items()) if amount})


def balance_sheet(session, as_of: date | None = None) -> dict:
    """资产负债表 at a date: assets = liabilities + equity, equity including the profit not yet closed."""
    as_of = as_of or today()
    totals = _totals(session, date_to=as_of)
    sections: dict[str, list] = {"assets": [], "liabilities": [], "equity": []}
    section_of = {"asset": "assets", "cost": "assets", "liability": "liabilities", "equity": "equity"}
    for a in session.scalars(select(Account).where(Account.code.in_(totals)).order_by(Account.code)):
        if a.type not in section_of:
            continue
        debit, credit = totals[a.code]
        section = section_of[a.type]
        amount = _on_side("debit" if section == "assets" else "credit", debit, credit)
        if amount:
            sections[section].append(dict(code=a.code, name_zh=a.name_zh, name_en=a.name_en, amount=amount))
    _, profit = _income(session, None, as_of)
    result = {name: rows for name, rows in sections.items()}
    result.update({f"total_{name}": sum((r["amount"] for r in rows), ZERO) for name, rows in sections.items()})
    result["undistributed_profit"] = profit
    result["total_equity"] += profit
    result["total_liabilities_and_equity"] = result["total_liabilities"] + result["total_equity"]
    result["balanced"] = result["total_assets"] == result["total_liabilities_and_equity"]
    result["as_of"] = as_of
    return result


def account_ledger(session, code: str, date_from: date | None = None, date_to: date | None = None) -> dict:
    """明细账 of an account (with its sub-accounts): opening balance, lines with running balance, closing."""
    account = session.scalars(select(Account).where(Account.code == code)).first()
    if account is None:
        from core.errors import NotFound

        raise NotFound(f"no account {code}")
    scope = Account.code.startswith(code)
    opening = ZERO
    if date_from is not None:
        before = select(func.sum(JournalLine.debit), func.sum(JournalLine.credit)).join(Account).join(
            JournalEntry).where(scope, JournalEntry.entry_date < date_from)
        debit, credit = session.execute(before).one()
        opening = _on_side(account.normal_side, money(debit), money(credit))
    query = (select(JournalLine, JournalEntry, Account.code).join(Account).join(JournalEntry).where(scope)
             .order_by(JournalEntry.entry_date, JournalEntry.id, JournalLine.line_no))
    if date_from is not None:
        query = query.where(JournalEntry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(JournalEntry.entry_date <= date_to)
    balance, lines = opening, []
    for line, entry, line_code in session.execute(query):
        balance += _on_side(account.normal_side, line.debit, line.credit)
        lines.append(dict(date=entry.entry_date, number=entry.number, account=line_code,
                          description=line.description or entry.description, debit=money(line.debit),
                          credit=money(line.credit), balance=balance, partner_code=line.partner_code))
    return dict(code=account.code, name_zh=account.name_zh, name_en=account.name_en,
                normal_side=account.normal_side, opening=opening, lines=lines, closing=balance,
                debit_total=sum((x["debit"] for x in lines), ZERO),
                credit_total=sum((x["credit"] for x in lines), ZERO))


def ar_aging(session, as_of: date | None = None) -> dict:
    """应收账款账龄: per customer, the open items of 1122 after payments applied oldest first."""
    return _aging(session, "1122", "debit", as_of or today())


def ap_aging(session, as_of: date | None = None) -> dict:
    """应付账款账龄: per supplier, the open items of 2202 after payments applied oldest first."""
    return _aging(session, "2202", "credit", as_of or today())


def _aging(session, code: str, item_side: str, as_of: date) -> dict:
    reversed_ids = select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    query = (select(JournalLine, JournalEntry.entry_date).join(Account).join(JournalEntry)
             .where(Account.code == code, JournalEntry.entry_date <= as_of,
                    JournalEntry.reverses_id.is_(None), JournalEntry.id.not_in(reversed_ids))
             .order_by(JournalEntry.entry_date, JournalEntry.id, JournalLine.line_no))
    items: dict[str | None, list] = {}
    paid: dict[str | None, Decimal] = {}
    for line, entry_date in session.execute(query):
        item, payment = (line.debit, line.credit) if item_side == "debit" else (line.credit, line.debit)
        if item:
            items.setdefault(line.partner_code, []).append([line.due_date or entry_date, money(item)])
        else:
            paid[line.partner_code] = paid.get(line.partner_code, ZERO) + money(payment)
    partners = []
    for partner in sorted(set(items) | set(paid), key=lambda p: p or ""):
        buckets = dict.fromkeys(AGING_BUCKETS, ZERO)
        left = paid.get(partner, ZERO)
        for due, amount in sorted(items.get(partner, []), key=lambda i: i[0]):
            applied = min(left, amount)
            left -= applied
            if amount - applied:
                buckets[_bucket((as_of - due).days)] += amount - applied
        partners.append(dict(partner_code=partner, **buckets, unapplied=left,
                             total=sum(buckets.values(), ZERO) - left))
    totals = {name: sum((p[name] for p in partners), ZERO) for name in (*AGING_BUCKETS, "unapplied", "total")}
    return dict(as_of=as_of, account=code, partners=partners, totals=totals)


def _bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    return "61-90" if days_overdue <= 90 else "over_90"
