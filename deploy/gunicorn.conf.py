"""gunicorn settings for serving the web app in production: `gunicorn -c deploy/gunicorn.conf.py`.

Every figure comes from an ERP_WEB_* environment variable so one file serves every machine. The web processes
are stateless (sessions are signed cookies, login limits and everything else live in PostgreSQL), so any
number of them, on any number of machines, can share one database; timers and mail are the `erp worker`
processes' job, never the web processes'. TLS ends at a reverse proxy in front (nginx or similar), which
sets X-Forwarded-Proto; gunicorn believes that header only from ERP_WEB_FORWARDED_ALLOW_IPS.
"""
import multiprocessing
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


# the app: the factory in webapp/__init__.py, called once in each worker (no preloading: the database engine
# and its connection pool must be created after the fork, never shared between processes)
wsgi_app = "webapp:create_app()"
pythonpath = str(ROOT)
chdir = str(ROOT)
preload_app = False

# where and how many: 2 × cores + 1 processes is gunicorn's usual start; each has a few threads because a
# request mostly waits for the database
bind = _env("ERP_WEB_BIND", "127.0.0.1:8000").split(",")
workers = int(_env("ERP_WEB_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
worker_class = "gthread"
threads = int(_env("ERP_WEB_THREADS", "4"))
backlog = 2048

# a request taking longer than this is killed with its worker (its transaction rolls back); uploads are capped
# at 10 MB, so a minute is ample
timeout = int(_env("ERP_WEB_TIMEOUT", "60"))
graceful_timeout = int(_env("ERP_WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = int(_env("ERP_WEB_KEEPALIVE", "5"))
# recycle workers now and then, so a slow leak in any library never grows without bound
max_requests = int(_env("ERP_WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
limit_request_line = 8190
limit_request_fields = 100

# behind the reverse proxy: which addresses may tell us the request came in over HTTPS
forwarded_allow_ips = _env("ERP_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# logs: each access log line ends with the worker process that served it (<pid>) and the time taken (µs)
accesslog = _env("ERP_WEB_ACCESS_LOG", "-")
errorlog = _env("ERP_WEB_ERROR_LOG", "-")
loglevel = _env("ERP_WEB_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(p)s %(D)s'
proc_name = _env("ERP_WEB_PROC_NAME", "erp-web")
pidfile = os.environ.get("ERP_WEB_PIDFILE") or None

# gunicorn's control socket (gunicornc) would otherwise be one shared path in $HOME for every instance
if os.environ.get("ERP_WEB_CONTROL_SOCKET"):
    control_socket = os.environ["ERP_WEB_CONTROL_SOCKET"]
else:
    control_socket_disable = True
