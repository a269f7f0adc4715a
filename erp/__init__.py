"""The business domain: one module per area (identity first; crm, sales, finance... follow)."""
