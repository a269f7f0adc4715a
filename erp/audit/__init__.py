"""The audit trail: logins and administrative changes (who, when, from where, before and after), every change of
a business record (captured from the ORM), the access log of personal information, and their retention.

Importing the package hooks the change capture into every SQLAlchemy session (erp.audit.changes.install)."""
from erp.audit.changes import install

install()
