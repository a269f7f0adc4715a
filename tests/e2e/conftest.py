"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium; Playwright's own browser download is
not possible here) against the app served by waitress on 127.0.0.1, over the test database with the demo data.
Screenshots go to test-artifacts/e2e/ (kept by CI as artifacts)."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import db
from tests.conftest import ROOT, demo_data
from webapp import create_app

CHROMIUM = os.environ.get("ERP_CHROMIUM", "/usr/bin/chromium")
# CI runs both databases' suites at once on two cores: a deploy or a page behind it may take longer than
# Playwright's 5 s default while still being right (the wait ends as soon as the page is there)
expect.set_options(timeout=20_000)
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


@pytest.fixture(scope="session", autouse=True)
def _chromium_present():
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)"
        # CI sets ERP_REQUIRE_TOOLS=1: there a missing browser fails the browser tests instead of skipping them
        if os.environ.get("ERP_REQUIRE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage"]}


@pytest.fixture
def live_server(database, product_engine):
    """The app on a real HTTP server with the zh-CN demo data (users with password demo1234)."""
    from waitress.server import create_server

    with db.transaction() as session:
        demo_data(session, product_engine)
    app = create_app({"ENGINE": product_engine, "SECRET_KEY": "e2e", "SESSION_COOKIE_SECURE": False,
                      "REMEMBER_COOKIE_SECURE": False})
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # closed from inside the server's loop, which the trigger wakes at once (a close from here is only noticed
    # when the loop's one-second select times out)
    server.trigger.pull_trigger(server.close)
    thread.join(timeout=5)


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves test-artifacts/e2e/<test>/<nn>-step.png."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
