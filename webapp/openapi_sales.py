"""The order-to-cash part of the OpenAPI document (webapp/openapi.py): quotations, orders, invoices, payments,
bank statements and process messages (webapp.views.api_sales), built with the same small builders."""
from __future__ import annotations

from erp.sales.models import INVOICE_STATUSES, ORDER_STATUSES, QUOTATION_STATUSES
from webapp.openapi import PAGE, _array, _closed, _nullable, _object, _operation, _page, _param, _per_page, _string, ref

TAGS = ("sales", "payments", "messages")

MONEY = _string("An amount in yuan as text with two decimals (never a binary float).", pattern=r"^-?\d+\.\d{2}$")
QUANTITY = _string("A quantity as text (up to three decimals).", pattern=r"^-?\d+(\.\d{1,3})?$")
RATE = _string("A rate or a percentage as text with two decimals.", pattern=r"^-?\d+\.\d{2}$")
DATE = _string(format="date")
NUMBER_IN = {"type": ["string", "integer", "number"],
             "description": "Text such as \"1130.00\" or a JSON number; at most two decimals for money."}
TOTALS = {"net_total": MONEY, "vat_total": MONEY, "gross_total": MONEY}


def _document_line(**extra) -> dict:
    fields = {"line_no": {"type": "integer"}, "sku": _string(), "quantity": QUANTITY, **extra,
              "unit_price": MONEY, "discount_percent": RATE, "vat_rate": RATE, "net": MONEY, "vat": MONEY,
              "gross": MONEY}
    return _object(fields, list(fields))


def schemas() -> dict:
    quotation = {"number": _string("QT-2026-00001"), "status": _string(enum=list(QUOTATION_STATUSES)),
                 "customer": _string("The customer's code."), "quote_date": DATE, "valid_until": DATE,
                 "sales_rep": _nullable("string"), "discount_percent": RATE, **TOTALS}
    order = {"number": _string("SO-2026-00001"), "status": _string(enum=list(ORDER_STATUSES)),
             "customer": _string("The customer's code."), "order_date": DATE, "sales_rep": _nullable("string"),
             "discount_percent": RATE, **TOTALS}
    invoice = {"number": _string("INV-2026-00001; a bank transfer's memo names it."),
               "status": _string(enum=list(INVOICE_STATUSES)), "customer": _string("The customer's code."),
               "kind": _string(enum=["special", "ordinary"]), "issue_date": DATE, "due_date": DATE, **TOTALS,
               "paid": MONEY, "credited": MONEY,
               "outstanding": MONEY | {"description": "gross − credited − paid"}}
    payment = {"number": _string("RC-2026-00001"), "received_on": DATE, "amount": MONEY,
               "applied": MONEY | {"description": "The part that paid the invoice."},
               "unapplied": MONEY | {"description": "The rest: the customer's credit."},
               "payer": _nullable("string"), "memo": _nullable("string")}
    summary = [k for k in invoice if k != "customer"]
    return {
        "QuotationSummary": _object(quotation, list(quotation)),
        "QuotationPage": _page("QuotationSummary"),
        "QuotationLine": _document_line(),
        "Quotation": _object({**quotation, "price_list": _nullable("string"), "created_by": _nullable("string"),
                              "lines": _array(ref("QuotationLine"))}, [*quotation, "lines"]),
        "OrderSummary": _object(order, list(order)),
        "OrderPage": _page("OrderSummary"),
        "OrderLine": _document_line(reserved=QUANTITY, delivered=QUANTITY, invoiced=QUANTITY),
        "Order": _object({
            **order, "quotation": _nullable("string", "The quotation the order came from."),
            "lines": _array(ref("OrderLine"), "Ordered (quantity), reserved, delivered and invoiced per line."),
            "deliveries": _array(_object({"number": _string(), "date": DATE, "cost_total": MONEY})),
            "invoices": _array(ref("InvoiceSummary")),
            "payments": _array(_object({**payment, "invoice": _string()})),
            "credit_notes": _array(_object({"number": _string(), "invoice": _string(), "date": DATE,
                                            "gross_total": MONEY, "returned_to_stock": {"type": "boolean"}}))},
            [*order, "lines", "deliveries", "invoices", "payments", "credit_notes"]),
        "InvoiceSummary": _object(invoice, summary),
        "InvoicePage": _page("InvoiceSummary"),
        "InvoiceLine": _document_line(),
        "Payment": _object(payment, list(payment)),
        "Invoice": _object({**invoice, "order": _string("The sales order invoiced."),
                            "lines": _array(ref("InvoiceLine")), "payments": _array(ref("Payment"))},
                           [*invoice, "order", "lines", "payments"]),
        "PaymentResult": _object({
            "payment": _object({**payment, "invoice": _string()}, [*payment, "invoice"]),
            "invoice": _object({k: invoice[k] for k in ("number", "status", "gross_total", "paid", "credited",
                                                        "outstanding")}),
            "announced": _array({"type": "integer"}, "The process instances told `payment_received`.")},
            ["payment", "invoice", "announced"]),
        "StatementResult": _object({
            "matched": _array(_object({
                "row": {"type": "integer"}, "invoice": _string(), "amount": MONEY, "payment": _string(),
                "status": _string(enum=list(INVOICE_STATUSES)),
                "announced": _array({"type": "integer"})}, ["row", "invoice", "amount", "payment", "status"]),
                "Rows that paid an invoice named in their memo."),
            "unmatched": _array(_object({
                "row": {"type": "integer"}, "reason": _string(), "invoice": _string(),
                "date": _string("As written in the file."), "amount": _string("As written in the file."),
                "payer": _string(), "memo": _string()}, ["row", "reason"]),
                "Rows left for a person: no invoice number, not incoming, unknown invoice, bad values.")},
            ["matched", "unmatched"]),
        "MessageResult": _object({
            "delivered_to": _array({"type": "integer"}, "The waiting instances that took the message."),
            "started": _array({"type": "integer"}, "Instances started by it (processes beginning with it).")},
            ["delivered_to", "started"]),
        "QuotationBody": _closed({
            "customer": _string("The customer's code.", maxLength=100),
            "lines": _array(_closed({
                "sku": _string(), "quantity": NUMBER_IN,
                "unit_price": NUMBER_IN | {"description": "Net of VAT; default: the price list's price."},
                "discount_percent": NUMBER_IN}, ["sku", "quantity"])) | {"minItems": 1, "maxItems": 200},
            "discount_percent": NUMBER_IN | {"description": "On the whole quotation, on top of the lines' own."},
            "valid_until": DATE | {"description": "Default: 30 days after today."}}, ["customer", "lines"]),
        "PaymentBody": _closed({"amount": NUMBER_IN, "received_on": DATE | {"description": "Default: today."},
                                "payer": _string(maxLength=200), "memo": _string(maxLength=500)}, ["amount"]),
        "MessageBody": _closed({
            "name": _string("The message, e.g. payment_received.", maxLength=200),
            "correlation": {"type": "object", "additionalProperties": {"type": ["string", "number"]},
                            "description": "The values the waiting instance is correlated on, e.g. "
                                           "{\"invoice\": \"INV-2026-00001\"}."},
            "data": {"type": "object", "additionalProperties": True, "description": "The message's payload."}},
            ["name"]),
    }


