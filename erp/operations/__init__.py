"""Operating the system: backing up and restoring the whole database (`erp backup`, `erp restore`)."""
