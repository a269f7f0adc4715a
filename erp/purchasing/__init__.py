"""Procure-to-pay (采购到付款): suppliers, requisitions, RFQs, purchase orders, goods receipts, supplier
invoices with their three-way match, supplier credits and payments."""