def paths() -> dict:
    number = _param("number", "path", {"type": "string"}, "The document's number.")

    def listing(operation_id, summary, page, statuses):
        return {"get": _operation(
            operation_id, summary, "sales", permission="sales.view",
            description="Newest first. Without sales.view_all: only the caller's customers' documents.",
            parameters=[_param("status", "query", {"type": "string", "enum": list(statuses)}, "Status."),
                        _param("customer", "query", {"type": "string"}, "The customer's code."),
                        PAGE, _per_page(25)],
            ok=(200, ref(page)), errors=("invalid_input",))}

    def detail(operation_id, summary, schema):
        return {"get": _operation(operation_id, summary, "sales", permission="sales.view", parameters=[number],
                                  ok=(200, ref(schema)), errors=("not_found",),
                                  description="Another sales rep's document is not found (404).")}

    statement = _operation(
        "importBankStatement", "Import a bank statement (银行对账单): pay the invoices its memos name", "payments",
        permission="payment.record", ok=(200, ref("StatementResult")),
        errors=("bad_request", "invalid_input", "too_large"),
        description="The CSV (UTF-8 or GB18030; columns 交易日期/date, 金额/amount, 付款人/payer, 摘要/memo) as "
                    "the raw body, or as the multipart field `file`. Each matched row records a payment and "
                    "tells the waiting order-to-cash instance.")
    statement["requestBody"] = {"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": _object({"file": {"type": "string", "contentMediaType": "text/csv"}},
                                                  ["file"])}}}
    return {
        "/quotations": {
            **listing("listQuotations", "Quotations (报价单)", "QuotationPage", QUOTATION_STATUSES),
            "post": _operation(
                "createQuotation", "Create a draft quotation", "sales", permission="sales.edit",
                body="QuotationBody", ok=(201, ref("Quotation")),
                description="Missing unit prices come from the default price list; the VAT rate from the "
                            "product. Input errors: 422 with `fields` such as `lines[0].sku`; nothing is saved.")},
        "/quotations/{number}": detail("getQuotation", "A quotation with its lines", "Quotation"),
        "/orders": listing("listOrders", "Sales orders (销售订单)", "OrderPage", ORDER_STATUSES),
        "/orders/{number}": detail("getOrder", "An order: lines (ordered, reserved, delivered, invoiced), "
                                               "deliveries, invoices, payments", "Order"),
        "/invoices": listing("listInvoices", "VAT invoices (增值税发票)", "InvoicePage", INVOICE_STATUSES),
        "/invoices/{number}": detail("getInvoice", "An invoice: amounts, due date, outstanding, payments",
                                     "Invoice"),
        "/invoices/{number}/payments": {"post": _operation(
            "recordPayment", "Record money received (收款) for an invoice", "payments", permission="payment.record",
            parameters=[number], body="PaymentBody", ok=(201, ref("PaymentResult")),
            errors=("not_found", "conflict"),
            description="Posts Dr 1002 / Cr 1122; more than the outstanding amount stays the customer's credit. "
                        "The order-to-cash instance waiting on the invoice is told (`payment_received`).")},
        "/bank-statements": {"post": statement},
        "/messages": {"post": _operation(
            "sendMessage", "Deliver a process message from outside (e.g. a bank: an invoice was paid)", "messages",
            permission="message.send", body="MessageBody", ok=(200, ref("MessageResult")),
            errors=("not_found", "conflict"),
            description="Delivered to every instance waiting for it with these correlation values, else it "
                        "starts the processes that begin with it; if neither: 404. E.g. {\"name\": "
                        "\"payment_received\", \"correlation\": {\"invoice\": \"INV-2026-00001\"}, \"data\": "
                        "{\"amount\": \"1130.00\", \"received_on\": \"2026-11-20\"}}.")},
    }
