"""The procure-to-pay part of the OpenAPI document (webapp/openapi.py): requisitions, suppliers, RFQs and quotes,
purchase orders and supplier invoices (webapp.views.api_purchasing), built with the same small builders."""
from __future__ import annotations

from erp.purchasing.models import (
    INVOICE_STATUSES,
    ORDER_STATUSES,
    QUALIFICATIONS,
    REQUISITION_SOURCES,
    REQUISITION_STATUSES,
)
from webapp.openapi import PAGE, _array, _closed, _nullable, _object, _operation, _page, _param, _per_page, _string, ref
from webapp.openapi_sales import DATE, MONEY, NUMBER_IN, QUANTITY, RATE

TAGS = ("purchasing", "payables")

TOTALS = {"net_total": MONEY, "vat_total": MONEY, "gross_total": MONEY}
SCORE = {"type": ["string", "null"], "pattern": r"^\d+\.\d{2}$",
         "description": "0.00 to 5.00 as text; null before the first receipt."}
DATETIME = {"type": ["string", "null"], "format": "date-time"}


def _requisition_schemas() -> dict:
    summary = {"number": _string("REQ-2026-00001"), "status": _string(enum=list(REQUISITION_STATUSES)),
               "requester": _string(), "department": _nullable("string"),
               "source": _string(enum=list(REQUISITION_SOURCES)),
               "source_reference": _nullable("string", "The sales order or the reorder points that caused it."),
               "needed_by": _nullable("string", format="date"),
               "estimated_total": MONEY | {"description": "Gross, at the estimated prices."}}
    line = {"line_no": {"type": "integer"}, "sku": _string(), "name": _string(), "quantity": QUANTITY,
            "warehouse": _string(), "estimated_unit_price": MONEY | {"description": "Net of VAT."},
            "vat_rate": RATE}
    detail = {**summary, "note": _nullable("string"), "created_at": DATETIME,
              "lines": _array(ref("RequisitionLine")), "rfqs": _array(_string(), "RFQ numbers."),
              "orders": _array(_string(), "Purchase order numbers.")}
    return {
        "RequisitionSummary": _object(summary, list(summary)),
        "RequisitionPage": _page("RequisitionSummary"),
        "RequisitionLine": _object(line, list(line)),
        "Requisition": _object(detail, list(detail)),
        "RequisitionCreated": _object({
            **detail, "instance_id": {"type": ["integer", "null"],
                                      "description": "The procurement instance started; null when not submitted."}},
            [*detail, "instance_id"]),
        "RequisitionBody": _closed({
            "lines": _array(_closed({
                "sku": _string(), "quantity": NUMBER_IN,
                "warehouse": _string("The warehouse's code; default: the first active warehouse."),
                "estimated_unit_price": NUMBER_IN | {"description": "Net; default: the last PO price, else the "
                                                                    "average cost in stock, else 0."}},
                ["sku", "quantity"])) | {"minItems": 1, "maxItems": 200},
            "department": _string(maxLength=100), "needed_by": DATE, "note": _string(maxLength=2000),
            "submit": {"type": "boolean", "default": True,
                       "description": "Submit it and start procurement (false: keep it a draft)."}}, ["lines"]),
    }


