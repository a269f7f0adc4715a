"""Finance: the chart of accounts, double-entry journal entries in CNY and the reports read from them."""
