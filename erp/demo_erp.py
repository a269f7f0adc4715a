"""zh-CN demo data for the ERP pages: 北京华信商贸有限公司, a Beijing trading company, with its books, warehouses,
products, stock, customers and pipeline. Every step looks for what it would add first: loading twice adds
nothing."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from erp.catalog import services as catalog
from erp.catalog.models import PriceList, Product
from erp.catalog.money import to_cents, vat_of
from erp.crm import services as crm
from erp.crm.models import Activity, Customer, Lead, Opportunity, SatisfactionSurvey
from erp.crm.validation import credit_code_check_char
from erp.finance.models import JournalEntry
from erp.finance.services import ensure_chart, post_entry, today
from erp.inventory import services as inventory
from erp.inventory.models import StockMove, Warehouse

COMPANY = "北京华信商贸有限公司"
SOURCE = "demo"  # the source type of the demo's journal entries and stock moves
PRICE_LIST = "标准价目表"

WAREHOUSES = [
    # code, 中文, English, address
    ("BJ01", "北京总仓", "Beijing main warehouse", "北京市大兴区京开路 88 号"),
    ("TJ01", "天津仓", "Tianjin warehouse", "天津市东丽区航双路 16 号"),
]

PRODUCTS = [
    # sku, 中文, English, unit, unit (en), VAT, category, unit cost (None: a service, not stocked), list price,
    # stock in BJ01, TJ01
    ("HX-TEA-001", "西湖龙井茶（250 克/罐）", "West Lake Longjing tea, 250 g can", "罐", "can", "0.09", "农产品",
     "180.00", "268.00", 120, 40),
    ("HX-RICE-001", "五常大米（10 千克/袋）", "Wuchang rice, 10 kg bag", "袋", "bag", "0.09", "农产品",
     "85.00", "128.00", 300, 200),
    ("HX-OIL-001", "压榨花生油（5 升/桶）", "Pressed peanut oil, 5 l", "桶", "drum", "0.09", "农产品",
     "95.00", "139.00", 150, 80),
    ("HX-FRUIT-001", "烟台红富士苹果（5 千克/箱）", "Yantai Fuji apples, 5 kg box", "箱", "box", "0.09", "农产品",
     "60.00", "98.00", 100, 0),
    ("HX-LIQ-001", "酱香型白酒（500 毫升/瓶）", "Baijiu, sauce aroma, 500 ml", "瓶", "bottle", "0.13", "酒水",
     "680.00", "899.00", 60, 24),
    ("HX-APP-001", "智能电饭煲（4 升）", "Smart rice cooker, 4 l", "台", "unit", "0.13", "家电",
     "260.00", "399.00", 45, 20),
    ("HX-APP-002", "家用空气净化器", "Home air purifier", "台", "unit", "0.13", "家电",
     "980.00", "1399.00", 8, 12),
    ("HX-OFF-001", "A4 复印纸（70 克，5 包/箱）", "A4 copy paper, 70 g, 5 reams", "箱", "box", "0.13", "办公用品",
     "110.00", "155.00", 200, 100),
    ("HX-OFF-002", "订书机（中号）", "Stapler, medium", "个", "piece", "0.13", "办公用品",
     "18.00", "29.00", 300, 0),
    ("HX-TEX-001", "纯棉毛巾（三条装）", "Cotton towels, pack of 3", "套", "set", "0.13", "日用品",
     "32.00", "49.00", 400, 150),
    ("HX-SVC-001", "家电安装服务", "Appliance installation", "次", "visit", "0.06", "服务",
     None, "300.00", 0, 0),
    ("HX-SVC-002", "仓储配送服务（每托盘·月）", "Warehousing and delivery, per pallet-month", "托盘·月",
     "pallet-month", "0.06", "服务", None, "180.00", 0, 0),
]

#: (sku, warehouse, minimum, reorder quantity): the air purifiers in Beijing are below theirs
REORDER_POINTS = [("HX-APP-002", "BJ01", "10", "30"), ("HX-RICE-001", "BJ01", "50", "200"),
                  ("HX-LIQ-001", "TJ01", "12", "36")]


def _credit_code(region: str, organisation: str) -> str:
    first17 = "91" + region + organisation
    return first17 + credit_code_check_char(first17)


CUSTOMERS = [
    # code, 中文, English, region (credit code), organisation code, phone, city, province, tier, credit limit,
    # terms, rep, tags, segment
    ("C-000001", "北京鑫源百货有限公司", "Beijing Xinyuan Department Store Co., Ltd.", "110105", "MA01A2B3C",
     "010-6588 1201", "北京", "北京市", "A", "500000", 30, "zhaoqiang", ["零售", "重点客户"], "百货零售"),
    ("C-000002", "北京丰泽餐饮管理有限公司", "Beijing Fengze Catering Management Co., Ltd.", "110108", "MA02D4E5F",
     "010-6275 3302", "北京", "北京市", "B", "200000", 30, "zhaoqiang", ["餐饮"], "餐饮"),
    ("C-000003", "天津海润食品有限公司", "Tianjin Hairun Foods Co., Ltd.", "120101", "MA03G6H7J",
     "022-2331 4403", "天津", "天津市", "A", "800000", 45, "zhangwei", ["食品", "批发"], "食品批发"),
    ("C-000004", "北京博雅文化用品有限公司", "Beijing Boya Stationery Co., Ltd.", "110102", "MA04K8L9M",
     "010-6601 5504", "北京", "北京市", "C", "50000", 15, "zhaoqiang", ["办公用品"], "文具"),
    ("C-000005", "廊坊恒达物流有限公司", "Langfang Hengda Logistics Co., Ltd.", "131003", "MA05N1P2Q",
     "0316-220 6605", "廊坊", "河北省", "B", "150000", 30, "zhangwei", ["物流"], "物流"),
    ("C-000006", "北京康宁酒店管理有限公司", "Beijing Kangning Hotel Management Co., Ltd.", "110101", "MA06R3T4U",
     "010-8511 7706", "北京", "北京市", "A", "300000", 30, "zhaoqiang", ["酒店", "重点客户"], "酒店"),
    ("C-000007", "上海优品电器贸易有限公司", "Shanghai Youpin Appliances Trading Co., Ltd.", "310115", "MA07W5X6Y",
     "021-5888 8807", "上海", "上海市", "B", "250000", 60, "zhangwei", ["家电"], "家电批发"),
    ("C-000008", "北京绿野生鲜超市有限公司", "Beijing Lvye Fresh Supermarket Co., Ltd.", "110106", "MA08A7B8C",
     "010-8361 9908", "北京", "北京市", "C", "80000", 15, "zhaoqiang", ["生鲜", "零售"], "生鲜零售"),
]

CONTACTS = {
    # customer code: [(name, title, mobile, email, wechat, primary)]
    "C-000001": [("周建国", "采购总监", "13901012201", "zhoujg@xinyuan.example.cn", "zhoujg_xy", True),
                 ("吴丽", "采购专员", "13701012202", "wuli@xinyuan.example.cn", None, False)],
    "C-000002": [("郑海涛", "总经理", "13801012203", "zhenght@fengze.example.cn", "fz_zheng", True)],
    "C-000003": [("冯晓燕", "采购经理", "13602212204", "fengxy@hairun.example.cn", "hairun_feng", True)],
    "C-000004": [("何明", "店长", "13501012205", "heming@boya.example.cn", None, True)],
    "C-000005": [("许志强", "运营经理", "13903162206", "xuzq@hengda.example.cn", "hengda_xu", True)],
    "C-000006": [("马静", "行政采购", "13911012207", "majing@kangning.example.cn", "kn_majing", True),
                 ("林涛", "餐饮总监", "13611012208", "lintao@kangning.example.cn", None, False)],
    "C-000007": [("罗斌", "采购总监", "13821212209", "luobin@youpin.example.cn", "yp_luobin", True)],
    "C-000008": [("高秀英", "生鲜采购", "13511012210", "gaoxy@lvye.example.cn", "lvye_gao", True)],
}

OPPORTUNITIES = [
    # customer, title, expected revenue, days to close, stage, owner, lost reason
    ("C-000001", "春节礼盒团购（茶叶、白酒）", "186000", 30, "negotiation", "zhaoqiang", None),
    ("C-000001", "门店日用品年度供货", "240000", 75, "proposal", "zhaoqiang", None),
    ("C-000002", "中央厨房大米、食用油年度采购", "96000", 45, "qualification", "zhaoqiang", None),
    ("C-000003", "天津区域粮油代理", "520000", 90, "prospecting", "zhangwei", None),
    ("C-000004", "办公用品季度补货", "28000", 14, "won", "zhaoqiang", None),
    ("C-000005", "仓储配送服务外包", "150000", 60, "proposal", "zhangwei", None),
    ("C-000006", "客房毛巾、电饭煲更新", "68000", 20, "negotiation", "zhaoqiang", None),
    ("C-000007", "空气净化器区域分销", "310000", 40, "lost", "zhangwei", "对方选择了厂家直供，价格低 8%"),
    ("C-000008", "生鲜水果稳定供货", "45000", 25, "prospecting", "zhaoqiang", None),
]

LEADS = [
    # contact, company, phone, source, owner
    ("钱伟", "北京悦来便利店有限公司", "13910013301", "展会", "zhaoqiang"),
    ("孔丽华", "保定万家福超市有限公司", "13803123302", "官网咨询", "zhaoqiang"),
    ("曹阳", "北京百草堂药房连锁有限公司", "010-6789 3303", "老客户推荐", "zhangwei"),
]

ACTIVITIES = [
    # customer, kind, subject, notes, owner, days ago (negative: a follow-up due in that many days)
    ("C-000001", "visit", "拜访周总，洽谈春节礼盒", "客户关注白酒的真伪溯源，需提供授权书", "zhaoqiang", 12),
    ("C-000001", "call", "确认礼盒数量与交期", "初步 600 套，1 月 10 日前到货", "zhaoqiang", 3),
    ("C-000001", "meeting", "礼盒报价评审", None, "zhaoqiang", -2),
    ("C-000002", "call", "了解中央厨房用量", "大米每月约 2 吨", "zhaoqiang", 8),
    ("C-000003", "visit", "天津海润初次拜访", "对方有意向做区域代理", "zhangwei", 5),
    ("C-000006", "email", "发送毛巾样品报价", None, "zhaoqiang", 4),
    ("C-000006", "call", "跟进样品试用反馈", None, "zhaoqiang", -3),
    ("C-000007", "meeting", "分销价格谈判", "对方要求再降 8%，无法接受", "zhangwei", 20),
    ("C-000008", "visit", "门店走访", "生鲜区苹果损耗较高，可考虑小包装", "zhaoqiang", 6),
]

SURVEYS = [
    # customer, score, NPS, comment, channel, days ago
    ("C-000001", 5, 9, "到货及时，包装完好", "phone", 40),
    ("C-000002", 4, 8, "大米品质稳定", "wechat", 35),
    ("C-000004", 3, 6, "希望增加品类", "visit", 20),
    ("C-000006", 5, 10, "服务响应快", "email", 15),
    ("C-000008", 4, 7, None, "wechat", 10),
]

INVOICES = [
    # number, customer, days ago, lines (sku, quantity), paid
    ("INV-DEMO-0001", "C-000004", 120, [("HX-OFF-001", 40), ("HX-OFF-002", 60)], True),
    ("INV-DEMO-0002", "C-000001", 140, [("HX-TEA-001", 30), ("HX-TEX-001", 100)], False),
    ("INV-DEMO-0003", "C-000003", 70, [("HX-RICE-001", 80), ("HX-OIL-001", 40)], False),
    ("INV-DEMO-0004", "C-000006", 75, [("HX-APP-001", 10), ("HX-SVC-001", 10)], False),
    ("INV-DEMO-0005", "C-000002", 20, [("HX-RICE-001", 40), ("HX-OIL-001", 20)], False),
    ("INV-DEMO-0006", "C-000008", 6, [("HX-FRUIT-001", 30)], False),
]

EXPENSES = [
    # key, days ago, account, description, amount
    ("RENT-1", 90, "5602", "仓库及办公室租金", "45000.00"),
    ("RENT-2", 60, "5602", "仓库及办公室租金", "45000.00"),
    ("RENT-3", 30, "5602", "仓库及办公室租金", "45000.00"),
    ("SALARY-1", 60, "5601", "销售人员工资", "68000.00"),
    ("SALARY-2", 30, "5601", "销售人员工资", "68000.00"),
    ("BANK-FEE", 15, "5603", "银行手续费", "320.00"),
]


def load(session) -> str:
    """Load the demo company (needs nothing else: sales reps are usernames)."""
    ensure_chart(session)
    day0 = (today() - timedelta(days=150)).replace(day=1)
    counts = {"warehouses": _warehouses(session), "products": _products(session),
              "stock": _stock(session), "customers": _customers(session),
              "opportunities": _opportunities(session), "leads": _leads(session),
              "activities": _activities(session), "surveys": _surveys(session),
              "entries": _books(session, day0)}
    added = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    return f"{COMPANY}: {added or 'nothing new'}"


def _warehouses(session) -> int:
    existing = set(session.scalars(select(Warehouse.code)))
    added = 0
    for code, name_zh, name_en, address in WAREHOUSES:
        if code not in existing:
            inventory.create_warehouse(session, code=code, name_zh=name_zh, name_en=name_en, address=address)
            added += 1
    return added


def _products(session) -> int:
    existing = set(session.scalars(select(Product.sku)))
    if session.scalar(select(PriceList.id).where(PriceList.name == PRICE_LIST)) is None:
        catalog.create_price_list(session, name=PRICE_LIST, is_default=True)
    added = 0
    for sku, name_zh, name_en, unit, unit_en, vat, category, cost, price, *_stock in PRODUCTS:
        if sku in existing:
            continue
        catalog.create_product(session, sku=sku, name_zh=name_zh, name_en=name_en, unit=unit, unit_en=unit_en,
                               vat_rate=Decimal(vat), category=category, stocked=cost is not None)
        catalog.set_price(session, PRICE_LIST, sku, Decimal(price))
        added += 1
    for sku, warehouse, minimum, quantity in REORDER_POINTS:
        inventory.set_reorder_point(session, sku, warehouse, Decimal(minimum), Decimal(quantity))
    return added


def _stock(session) -> int:
    """The opening stock, received at cost (the opening journal entry carries its value)."""
    if session.scalar(select(StockMove.id).where(StockMove.reference_type == SOURCE,
                                                 StockMove.reference_id == "opening").limit(1)):
        return 0
    added = 0
    for sku, *_, cost, _price, in_beijing, in_tianjin in PRODUCTS:
        for warehouse, quantity in (("BJ01", in_beijing), ("TJ01", in_tianjin)):
            if cost and quantity:
                inventory.receive(session, sku, warehouse, Decimal(quantity), unit_cost=Decimal(cost),
                                  reference=(SOURCE, "opening"), by="wangjun", note="期初库存")
                added += 1
    return added


def opening_stock_value() -> Decimal:
    return sum((Decimal(cost) * (bj + tj) for *_, cost, _price, bj, tj in PRODUCTS if cost), Decimal("0.00"))


def _customers(session) -> int:
    existing = set(session.scalars(select(Customer.code)))
    added = 0
    for (code, name_zh, name_en, region, organisation, phone, city, province, tier, limit, terms, rep, tags,
         segment) in CUSTOMERS:
        if code in existing:
            continue
        customer = crm.create_customer(
            session, code=code, name_zh=name_zh, name_en=name_en, tax_number=_credit_code(region, organisation),
            phone=phone, city=city, province=province, address=f"{province}{city}", tier=tier,
            credit_limit=Decimal(limit), payment_terms_days=terms, sales_rep=rep, tags=tags, segment=segment,
            by="system")
        for name, title, mobile, email, wechat, primary in CONTACTS.get(code, []):
            crm.add_contact(session, customer.id, contact_name=name, title=title, mobile=mobile, email=email,
                            wechat_id=wechat, is_primary=primary)
        added += 1
    return added


def _customer_ids(session) -> dict[str, int]:
    return dict(session.execute(select(Customer.code, Customer.id)).tuples().all())


def _opportunities(session) -> int:
    ids = _customer_ids(session)
    existing = set(session.execute(select(Opportunity.customer_id, Opportunity.title)).tuples().all())
    added = 0
    for code, title, revenue, days, stage, owner, lost_reason in OPPORTUNITIES:
        if (ids[code], title) in existing:
            continue
        closed = stage in ("won", "lost")
        opportunity = crm.create_opportunity(
            session, ids[code], title=title, expected_revenue=Decimal(revenue),
            expected_close=today() + timedelta(days=days), owner=owner, by=owner,
            stage="negotiation" if closed else stage)
        if closed:
            crm.move_opportunity(session, opportunity.id, stage, by=owner, lost_reason=lost_reason)
        added += 1
    return added


def _leads(session) -> int:
    existing = set(session.scalars(select(Lead.company_name)))
    added = 0
    for contact, company, phone, source, owner in LEADS:
        if company not in existing:
            crm.create_lead(session, contact_name=contact, company_name=company, contact_phone=phone,
                            source=source, owner=owner)
            added += 1
    return added


def _at(days_ago: int, hour: int = 10) -> datetime:
    """A moment `days_ago` days before today, at `hour` Beijing time (UTC+8)."""
    return datetime.combine(today() - timedelta(days=days_ago), time(hour - 8), UTC)


def _activities(session) -> int:
    ids = _customer_ids(session)
    existing = set(session.execute(select(Activity.customer_id, Activity.subject)).tuples().all())
    added = 0
    for code, kind, subject, notes, owner, days_ago in ACTIVITIES:
        if (ids[code], subject) in existing:
            continue
        when = _at(days_ago)
        crm.log_activity(session, kind=kind, subject=subject, owner=owner, customer_id=ids[code], notes=notes,
                         due_at=when if days_ago < 0 else None, done_at=when if days_ago >= 0 else None)
        added += 1
    return added


def _surveys(session) -> int:
    ids = _customer_ids(session)
    existing = set(session.execute(select(SatisfactionSurvey.customer_id, SatisfactionSurvey.surveyed_on))
                   .tuples().all())
    added = 0
    for code, score, nps, comment, channel, days_ago in SURVEYS:
        day = today() - timedelta(days=days_ago)
        if (ids[code], day) in existing:
            continue
        crm.record_satisfaction(session, ids[code], score=score, nps=nps, comment=comment, channel=channel,
                                surveyed_on=day, by="zhaoqiang")
        added += 1
    return added


def _books(session, day0) -> int:
    """The opening balances, the sales invoices (with their cost of sales and stock issues), payments
    received and the running costs, each entry once (found again by its source)."""
    posted = set(session.scalars(select(JournalEntry.source_id).where(JournalEntry.source_type == SOURCE)))
    added = 0

    def post(key, day, description, lines, user="sunmei"):
        nonlocal added
        if key not in posted:
            post_entry(session, date=day, lines=lines, description=description, user=user, source=(SOURCE, key))
            posted.add(key)
            added += 1

    debits = {"1002": Decimal("2000000.00"), "1001": Decimal("20000.00"), "1405": opening_stock_value(),
              "1601": Decimal("350000.00")}
    credits = {"1602": Decimal("70000.00"), "2202": Decimal("180000.00"), "3001": Decimal("2000000.00")}
    credits["3104"] = sum(debits.values()) - sum(credits.values())
    post("opening", day0, "期初余额", [{"account": a, "debit": v} for a, v in debits.items()]
         + [{"account": a, "credit": v, **({"partner_type": "supplier", "partner_code": "S-000001"}
                                            if a == "2202" else {})} for a, v in credits.items()])
    products = {p[0]: p for p in PRODUCTS}
    terms = {c[0]: c[10] for c in CUSTOMERS}
    for number, code, days_ago, lines, paid in INVOICES:
        if number in posted:
            continue
        day = today() - timedelta(days=days_ago)
        net = vat = cost = Decimal("0.00")
        for sku, quantity in lines:
            _sku, _zh, _en, _unit, _unit_en, rate, _cat, unit_cost, price, *_ = products[sku]
            amount = to_cents(Decimal(price) * quantity)
            net, vat = net + amount, vat + vat_of(amount, Decimal(rate))
            if unit_cost:
                cost += to_cents(Decimal(unit_cost) * quantity)
                inventory.issue(session, sku, "BJ01", Decimal(quantity), reference=(SOURCE, number), by="wangjun",
                                note="销售出库")
        partner = {"partner_type": "customer", "partner_code": code}
        post(number, day, f"销售开票 {number}", [
            {"account": "1122", "debit": net + vat, "due_date": day + timedelta(days=terms[code]), **partner},
            {"account": "5001", "credit": net}, {"account": "222102", "credit": vat}])
        post(f"{number}-COGS", day, f"结转销售成本 {number}", [{"account": "5401", "debit": cost},
                                                           {"account": "1405", "credit": cost}])
        if paid:
            post(f"{number}-PAID", day + timedelta(days=terms[code]), f"收到货款 {number}", [
                {"account": "1002", "debit": net + vat}, {"account": "1122", "credit": net + vat, **partner}])
    for key, days_ago, account, description, amount in EXPENSES:
        post(key, today() - timedelta(days=days_ago), description,
             [{"account": account, "debit": Decimal(amount)}, {"account": "1002", "credit": Decimal(amount)}])
    return added
