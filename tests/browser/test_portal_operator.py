"""The partner's and operator's pages in headless Chromium: an operator raises an account's credit limit and
credits it with a reason (a missing reason is shown on its field), a partner opens an account and lands on its
overview, an operator assigns an unmatched bank transfer from the suspense queue to an account, and reads a
day's reconciliation report after an on-demand run. Each result is checked through the API as well."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.browser._support import (
    OPERATOR,
    balance,
    click,
    click_link,
    credit,
    fetch_account,
    minor,
    open_account,
    run_tool,
    search_accounts,
    sign_in,
    wait,
)
from tests.e2e.conftest import Api, LocalServer


def test_an_operator_raises_the_credit_limit_and_credits_the_account_with_a_reason(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    name = f"Managed {uuid.uuid4().hex[:6]} s.r.o."
    acc = open_account(api, name)
    sign_in(browser, portal_server, "operator")
    search_accounts(browser, name)
    click(browser, By.XPATH, f"//a[@href='#/a/{acc}']")
    assert balance(browser) == 0
    click_link(browser, "Manage")

    limit = wait(browser).until(ec.element_to_be_clickable((By.ID, "credit_limit")))
    limit.send_keys("5000")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=credit-limit-form] button[type=submit]").click()
    wait(browser).until(lambda d: minor(d, "manage-credit-limit") == 500000)
    assert fetch_account(api, acc)["credit_limit"] == 500000

    # No reason: the API's problem names the field and the input is highlighted.
    browser.find_element(By.ID, "amount").send_keys("120.50")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=adjustment-form] button[type=submit]").click()
    problem = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=adjustment-form] [data-testid=problem]"))
    )
    assert "reason" in problem.text
    assert browser.find_element(By.ID, "reason").get_attribute("aria-invalid") == "true"
    assert fetch_account(api, acc)["balance"] == 0

    browser.find_element(By.ID, "reason").send_keys("goodwill credit for the outage")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=adjustment-form] button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=adjusted]")))
    assert minor(browser, "manage-balance") == 12050
    assert minor(browser, "manage-available") == 12050 + 500000
    got = fetch_account(api, acc)
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
    got = fetch_account(api, acc)
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
    assert fetch_account(api, acc)["balance"] == 4321
    assigned = api.call("GET", "/bank-transfers/suspense", OPERATOR, params={"state": "assigned"}).json()["items"]
    assert [i["account_id"] for i in assigned if i["transfer_id"] == transfer] == [acc]


def test_the_reconciliation_page_shows_a_days_report_after_a_run(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    acc = open_account(api, f"Reconciled {uuid.uuid4().hex[:6]} s.r.o.")
    credit(api, acc, 7000, "reconciliation in the portal")
    today = datetime.now(UTC).date().isoformat()
    run_tool(
        portal_server, "tools.schedule", "Reconciliation", "--input", json.dumps({"day": today, "account_id": acc})
    )
    report = api.call("GET", f"/reconciliation/reports/{today}", OPERATOR).json()

    sign_in(browser, portal_server, "operator")
    click_link(browser, "Reconciliation")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid=runs] tr[data-day='{today}']")))
    click(browser, By.CSS_SELECTOR, f"tr[data-day='{today}'] a")
    shown = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=report]")))
    assert (shown.get_attribute("data-day"), shown.get_attribute("data-run-id")) == (today, report["run_id"])
    assert shown.get_attribute("data-mismatches") == str(report["mismatches"]) == "0"
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=all-adds-up]").is_displayed()
