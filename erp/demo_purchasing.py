"""Procure-to-pay demo: the demo company's suppliers and procurement instances at different steps — a
requisition awaiting approval, an RFQ with quotes to compare, the order that replenishes the sales backorder
waiting for its goods, an invoice whose price differs from the order for the buyer to resolve, and a purchase
paid and closed. Needs erp.demo_erp and erp.demo_sales loaded first; running it twice adds nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core import clock
from engine.models import ProcessInstance
from engine.queries import show, tasks
from erp.demo_erp import _credit_code
from erp.purchasing import rfqs, services
from erp.purchasing.models import Supplier
from erp.purchasing.process import PROCESS, start_pending_requisitions

SUPPLIERS = [
    # code, 中文, English, region, organisation, phone, city, province, category, terms, bank, account, contact
    # (name, title, mobile, email)
    ("S-000001", "北京恒通商贸有限公司", "Beijing Hengtong Trading Co., Ltd.", "110106", "MA0H1T2N3", "010-8765 4301",
     "北京", "北京市", "办公用品", 30, "中国工商银行北京丰台支行", "0200004509200312345",
     ("宋立新", "销售经理", "13801014301", "songlx@hengtong.example.cn")),
    ("S-000002", "杭州西湖茶业有限公司", "Hangzhou Xihu Tea Co., Ltd.", "330106", "MA2C7X1Y4", "0571-8796 2202",
     "杭州", "浙江省", "农产品", 30, "中国农业银行杭州西湖支行", "19015101040023456",
     ("胡雪梅", "客户经理", "13905712202", "huxm@xihutea.example.cn")),
    ("S-000003", "黑龙江五常稻香米业有限公司", "Heilongjiang Wuchang Daoxiang Rice Co., Ltd.", "230184", "MA1R8K6D2",
     "0451-5362 2303", "五常", "黑龙江省", "农产品", 45, "中国建设银行五常支行", "23050162550100012345",
     ("赵国庆", "销售总监", "13704512303", "zhaogq@daoxiang.example.cn")),
    ("S-000004", "佛山美家电器有限公司", "Foshan Meijia Appliances Co., Ltd.", "440606", "MA4W3E5R6", "0757-2288 2304",
     "佛山", "广东省", "家电", 30, "招商银行佛山分行", "757900123456789",
     ("陈志华", "大客户经理", "13607572304", "chenzh@meijia.example.cn")),
    ("S-000005", "宁波康居家电科技有限公司", "Ningbo Kangju Home Appliance Technology Co., Ltd.", "330212",
     "MA2H6J8K1", "0574-8811 2305", "宁波", "浙江省", "家电", 30, "宁波银行鄞州支行", "51010122000123456",
     ("林海", "销售经理", "13505742305", "linhai@kangju.example.cn")),
    ("S-000006", "浙江舒柔纺织有限公司", "Zhejiang Shurou Textiles Co., Ltd.", "330682", "MA2T4F6G8", "0575-8201 2306",
     "上虞", "浙江省", "日用品", 30, "绍兴银行上虞支行", "1109101234567890",
     ("王丽", "业务员", "13905752306", "wangli@shurou.example.cn")),
]

SCENARIOS = [
    # requester, department, lines (sku, quantity, warehouse), days ago, how far it goes
    ("chenjing", "财务部", [("HX-OFF-001", 30, "BJ01"), ("HX-OFF-002", 50, "BJ01")], 1, "approval"),
    ("wangfang", "采购部", [("HX-TEA-001", 300, "BJ01")], 3, "rfq"),
    ("wangfang", "采购部", [("HX-TEX-001", 200, "BJ01")], 12, "match_exception"),
    ("wangfang", "采购部", [("HX-OIL-001", 100, "BJ01")], 25, "paid"),
]
APPROVERS = {"dept_manager": "zhangwei", "finance_director": "lina", "general_manager": "liuyang"}


def load_purchasing(session, engine) -> dict:
    """The suppliers (once) and the procurement instances (once); what was added."""
    added = {"suppliers": _suppliers(session), "procurement instances": 0}
    if session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key == PROCESS).limit(1)):
        return added
    now = clock.now()
    for requester, department, lines, days_ago, goal in SCENARIOS:
        with clock.frozen(now - timedelta(days=days_ago)):
            requisition = services.create_requisition(
                session, requester=requester, department=department,
                lines=[{"sku": sku, "quantity": quantity, "warehouse": warehouse}
                       for sku, quantity, warehouse in lines])
            services.submit_requisition(session, requisition)
            instance = engine.start(session, PROCESS, {"requisition": requisition.number, "requester": requester},
                                    business_key=requisition.number, user=requester)
            _advance(session, engine, instance.id, goal)
        added["procurement instances"] += 1
    # the requisition the demo's sales backorder raised: approved, ordered, its goods awaited
    for number in start_pending_requisitions(session, engine):
        [instance] = session.scalars(select(ProcessInstance.id).where(ProcessInstance.business_key == number))
        _approve_all(session, engine, instance)
        added["procurement instances"] += 1
    return added


def _suppliers(session) -> int:
    existing = set(session.scalars(select(Supplier.code)))
    added = 0
    for (code, name_zh, name_en, region, organisation, phone, city, province, category, terms, bank, account,
         contact) in SUPPLIERS:
        if code in existing:
            continue
        services.create_supplier(session, code=code, name_zh=name_zh, name_en=name_en,
                                 tax_number=_credit_code(region, organisation), phone=phone, city=city,
                                 province=province, category=category, payment_terms_days=terms, bank_name=bank,
                                 bank_account=account, buyer="wangfang", by="wangfang")
        services.set_qualification(session, code, "qualified")
        name, title, mobile, email = contact
        services.add_supplier_contact(session, services.find_supplier(session, code).id, contact_name=name,
                                      title=title, mobile=mobile, email=email, is_primary=True)
        added += 1
    return added


def _advance(session, engine, instance_id, goal) -> None:
    if goal == "approval":
        return
    _approve_all(session, engine, instance_id)
    data = show(engine, session, instance_id)["data"]
    if goal == "rfq":
        for code, price in zip(data["rfq_info"]["suppliers"], ("176.00", "182.50", "171.00"), strict=False):
            rfqs.record_quote(session, data["rfq"], code, [{"sku": "HX-TEA-001", "unit_price": price}],
                              lead_time_days=7)
        return
    _complete(session, engine, instance_id, "receive_goods", "wangjun",
              {"receipt_lines": _decimal_lines(data["receipt_lines"]), "receipt_note": "送货单 SH-20261101"})
    data = show(engine, session, instance_id)["data"]
    lines = _decimal_lines(data["bill_lines"])
    if goal == "match_exception":
        lines = [{**x, "unit_price": (x["unit_price"] * Decimal("1.08")).quantize(Decimal("0.01"))} for x in lines]
    _complete(session, engine, instance_id, "enter_invoice", "sunmei",
              {"supplier_number": f"1100{instance_id:04d}", "invoice_date": clock.now().date().isoformat(),
               "invoice_kind": "special", "bill_lines": lines})
    if goal == "paid":
        _approve_all(session, engine, instance_id)
        _complete(session, engine, instance_id, "pay_supplier", "sunmei",
                  {"paid_on": clock.now().date().isoformat(), "bank_reference": f"ICBC-{instance_id:06d}"})


def _approve_all(session, engine, instance_id) -> None:
    while True:
        open_ = tasks(session, instance_id=instance_id)
        if len(open_) != 1 or open_[0]["element_id"] != "review":
            return
        approver = APPROVERS[open_[0]["candidate_groups"][0]]
        engine.complete(session, open_[0]["id"], {"decision": "approve", "comment": "同意"}, approver)


def _complete(session, engine, instance_id, element_id, user, data) -> None:
    [task] = [t for t in tasks(session, instance_id=instance_id) if t["element_id"] == element_id]
    engine.complete(session, task["id"], data, user)


def _decimal_lines(lines) -> list[dict]:
    return [{k: (Decimal(v) if k in ("quantity", "unit_price", "rejected") else v) for k, v in x.items()}
            for x in lines]