def _supplier_schemas() -> dict:
    summary = {"code": _string("S-000001"), "name_zh": _string(), "name_en": _nullable("string"),
               "category": _nullable("string"), "qualification": _string(enum=list(QUALIFICATIONS)),
               "qualified_until": _nullable("string", format="date"),
               "qualified": {"type": "boolean", "description": "Qualified and not expired today."},
               "payment_terms_days": {"type": "integer"}, "buyer": _nullable("string")}
    contact = {"contact_name": _string("Masked without personal_data.view."), "title": _nullable("string"),
               "mobile": _nullable("string", "Masked without personal_data.view."),
               "email": _nullable("string", "Masked without personal_data.view."), "is_primary": {"type": "boolean"}}
    detail = {**summary, "tax_number": _nullable("string"), "phone": _nullable("string"),
              "address": _nullable("string"), "city": _nullable("string"), "province": _nullable("string"),
              "bank_name": _nullable("string"),
              "bank_account": _nullable("string", "Masked (622****1234) without personal_data.view."),
              "created_at": DATETIME, "contacts": _array(_object(contact, list(contact))),
              "rating": _object({"delivery": SCORE, "quality": SCORE, "overall": SCORE,
                                 "receipts": {"type": "integer", "minimum": 0}},
                                ["delivery", "quality", "overall", "receipts"]),
              "open_orders": _array(ref("PurchaseOrderSummary")),
              "open_payables": _array(_object({
                  **_invoice_summary(), "days_to_due": {"type": "integer"},
                  "overdue": {"type": "boolean"}, "days_overdue": {"type": "integer", "minimum": 0}}))}
    text = {name: _string(maxLength=length) for name, length in (
        ("name_zh", 200), ("name_en", 200), ("phone", 20), ("address", 500), ("city", 100), ("province", 100),
        ("category", 100), ("bank_name", 200), ("bank_account", 64), ("buyer", 100))}
    return {
        "SupplierSummary": _object(summary, list(summary)),
        "SupplierPage": _page("SupplierSummary"),
        "Supplier": _object(detail, list(detail)),
        "SupplierBody": _closed({
            "code": _string("Default: the next S-000001.", maxLength=40), **text,
            "tax_number": _string("统一社会信用代码 (18 characters, check character verified).", maxLength=18),
            "qualification": _string(enum=list(QUALIFICATIONS), default="pending"),
            "qualified_until": DATE, "payment_terms_days": {"type": "integer", "minimum": 0, "maximum": 365},
            "contacts": _array(_closed({
                "contact_name": _string(maxLength=100), "title": _string(maxLength=100),
                "mobile": _string(maxLength=11), "email": _string(maxLength=320),
                "is_primary": {"type": "boolean"}}, ["contact_name"])) | {"maxItems": 50}}, ["name_zh"]),
    }


def _rfq_schemas() -> dict:
    supplier = {"code": _string(), "name": _string(), "total_net": MONEY | {"type": ["string", "null"]},
                "total_gross": MONEY | {"type": ["string", "null"]}, "lead_time_days": _nullable("integer"),
                "rating": SCORE, "quoted": {"type": "boolean"},
                "cheapest": {"type": "boolean", "description": "The lowest net total among the complete quotes."}}
    line = {"sku": _string(), "name": _string(), "quantity": QUANTITY,
            "quotes": {"type": "object", "additionalProperties": MONEY | {"type": ["string", "null"]},
                       "description": "Supplier code -> its net unit price (null: not quoted)."}}
    comparison = {"number": _string("RFQ-2026-00001"), "status": _string(enum=["open", "awarded", "cancelled"]),
                  "requisition": _string(), "reply_by": _nullable("string", format="date"),
                  "awarded": _nullable("string", "The supplier awarded."),
                  "lines": _array(_object(line, list(line))),
                  "suppliers": _array(_object(supplier, list(supplier)), "The invited suppliers.")}
    return {
        "RfqComparison": _object(comparison, list(comparison)),
        "QuoteBody": _closed({
            "supplier": _string("An invited supplier's code.", maxLength=40),
            "lines": _array(_closed({"sku": _string(), "unit_price": NUMBER_IN | {"description": "Net of VAT."}},
                                    ["sku", "unit_price"])) | {"minItems": 1, "maxItems": 200},
            "lead_time_days": {"type": "integer", "minimum": 0, "maximum": 3650}, "valid_until": DATE,
            "note": _string(maxLength=2000)}, ["supplier", "lines"]),
    }


def _order_summary() -> dict:
    return {"number": _string("PO-2026-00001"), "status": _string(enum=list(ORDER_STATUSES)),
            "supplier": _string("The supplier's code."), "supplier_name": _string(), "order_date": DATE,
            "expected_date": DATE, "buyer": _nullable("string"), **TOTALS}


