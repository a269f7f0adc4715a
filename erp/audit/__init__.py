"""The audit trail: logins and administrative changes (who, when, from where, before and after)."""
