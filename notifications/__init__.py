"""Email notifications: an outbox written in the transaction that causes a mail, sent later by the worker."""