def _invoice_summary() -> dict:
    return {"number": _string("BILL-2026-00001 (ours)."),
            "supplier_number": _string("The supplier's 发票号码."), "status": _string(enum=list(INVOICE_STATUSES)),
            "supplier": _string("The supplier's code."), "supplier_name": _string(),
            "order": _string("The purchase order."), "kind": _string(enum=["special", "ordinary"]),
            "issue_date": DATE, "due_date": DATE, **TOTALS, "credited": MONEY, "paid": MONEY,
            "outstanding": MONEY | {"description": "gross − credited − paid"}}


def _order_schemas() -> dict:
    summary = _order_summary()
    line = {"line_no": {"type": "integer"}, "sku": _string(), "name": _string(), "warehouse": _string(),
            "ordered": QUANTITY, "received": QUANTITY | {"description": "Accepted into stock."},
            "short_closed": QUANTITY | {"description": "Given up: the supplier will not deliver it (短交关闭)."},
            "invoiced": QUANTITY, "unit_price": MONEY, "vat_rate": RATE, "net": MONEY, "vat": MONEY, "gross": MONEY}
    receipt = {"number": _string("GR-2026-00001"), "received_on": DATE, "value": MONEY, "accepted": QUANTITY,
               "rejected": QUANTITY, "created_by": _nullable("string")}
    detail = {**summary, "requisition": _nullable("string"), "rfq": _nullable("string"),
              "lines": _array(_object(line, list(line))), "receipts": _array(_object(receipt, list(receipt))),
              "supplier_invoices": _array(ref("SupplierInvoiceSummary"))}
    return {"PurchaseOrderSummary": _object(summary, list(summary)),
            "PurchaseOrderPage": _page("PurchaseOrderSummary"),
            "PurchaseOrder": _object(detail, list(detail))}


def _invoice_schemas() -> dict:
    summary = _invoice_summary()
    line = {"sku": _string(), "quantity": QUANTITY, "unit_price": MONEY, "vat_rate": RATE, "net": MONEY,
            "vat": MONEY, "gross": MONEY}
    match_line = {"sku": _string(), "ordered": QUANTITY, "received": QUANTITY, "invoiced": QUANTITY,
                  "po_price": MONEY, "invoice_price": MONEY, "price_diff_percent": RATE, "quantity_diff": QUANTITY,
                  "status": _string(enum=["ok", "price_mismatch", "quantity_mismatch", "not_received"])}
    match = _object({"invoice": _string(), "ok": {"type": "boolean"}, "status": _string(),
                     "price_difference": MONEY | {"description": "Invoice net − received value at PO prices."},
                     "price_tolerance_percent": RATE, "quantity_tolerance_percent": RATE,
                     "lines": _array(_object(match_line, list(match_line)))}, ["ok", "lines"])
    detail = {**summary, "lines": _array(_object(line, list(line))),
              "match": {"oneOf": [{"type": "null"}, match], "description": "The last three-way match (三单匹配)."},
              "credits": _array(_object({"number": _string("SCN-2026-00001"), "supplier_number": _string(),
                                         "issue_date": DATE, "net": MONEY, "vat": MONEY, "gross": MONEY,
                                         "reason": _nullable("string")})),
              "payments": _array(_object({"number": _string("PAY-2026-00001"), "paid_on": DATE, "amount": MONEY,
                                          "reference": _nullable("string")}))}
    return {"SupplierInvoiceSummary": _object(summary, list(summary)),
            "SupplierInvoicePage": _page("SupplierInvoiceSummary"),
            "SupplierInvoice": _object(detail, list(detail))}


def schemas() -> dict:
    return {**_requisition_schemas(), **_supplier_schemas(), **_rfq_schemas(), **_order_schemas(),
            **_invoice_schemas()}


