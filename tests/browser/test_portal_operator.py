"""The partner's and operator's pages in headless Chromium: an operator raises an account's credit limit and
credits it with a reason (a missing reason is shown on its field), a partner opens an account and lands on its
overview, an operator assigns an unmatched bank transfer from the suspense queue to an account, and reads a
day's reconciliation report after an on-demand run. Each result is checked through the API as well."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import WAIT
from tests.browser.test_portal import OPERATOR, balance, open_account, sign_in, wait
from tests.e2e.conftest import Api, LocalServer
from tools.template import ROOT


def run_tool(server: LocalServer, *args: str) -> str:
    """A project tool as a process of its own with the server's settings (its table, its state directory)."""
    out = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def click_link(driver: Any, text: str) -> None:
    """Click a link by its text, again if a re-render replaced it meanwhile."""
    WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda d: d.find_element(By.LINK_TEXT, text).click() or True
    )


def minor(driver: Any, testid: str) -> int:
    element = wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid={testid}]")))
    return int(element.get_attribute("data-minor"))


def account(api: Api, account_id: str) -> dict[str, Any]:
    r = api.call("GET", f"/accounts/{account_id}", OPERATOR)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_an_operator_raises_the_credit_limit_and_credits_the_account_with_a_reason(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    name = f"Managed {uuid.uuid4().hex[:6]} s.r.o."
    acc = open_account(api, name)
    sign_in(browser, portal_server, "operator")
    search = wait(browser).until(ec.element_to_be_clickable((By.ID, "q")))
    search.send_keys(name)
    browser.find_element(By.XPATH, "//form[@role='search']//button").click()
    WebDriverWait(browser, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda d: d.find_element(By.XPATH, f"//a[@href='#/a/{acc}']").click() or True
    )
    assert balance(browser) == 0
    click_link(browser, "Manage")

    limit = wait(browser).until(ec.element_to_be_clickable((By.ID, "credit_limit")))
    limit.send_keys("5000")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=credit-limit-form] button[type=submit]").click()
    wait(browser).until(lambda d: minor(d, "manage-credit-limit") == 500000)
    assert account(api, acc)["credit_limit"] == 500000

    # No reason: the API's problem names the field and the input is highlighted.
    browser.find_element(By.ID, "amount").send_keys("120.50")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=adjustment-form] button[type=submit]").click()
    problem = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=adjustment-form] [data-testid=problem]"))
    )
    assert "reason" in problem.text
    assert browser.find_element(By.ID, "reason").get_attribute("aria-invalid") == "true"
    assert account(api, acc)["balance"] == 0

    browser.find_element(By.ID, "reason").send_keys("goodwill credit for the outage")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=adjustment-form] button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=adjusted]")))
    assert minor(browser, "manage-balance") == 12050
    assert minor(browser, "manage-available") == 12050 + 500000
    got = account(api, acc)
    assert (got["balance"], got["available"]) == (12050, 512050)
    entries = api.call("GET", f"/accounts/{acc}/transactions", OPERATOR).json()["items"]
    assert [(e["type"], e["amount"]) for e in entries] == [("adjustment_credit", 12050)]


def test_a_partner_opens_an_account_and_lands_on_its_overview(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    partner = f"p-{uuid.uuid4().hex[:8]}"
    name = f"Partner New {uuid.uuid4().hex[:6]} a.s."
    sign_in(browser, portal_server, "partner", partner)
    click_link(browser, "New account")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "name"))).send_keys(name)
    browser.find_element(By.ID, "city").send_keys("Bratislava")
    browser.find_element(By.ID, "country").send_keys("SK")
    browser.find_element(By.ID, "billing_emails").send_keys("billing@partner-new.test, ap@partner-new.test")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=new-account] button[type=submit]").click()
    heading = wait(browser).until(ec.visibility_of_element_located((By.ID, "ov-h")))
    assert heading.text == name
    assert balance(browser) == 0
    acc = browser.execute_script("return location.hash").split("/")[2]
    got = account(api, acc)
    assert (got["partner_id"], got["company"]["name"], got["company"]["country"]) == (partner, name, "SK")
    assert got["billing_emails"] == ["billing@partner-new.test", "ap@partner-new.test"]

    # The operator's tab is not listed for a partner; its address typed by hand gives a plain notice, no forms.
    assert not browser.find_elements(By.LINK_TEXT, "Manage")
    browser.execute_script("location.hash = arguments[0]", f"#/a/{acc}/manage")
    notice = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=operators-only]")))
    assert "Only operators" in notice.text
    assert not browser.find_elements(By.ID, "credit_limit")


def test_an_operator_assigns_an_unmatched_transfer_from_the_suspense_queue(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    acc = open_account(api, f"Suspense {uuid.uuid4().hex[:6]} s.r.o.")
    transfer = f"tr_portal_{uuid.uuid4().hex[:12]}"
    run_tool(
        portal_server,
        "tools.sandbox",
        "--base",
        portal_server.base,
        "transfer",
        "--amount",
        "4321",
        "--currency",
        "EUR",
        "--transfer-id",
        transfer,
    )
    sign_in(browser, portal_server, "operator")
    click_link(browser, "Suspense")
    row = wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid=suspense] [data-transfer-id='{transfer}']"))
    )
    assert "No reference" in row.text
    wait(browser).until(ec.element_to_be_clickable((By.ID, f"assign-{transfer}"))).send_keys(acc)
    row.find_element(By.XPATH, ".//button[text()='Assign']").click()
    done = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=queue-done]")))
    assert acc in done.text
    wait(browser).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"[data-transfer-id='{transfer}'] button"))
    assert account(api, acc)["balance"] == 4321
    assigned = api.call("GET", "/bank-transfers/suspense", OPERATOR, params={"state": "assigned"}).json()["items"]
    assert [i["account_id"] for i in assigned if i["transfer_id"] == transfer] == [acc]


def test_the_reconciliation_page_shows_a_days_report_after_a_run(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    acc = open_account(api, f"Reconciled {uuid.uuid4().hex[:6]} s.r.o.")
    r = api.call(
        "POST",
        f"/accounts/{acc}/adjustments",
        OPERATOR,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"type": "credit", "amount": 7000, "reason": "reconciliation in the portal"},
    )
    assert r.status_code == 201, r.text
    today = datetime.now(UTC).date().isoformat()
    run_tool(
        portal_server, "tools.schedule", "Reconciliation", "--input", json.dumps({"day": today, "account_id": acc})
    )
    report = api.call("GET", f"/reconciliation/reports/{today}", OPERATOR).json()

    sign_in(browser, portal_server, "operator")
    click_link(browser, "Reconciliation")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid=runs] tr[data-day='{today}']")))
    WebDriverWait(browser, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-day='{today}'] a").click() or True
    )
    shown = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=report]")))
    assert (shown.get_attribute("data-day"), shown.get_attribute("data-run-id")) == (today, report["run_id"])
    assert shown.get_attribute("data-mismatches") == str(report["mismatches"]) == "0"
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=all-adds-up]").is_displayed()
