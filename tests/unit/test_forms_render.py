"""Forms for people (webapp.forms_render): what each kind of schema property renders as, how a submitted request
is read back into typed data (money exact, rows with gaps, unchecked boxes, server-filled fields), errors
beside their fields, safe instructions and the read-only view."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from io import BytesIO

import pytest
from flask import Flask
from flask_login import LoginManager
from werkzeug.datastructures import FileStorage, MultiDict

from core.errors import InvalidInput
from forms import FormCatalog
from webapp import forms_render as fr
from webapp import i18n, navigation

SCHEMA = {
    "type": "object",
    "title": "订单 Order",
    "required": ["customer", "amount", "lines"],
    "properties": {
        "customer": {"type": "string", "title": "客户 Customer", "minLength": 1, "description": "客户全称 Full name"},
        "note": {"type": "string", "title": "备注 Note"},
        "email": {"type": "string", "format": "email", "title": "邮箱 Email"},
        "delivery": {"type": "string", "format": "date", "title": "交货日期 Delivery date"},
        "amount": {"type": "number", "format": "money", "title": "金额 Amount", "minimum": 0},
        "discount": {"type": "number", "x-money": True, "title": "折扣 Discount"},
        "rate": {"type": "number", "title": "汇率 Rate"},
        "count": {"type": "integer", "title": "件数 Count", "minimum": 1},
        "urgent": {"type": "boolean", "title": "加急 Urgent"},
        "channel": {"type": "string", "title": "渠道 Channel", "enum": ["web", "phone"],
                    "x-enumNames": ["网站 Web", "电话 Phone"]},
        "level": {"type": "integer", "title": "级别 Level", "enum": [1, 2, 3]},
        "tags": {"type": "array", "title": "标签 Tags", "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "lines": {"type": "array", "title": "明细 Lines", "minItems": 1, "items": {
            "type": "object", "required": ["sku", "qty"],
            "properties": {"sku": {"type": "string", "title": "物料 SKU"},
                           "qty": {"type": "integer", "title": "数量 Qty", "minimum": 1},
                           "price": {"type": "number", "x-money": True, "title": "单价 Price"}}}},
        "contract": {"type": "object", "x-file": True, "title": "合同 Contract"},
        "requester": {"type": "string", "title": "申请人 Requester", "x-fill": "current_user"},
    },
}
UI = {"note": {"ui:widget": "textarea"}, "channel": {"ui:widget": "radio"},
      "ui:instructions": "请**仔细**核对。\n\n<script>alert('x')</script>"}


@pytest.fixture(scope="module")
def app():
    """Just what the form templates need (translations, filters, the download route), no database."""
    app = Flask("webapp")
    app.config.update(SECRET_KEY="test", BABEL_DEFAULT_LOCALE="zh_CN", BABEL_DEFAULT_TIMEZONE="Asia/Shanghai")
    logins = LoginManager(app)  # nobody logged in: the language comes from the request
    logins.user_loader(lambda user_id: None)
    i18n.init_app(app)
    navigation.init_app(app)
    app.add_url_rule("/files/<int:file_id>", endpoint="files.download", view_func=lambda file_id: "")
    return app


@pytest.fixture
def zh(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        yield


@pytest.fixture
def en(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def parse(raw, files=None, store=None, username="wangfang"):
    return fr.parse(SCHEMA, UI, MultiDict(raw), files, username=username, file_store=store)


class MemoryStore(fr.FileStore):
    def __init__(self):
        self.files, self.mine = {}, set()

    def store(self, upload):
        ref = {"id": len(self.files) + 1, "name": upload.filename, "size": len(upload.read()), "sha256": "x"}
        self.files[ref["id"]] = ref
        self.mine.add(ref["id"])
        return ref

    def check(self, reference):
        return self.files.get(reference.get("id")) if reference.get("id") in self.mine else None


# ------------------------------------------------------------------------------------------------ labels


@pytest.mark.parametrize("title, zh_part, en_part", [
    ("金额 (元) Amount (CNY)", "金额 (元)", "Amount (CNY)"),
    ("审批意见 Decision", "审批意见", "Decision"),
    ("SKU 编号 SKU number", "SKU 编号", "SKU number"),
    ("Plain English", "Plain English", "Plain English"),
    ("只有中文", "只有中文", "只有中文"),
    ("", "", ""),
])
def test_a_bilingual_title_shows_the_part_of_the_users_language(title, zh_part, en_part):
    assert fr.localized(title, "zh") == zh_part
    assert fr.localized(title, "en") == en_part


def test_each_property_kind_renders_as_its_widget(zh):
    kinds = {f.key: f.kind for f in fr.fields_of(SCHEMA, UI)}
    assert kinds == {"customer": "text", "note": "textarea", "email": "email", "delivery": "date",
                     "amount": "money", "discount": "money", "rate": "number", "count": "integer",
                     "urgent": "checkbox", "channel": "radio", "level": "select", "tags": "multiselect",
                     "lines": "table", "contract": "file"}  # requester is filled by the server, not shown


def test_labels_and_help_follow_the_language(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        html = fr.render_fields(SCHEMA, UI)
    assert ">客户" in html and "客户全称" in html and "Customer" not in html
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        html = fr.render_fields(SCHEMA, UI)
    assert ">Customer" in html and "Full name" in html and "客户" not in html
    # enum labels are shown as they are, both languages
    assert "网站 Web" in html and "电话 Phone" in html


# ------------------------------------------------------------------------------------------------ parsing


def test_values_come_back_typed(zh):
    data, errors = parse({"customer": " 北京海淀科技 ", "note": "第一行\n第二行", "email": "a@b.cn",
                          "delivery": "2025-03-01", "amount": "1,234.5", "discount": "¥10", "rate": "7.1234",
                          "count": "3", "urgent": "on", "channel": "phone", "level": "2",
                          "tags": ["a", "c"], "lines-0-sku": "A-1", "lines-0-qty": "2"})
    assert errors == {}
    assert data["customer"] == "北京海淀科技" and data["note"] == "第一行\n第二行"
    assert data["delivery"] == "2025-03-01" and data["email"] == "a@b.cn"
    assert data["amount"] == Decimal("1234.50") and str(data["amount"]) == "1234.50"
    assert data["discount"] == Decimal("10.00")
    assert data["rate"] == Decimal("7.1234") and isinstance(data["rate"], Decimal)
    assert data["count"] == 3 and isinstance(data["count"], int)
    assert data["urgent"] is True and data["channel"] == "phone"
    assert data["level"] == 2 and data["tags"] == ["a", "c"]
    assert data["lines"] == [{"sku": "A-1", "qty": 2}]


def test_money_is_exact_and_never_a_float(zh):
    data, errors = parse({"amount": "0.1", "discount": "0.2", "lines-0-sku": "x", "lines-0-qty": "1",
                          "lines-0-price": "１２３.４"})  # full-width digits typed with a Chinese IME
    assert errors == {}
    assert data["amount"] + data["discount"] == Decimal("0.30")
    assert data["lines"][0]["price"] == Decimal("123.40")
    for value in (data["amount"], data["discount"], data["lines"][0]["price"]):
        assert type(value) is Decimal
    data, errors = parse({"amount": "99999999999999.99"})
    assert data["amount"] == Decimal("99999999999999.99")


@pytest.mark.parametrize("typed, message", [
    ("12.345", "at most two decimal places"), ("abc", "Enter a number"), ("NaN", "Enter a number"),
    ("Infinity", "Enter a number"),
])
def test_an_unreadable_amount_is_an_error_beside_the_field(en, typed, message):
    data, errors = parse({"amount": typed})
    assert "amount" not in data and message in errors["amount"][0]


def test_a_fraction_in_a_whole_number_field_is_an_error(en):
    data, errors = parse({"count": "2.5"})
    assert "count" not in data and errors["count"] == ["Enter a whole number."]
    data, errors = parse({"count": "2.0"})
    assert data["count"] == 2 and not errors


def test_an_unchecked_box_is_false_and_empty_fields_are_left_out(zh):
    data, _errors = parse({"customer": "", "rate": "  ", "delivery": ""})
    assert data["urgent"] is False
    assert not {"customer", "rate", "delivery", "amount", "channel", "level"} & set(data)
    assert data["tags"] == [] and data["lines"] == []


def test_table_rows_with_gaps_removed_and_empty_rows(en):
    data, errors = parse({
        "lines-0-sku": "A", "lines-0-qty": "1",
        "lines-3-sku": "B", "lines-3-qty": "2", "lines-3-price": "9.9",  # a gap: rows 1 and 2 were removed
        "lines-5-sku": "C", "lines-5-qty": "3", "lines-5-_delete": "1",  # removed without JavaScript
        "lines-7-sku": "", "lines-7-qty": "", "lines-7-price": "",  # the empty row every table ends with
        "lines-12-sku": "D", "lines-12-qty": "x",
    })
    assert data["lines"] == [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2, "price": Decimal("9.90")},
                             {"sku": "D"}]
    assert errors == {"lines.2.qty": ["Enter a number."]}  # numbered as the data is, not as the request was


def test_rows_are_read_in_numeric_order(zh):
    data, _ = parse({"lines-10-sku": "ten", "lines-10-qty": "10", "lines-9-sku": "nine", "lines-9-qty": "9"})
    assert [line["sku"] for line in data["lines"]] == ["nine", "ten"]


def test_an_unknown_choice_stays_for_the_validator(en):
    data, errors = parse({"channel": "fax", "level": "7"})
    assert data["channel"] == "fax" and data["level"] == "7" and not errors
    checked = fr.schema_errors(SCHEMA, data)
    assert checked["channel"] == ["Choose one of the options."] and checked["level"] == ["Choose one of the options."]


def test_the_requester_is_the_logged_in_user_whatever_the_request_says(zh):
    data, _ = parse({"requester": "the-boss", "customer": "x"}, username="wangfang")
    assert data["requester"] == "wangfang"
    data, _ = parse({"requester": "the-boss"}, username=None)
    assert "requester" not in data
    assert 'name="requester"' not in fr.render_fields(SCHEMA, UI, MultiDict({"requester": "the-boss"}))


def test_a_stored_value_reads_back_to_itself(zh):
    data = {"customer": "客户", "note": "a\nb", "amount": Decimal("1234.50"), "count": 2, "urgent": True,
            "channel": "web", "level": 3, "tags": ["b"], "delivery": "2025-01-02",
            "lines": [{"sku": "A", "qty": 1, "price": Decimal("0.10")}, {"sku": "B", "qty": 2}],
            "contract": {"id": 1, "name": "c.pdf", "size": 3, "sha256": "x"}}
    store = MemoryStore()
    store.files[1] = data["contract"]
    store.mine.add(1)
    raw = fr.raw_from_data(SCHEMA, UI, data)
    parsed, errors = fr.parse(SCHEMA, UI, raw, None, username="wangfang", file_store=store)
    assert not errors
    assert parsed == {**data, "requester": "wangfang"}


# ------------------------------------------------------------------------------------------------ files


def test_an_uploaded_file_becomes_a_reference(zh):
    store = MemoryStore()
    files = MultiDict({"contract": FileStorage(BytesIO(b"%PDF-1.4"), filename="合同.pdf")})
    data, errors = parse({}, files, store)
    assert data["contract"] == {"id": 1, "name": "合同.pdf", "size": 8, "sha256": "x"} and not errors


def test_a_reference_to_someone_elses_file_is_refused(en):
    store = MemoryStore()
    store.files[9] = {"id": 9, "name": "salaries.xlsx", "size": 1, "sha256": "y"}  # not the user's
    data, errors = parse({"contract-ref": json.dumps({"id": 9, "name": "x"})}, None, store)
    assert "contract" not in data and "upload it again" in errors["contract"][0]
    store.mine.add(9)
    data, errors = parse({"contract-ref": json.dumps({"id": 9, "name": "renamed", "size": 1})}, None, store)
    assert data["contract"]["name"] == "salaries.xlsx"  # the stored reference, not what the request claims


def test_file_references_are_found_in_tables_and_fields():
    schema = {"type": "object", "properties": {
        "doc": {"format": "file"},
        "more": {"type": "array", "items": {"x-file": True}},
        "rows": {"type": "array", "items": {"type": "object", "properties": {"scan": {"x-file": True}}}}}}
    data = {"doc": {"id": 1}, "more": [{"id": 2}, {"id": 3}], "rows": [{"scan": {"id": 4}}, {}]}
    assert [r["id"] for r in fr.file_references(schema, data)] == [1, 2, 3, 4]


# ------------------------------------------------------------------------------------------------ errors


def test_catalog_validation_gives_errors_in_words_per_field(en, tmp_path):
    (tmp_path / "order.json").write_text(json.dumps(SCHEMA))
    catalog = FormCatalog(tmp_path)
    data, parse_errors = parse({"amount": "-1", "count": "abc", "email": "not-an-email",
                                "lines-0-sku": "A", "lines-0-qty": "0"})
    errors = fr.check(catalog, "order", data, parse_errors)
    assert errors["customer"] == ["This field is required."]
    assert errors["amount"] == ["Enter 0 or more."]
    assert errors["count"] == ["Enter a number."]  # unreadable: not also "required"
    assert errors["email"] == ["Enter a valid email address."]
    assert errors["lines.0.qty"] == ["Enter 1 or more."]
    with pytest.raises(InvalidInput) as raised:
        fr.validate_or_raise(catalog, "order", data, parse_errors)
    assert raised.value.errors == errors
    good, _ = parse({"customer": "x", "amount": "1", "lines-0-sku": "A", "lines-0-qty": "1"})
    assert fr.check(catalog, "order", good) == {}


def test_errors_are_shown_beside_their_fields_and_what_was_typed_stays(en):
    raw = MultiDict({"customer": "<b>ACME</b>", "amount": "12.345", "lines-2-sku": "X", "lines-2-qty": "0",
                     "lines-4-sku": "", "channel": "phone", "tags": ["b"], "urgent": "on"})
    errors = {"amount": ["Enter an amount with at most two decimal places."], "lines.0.qty": ["Enter 1 or more."],
              "": ["Something about the whole form."]}
    html = str(fr.render_fields(SCHEMA, UI, raw, errors))
    amount = re.search(r'<input[^>]*name="amount"[^>]*>', html).group(0)
    assert "is-invalid" in amount and 'value="12.345"' in amount
    assert '<div class="invalid-feedback d-block" data-error-for="amount">' in html
    assert 'data-error-for="lines.0.qty">Enter 1 or more.' in html
    # the kept row is renumbered as the data path says; one empty row follows
    assert re.search(r'name="lines-0-sku"[^>]*value="X"', html)
    assert re.search(r'<input[^>]*is-invalid[^>]*name="lines-0-qty"', html)
    assert 'name="lines-1-sku"' in html and 'name="lines-2-sku"' not in html
    assert 'name="lines-__index__-sku"' in html  # the template row for forms.js, inside <template>
    assert "&lt;b&gt;ACME&lt;/b&gt;" in html and "<b>ACME" not in html
    assert re.search(r'value="phone"\s+checked', html)
    assert re.search(r'<option value="b" selected>', html)
    assert re.search(r'name="urgent" value="on" checked', html)
    assert 'data-error-for="">Something about the whole form.' in html  # errors of no field go on top


def test_a_table_without_rows_offers_one_empty_row(zh):
    html = str(fr.render_fields(SCHEMA, UI))
    assert 'name="lines-0-sku"' in html and 'name="lines-1-sku"' not in html
    assert 'name="lines-0-_delete"' in html and "add-row" in html


def test_a_file_field_keeps_its_reference(zh):
    ref = {"id": 5, "name": "合同.pdf", "size": 2048, "sha256": "abc"}
    html = str(fr.render_fields(SCHEMA, UI, fr.raw_from_data(SCHEMA, UI, {"contract": ref})))
    assert 'href="/files/5"' in html and 'type="file"' in html
    hidden = re.search(r'<input type="hidden" name="contract-ref" value="([^"]+)"', html).group(1)
    assert json.loads(hidden.replace("&#34;", '"')) == ref


# ------------------------------------------------------------------------------------------------ markdown


def test_instructions_are_markdown_and_html_in_them_stays_escaped():
    html = str(fr.instructions_html(SCHEMA, UI))
    assert "<strong>仔细</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert fr.instructions_html({"x-instructions": "[x](javascript:alert(1))"}, {}).count("href") == 0
    assert fr.instructions_html({}, {}) is None


# ------------------------------------------------------------------------------------------------ read-only


def test_the_read_only_view_formats_money_choices_and_files(zh):
    data = {"customer": "北京海淀科技", "amount": Decimal("1234.5"), "urgent": False, "channel": "web",
            "tags": ["a", "c"], "lines": [{"sku": "A", "qty": 2, "price": Decimal("9.9")}],
            "contract": {"id": 7, "name": "合同.pdf", "size": 3, "sha256": "x"}, "unknown": "not in form"}
    html = str(fr.render_readonly(SCHEMA, UI, data))
    assert "¥1,234.50" in html and "¥9.90" in html
    assert "网站 Web" in html and "a, c" in html
    assert '<a class="file-link" href="/files/7">合同.pdf</a>' in html
    assert ">否<" in html.replace(" ", "").replace("\n", "") or "No" in html
    assert "not in form" not in html and "<input" not in html


def test_the_read_only_view_without_a_form_lists_plain_values(zh):
    html = str(fr.render_readonly(None, None, {"note": "<i>x</i>", "nested": {"a": 1}}))
    assert "note" in html and "&lt;i&gt;x&lt;/i&gt;" in html and "nested" not in html