def paths() -> dict:
    number = _param("number", "path", {"type": "string"}, "The document's number.")
    code = _param("code", "path", {"type": "string"}, "The supplier's code.")

    def listing(operation_id, summary, tag, permission, page, filters, description=None):
        return {"get": _operation(operation_id, summary, tag, permission=permission, description=description,
                                  parameters=[*filters, PAGE, _per_page(25)], ok=(200, ref(page)),
                                  errors=("invalid_input",))}

    def detail(operation_id, summary, tag, permission, schema, parameter=number, description=None):
        return {"get": _operation(operation_id, summary, tag, permission=permission, parameters=[parameter],
                                  ok=(200, ref(schema)), errors=("not_found",), description=description)}

    def status(statuses):
        return _param("status", "query", {"type": "string", "enum": list(statuses)}, "Status.")

    supplier_filter = _param("supplier", "query", {"type": "string"}, "The supplier's code.")
    mine = "Without purchasing.view: only the caller's own requisitions (another's is not found, 404)."
    invoices = "Finance (payables.view) and purchasing (purchasing.view) read them: every payables.view role " \
               "holds purchasing.view."
    return {
        "/requisitions": {
            **listing("listRequisitions", "Purchase requisitions (采购申请), newest first", "purchasing",
                      "requisition.create", "RequisitionPage", [status(REQUISITION_STATUSES)], mine),
            "post": _operation(
                "createRequisition", "Raise a requisition and (by default) start procurement", "purchasing",
                permission="requisition.create", body="RequisitionBody", ok=(201, ref("RequisitionCreated")),
                errors=("not_found", "conflict"),
                description="The caller is the requester. Submitted (the default), it starts the `procurement` "
                            "process (business key: its number): approval, quotations from 50,000, the order. "
                            "Input errors: 422 with `fields` such as `lines[0].sku`; nothing is saved.")},
        "/requisitions/{number}": detail("getRequisition", "A requisition with its lines, RFQs and orders",
                                         "purchasing", "requisition.create", "Requisition", description=mine),
        "/suppliers": {
            **listing("listSuppliers", "Suppliers (供应商) by code", "purchasing", "purchasing.view", "SupplierPage",
                      [_param("q", "query", {"type": "string", "maxLength": 100},
                              "Text in the code, names or category."),
                       _param("qualification", "query", {"type": "string", "enum": list(QUALIFICATIONS)},
                              "Qualification.")]),
            "post": _operation(
                "createSupplier", "Create a supplier (pending qualification unless given)", "purchasing",
                permission="purchasing.edit", body="SupplierBody", ok=(201, ref("Supplier")),
                errors=("conflict",), description="A code already taken: 409. Input errors: 422 with `fields`.")},
        "/suppliers/{code}": detail(
            "getSupplier", "A supplier: contacts, rating, open orders and payables", "purchasing",
            "purchasing.view", "Supplier", code,
            "The bank account and the contacts' names, mobiles and emails are masked without personal_data.view."),
        "/rfqs/{number}": detail("getRfq", "An RFQ (询价单): the quotes side by side", "purchasing",
                                 "purchasing.view", "RfqComparison"),
        "/rfqs/{number}/quotes": {"post": _operation(
            "recordQuote", "Record a supplier's quote for an open RFQ (replaces its earlier one)", "purchasing",
            permission="purchasing.edit", parameters=[number], body="QuoteBody", ok=(201, ref("RfqComparison")),
            errors=("not_found",), description="Answers with the comparison as it now stands.")},
        "/purchase-orders": listing("listPurchaseOrders", "Purchase orders (采购订单), newest first", "purchasing",
                                    "purchasing.view", "PurchaseOrderPage", [status(ORDER_STATUSES), supplier_filter]),
        "/purchase-orders/{number}": detail(
            "getPurchaseOrder", "A purchase order: lines (ordered, received, short-closed, invoiced), receipts and "
                                "supplier invoices", "purchasing", "purchasing.view", "PurchaseOrder"),
        "/supplier-invoices": listing("listSupplierInvoices", "Supplier invoices (供应商发票), newest first",
                                      "payables", "purchasing.view", "SupplierInvoicePage",
                                      [status(INVOICE_STATUSES), supplier_filter], invoices),
        "/supplier-invoices/{number}": detail(
            "getSupplierInvoice", "A supplier invoice: lines, the last three-way match, credits and payments",
            "payables", "purchasing.view", "SupplierInvoice", description=invoices),
    }
