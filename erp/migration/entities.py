"""What can be migrated: each entity's fields with their labels in both languages, kinds, choices and
references. Templates, auto-mapping, validation and the importer all read these definitions."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

KINDS = ("text", "int", "decimal", "money", "date", "phone", "mobile", "email", "credit_code", "choice", "ref")
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Field:
    name: str
    label_zh: str
    label_en: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] | None = None
    #: for kind "ref": the entity whose external id (or own key) this field names
    ref: str | None = None
    help_zh: str = ""
    help_en: str = ""
    #: quantities that must be above zero (money is never negative anyway)
    positive: bool = False


@dataclass(frozen=True)
class Entity:
    key: str
    label_zh: str
    label_en: str
    fields: list[Field] = field(default_factory=list)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @cached_property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


def _external_id(help_zh: str = "旧系统中的编号，再次导入时按它更新", help_en: str =
                 "the id in the legacy system; importing again updates the record") -> Field:
    return Field("external_id", "旧系统编号", "Legacy ID", "text", required=True, help_zh=help_zh, help_en=help_en)


def _company(label_zh: str, label_en: str) -> list[Field]:
    return [
        Field("name_zh", f"{label_zh}名称", f"{label_en} name", required=True),
        Field("name_en", "英文名称", "English name"),
        Field("tax_number", "统一社会信用代码", "Credit code", "credit_code",
              help_zh="18 位，校验位须正确", help_en="18 characters with a valid check character"),
        Field("phone", "电话", "Phone", "phone", help_zh="手机 11 位或 区号-号码",
              help_en="mobile or area code-number"),
        Field("address", "地址", "Address"),
        Field("city", "城市", "City"),
        Field("province", "省份", "Province", help_zh="如 北京市、广东省", help_en="e.g. 北京市, 广东省"),
    ]


CUSTOMERS = Entity("customers", "客户", "Customers", [
    _external_id(),
    Field("code", "客户编码", "Customer code", help_zh="留空则自动编号 C-000001", help_en="empty: numbered C-000001"),
    *_company("客户", "Customer"),
    Field("tier", "客户等级", "Tier", "choice", choices=("A", "B", "C")),
    Field("credit_limit", "信用额度", "Credit limit", "money"),
    Field("payment_terms_days", "账期天数", "Payment terms (days)", "int", help_zh="0 至 365", help_en="0 to 365"),
    Field("sales_rep", "销售代表", "Sales rep", help_zh="用户名", help_en="user name"),
    Field("segment", "客户分类", "Segment"),
])

CONTACTS = Entity("contacts", "联系人", "Contacts", [
    _external_id(),
    Field("customer", "客户旧编号", "Customer legacy ID", "ref", required=True, ref="customers"),
    Field("contact_name", "联系人姓名", "Contact name", required=True),
    Field("title", "职务", "Title"),
    Field("mobile", "手机", "Mobile", "mobile", help_zh="11 位手机号", help_en="11-digit mobile number"),
    Field("email", "邮箱", "Email", "email"),
    Field("wechat_id", "微信号", "WeChat ID"),
    Field("is_primary", "主要联系人", "Primary contact", "choice", choices=YES_NO),
])

PRODUCTS = Entity("products", "产品", "Products", [
    _external_id(),
    Field("sku", "产品编码", "SKU", required=True),
    Field("name_zh", "产品名称", "Product name", required=True),
    Field("name_en", "英文名称", "English name"),
    Field("unit", "单位", "Unit", required=True, help_zh="如 个、箱、千克", help_en="e.g. 个, 箱, 千克"),
    Field("unit_en", "英文单位", "Unit (English)"),
    Field("vat_rate", "税率", "VAT rate", "choice", choices=("0.13", "0.09", "0.06", "0.00")),
    Field("category", "产品分类", "Category"),
    Field("barcode", "条形码", "Barcode"),
    Field("list_price", "标准售价", "List price", "money", help_zh="不含税", help_en="net of VAT"),
    Field("stocked", "库存管理", "Stocked", "choice", choices=YES_NO, help_zh="服务类填 no", help_en="no for services"),
])

SUPPLIERS = Entity("suppliers", "供应商", "Suppliers", [
    _external_id(),
    Field("code", "供应商编码", "Supplier code", help_zh="留空则自动编号", help_en="empty: numbered automatically"),
    *_company("供应商", "Supplier"),
    Field("category", "供应类别", "Category"),
    Field("payment_terms_days", "账期天数", "Payment terms (days)", "int", help_zh="0 至 365", help_en="0 to 365"),
    Field("bank_name", "开户银行", "Bank"),
    Field("bank_account", "银行账号", "Bank account"),
    Field("contact_name", "联系人", "Contact"),
    Field("mobile", "手机", "Mobile", "mobile"),
    Field("email", "邮箱", "Email", "email"),
])

STOCK = Entity("stock", "期初库存", "Opening stock", [
    _external_id(),
    Field("sku", "产品编码", "SKU", "ref", required=True, ref="products",
          help_zh="产品旧编号或产品编码", help_en="the product's legacy id or SKU"),
    Field("warehouse", "仓库编码", "Warehouse code", required=True),
    Field("quantity", "数量", "Quantity", "decimal", required=True, help_zh="最多 3 位小数",
          help_en="up to 3 decimals"),
    Field("unit_cost", "单位成本", "Unit cost", "money", help_zh="不含税", help_en="net of VAT"),
])

SALES_ORDERS = Entity("sales_orders", "销售订单", "Sales orders", [
    _external_id("订单行的旧编号", "the legacy id of the order line"),
    Field("order_external_id", "订单旧编号", "Order legacy ID", required=True,
          help_zh="同一订单的各行填相同编号", help_en="the same for every line of one order"),
    Field("customer", "客户旧编号", "Customer legacy ID", "ref", required=True, ref="customers"),
    Field("order_date", "订单日期", "Order date", "date"),
    Field("sku", "产品编码", "SKU", "ref", required=True, ref="products"),
    Field("quantity", "数量", "Quantity", "decimal", required=True, positive=True),
    Field("unit_price", "单价", "Unit price", "money", help_zh="不含税；留空按价目表",
          help_en="net; empty: the price list"),
    Field("discount_percent", "折扣%", "Discount %", "decimal"),
    Field("sales_rep", "销售代表", "Sales rep"),
])


def _open_items(partner: str, label_zh: str, label_en: str) -> Entity:
    key, zh, en = ("receivables", "应收账款", "Receivables") if partner == "customers" else \
        ("payables", "应付账款", "Payables")
    return Entity(key, f"期初{zh}", f"Opening {en.lower()}", [
        _external_id(),
        Field(partner[:-1], f"{label_zh}旧编号", f"{label_en} legacy ID", "ref", required=True, ref=partner),
        Field("document_no", "单据号", "Document number", help_zh="如发票号", help_en="e.g. the invoice number"),
        Field("document_date", "单据日期", "Document date", "date", required=True),
        Field("due_date", "到期日", "Due date", "date"),
        Field("amount", "未结金额", "Open amount", "money", required=True, help_zh="含税", help_en="gross"),
        Field("description", "摘要", "Description"),
    ])


RECEIVABLES = _open_items("customers", "客户", "Customer")
PAYABLES = _open_items("suppliers", "供应商", "Supplier")

OPENING_BALANCES = Entity("opening_balances", "期初余额", "Opening balances", [
    _external_id(),
    Field("account", "科目编码", "Account code", required=True, help_zh="如 1002", help_en="e.g. 1002"),
    Field("debit", "借方", "Debit", "money"),
    Field("credit", "贷方", "Credit", "money"),
    Field("partner_type", "往来类型", "Partner type", "choice", choices=("customer", "supplier")),
    Field("partner_code", "往来单位编码", "Partner code"),
    Field("description", "摘要", "Description"),
])

ENTITIES: dict[str, Entity] = {e.key: e for e in (CUSTOMERS, CONTACTS, PRODUCTS, SUPPLIERS, STOCK, SALES_ORDERS,
                                                   RECEIVABLES, PAYABLES, OPENING_BALANCES)}


def entity(key: str) -> Entity:
    """The entity `key`; InvalidInput for an unknown one."""
    from core.errors import InvalidInput

    try:
        return ENTITIES[key]
    except KeyError:
        raise InvalidInput(f"unknown migration entity {key!r}", {"entity": [f"one of {', '.join(ENTITIES)}"]}) \
            from None
