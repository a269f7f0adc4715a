"""The hostile-input tests use the web app fixtures (the app on the test database, a client, users with roles)
and, for the browser checks, the e2e ones (Debian's Chromium, the app on a real server with the demo data)."""
from __future__ import annotations

from tests.e2e.conftest import browser_type_launch_args, live_server, screenshot  # noqa: F401  (fixtures)
from tests.webapp.conftest import app, client, make_user  # noqa: F401  (fixtures, re-exported for pytest)
