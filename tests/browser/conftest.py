"""The portal in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium) against a local
server started like the e2e tests start theirs. A failed test leaves a screenshot and the page's HTML in
.local/screenshots/ (CI keeps that folder)."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Api, LocalServer, server_env, start_server
from tools import ddb_local
from tools.template import ROOT

SCREENSHOTS = ROOT / ".local" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
if not (ROOT / "functions" / "portal" / "static" / "app.js").exists():
    pytest.skip("the portal is not built: make install", allow_module_level=True)


@pytest.fixture(scope="session")
def portal_server(ddb_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    state = tmp_path_factory.mktemp("portal-state")
    table = f"portal-{uuid.uuid4().hex[:10]}"
    ddb_local.ensure_table(ddb_endpoint, table)
    server = start_server(
        state, state / "server.log", server_env(state, DYNAMODB_ENDPOINT=ddb_endpoint, TABLE_NAME=table)
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api(portal_server: LocalServer) -> Api:
    return Api(portal_server.base)


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def browser(downloads: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-GB"):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    driver = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and driver is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        (SCREENSHOTS / f"{name}.html").write_text(driver.page_source)
        report.sections.append(("portal", f"screenshot: .local/screenshots/{name}.png"))
