"""Sales: quotations, orders, deliveries, VAT invoices, payments and credit notes, each posted to the books."""
