"""Mail settings, read from ERP_* environment variables (the worker reads them once at start)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from email.utils import parseaddr


@dataclass(frozen=True)
class MailConfig:
    server: str = "127.0.0.1"
    port: int = 25
    default_sender: str = "ERP <erp@localhost>"
    use_tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: seconds for every SMTP operation; smtplib would otherwise wait forever on a stalled server
    timeout: float = 10.0
    #: the web app's address, for links in mails
    base_url: str = "http://127.0.0.1:5000"
    #: tries before a message is given up as failed
    max_attempts: int = 8
    #: who signs letters to customers (dunning): the company running the system
    company_name: str = "北京华信商贸有限公司"

    @property
    def message_id_domain(self) -> str:
        """The right-hand side of generated Message-IDs: the sender's domain."""
        address = parseaddr(self.default_sender)[1]
        return address.rpartition("@")[2] or "localhost"


def load_mail_config(env: dict[str, str] | None = None) -> MailConfig:
    env = os.environ if env is None else env
    return MailConfig(
        server=env.get("ERP_MAIL_SERVER", "127.0.0.1"),
        port=int(env.get("ERP_MAIL_PORT", "25")),
        default_sender=env.get("ERP_MAIL_DEFAULT_SENDER", "ERP <erp@localhost>"),
        use_tls=env.get("ERP_MAIL_USE_TLS", "").lower() in ("1", "true", "yes"),
        username=env.get("ERP_MAIL_USERNAME") or None,
        password=env.get("ERP_MAIL_PASSWORD") or None,
        timeout=float(env.get("ERP_MAIL_TIMEOUT", "10")),
        company_name=env.get("ERP_COMPANY_NAME", "北京华信商贸有限公司"),
        base_url=env.get("ERP_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        max_attempts=int(env.get("ERP_MAIL_MAX_ATTEMPTS", "8")),
    )
