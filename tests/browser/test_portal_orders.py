"""The customer's orders, summary and payment settings in headless Chromium: 2 of 5 certificates refunded through
the refund form (refundable 3, and the API agrees), a count above what is refundable highlighted on its line, the
same form on an order placed 31 days ago refused in plain words, the period summary that adds up and an export
downloaded once its progress is done, and the payment settings saved. An operator cancels the old order (refund
everything) on the same page after confirming."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.browser._support import (
    credit,
    fetch_account,
    open_account,
    place_order,
    product,
    run_tool,
    sign_in,
    wait,
)
from tests.e2e.conftest import Api, LocalServer
from tools import localauth


def funded_account_with_order(api: Api, name: str, quantity: int = 5) -> tuple[str, str, str]:
    """An account credited by an operator and an order of ``quantity`` certificates paid from its balance:
    (account id, order id, the customer's token)."""
    account = open_account(api, name)
    credit(api, account, 100000, "portal orders test credit")
    code = product(api, prices={"EUR": 2000})
    customer = localauth.mint("customer", account_id=account)
    order_id = place_order(api, account, customer, code, quantity, channel="portal")
    return account, order_id, customer


def cell(driver: Any, line: int, column: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, f"tr[data-line='{line}'] td[data-col={column}]").text)


def refund(driver: Any, line: int, quantity: int) -> None:
    field = wait(driver).until(ec.element_to_be_clickable((By.ID, f"refund-line-{line}")))
    field.clear()
    field.send_keys(str(quantity))
    driver.find_element(By.CSS_SELECTOR, "[data-testid=refund-form] button[type=submit]").click()


def test_customer_refunds_two_of_five_certificates_and_a_count_too_high_is_highlighted(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account, order_id, customer = funded_account_with_order(api, "Portal Refunds s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"nav a[href='#/a/{account}/orders']"))).click()
    wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, order_id))).click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=order-lines]")))
    assert (cell(browser, 1, "bought"), cell(browser, 1, "refunded"), cell(browser, 1, "refundable")) == ("5", "0", "5")

    refund(browser, 1, 2)
    outcome = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=refund-outcome]")))
    wait(browser).until(lambda d: cell(d, 1, "refundable") == "3")
    assert cell(browser, 1, "refunded") == "2"
    assert "Partly refunded" in outcome.text and "to the balance" in outcome.text
    order = api.call("GET", f"/accounts/{account}/orders/{order_id}", customer).json()
    assert (order["lines"][0]["refunded"], order["lines"][0]["refundable"], order["state"]) == (
        2,
        3,
        "partly_refunded",
    )
    shown = int(browser.find_element(By.CSS_SELECTOR, "[data-testid=refund-amount]").get_attribute("data-minor"))
    assert shown == order["refunds"][-1]["amount"] == order["refunds"][-1]["to"]["balance"]

    # four more than the three left: the API's 422 names lines[0].quantity, highlighted on line 1's input
    refund(browser, 1, 4)
    problem = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=problem]")))
    assert "lines[0].quantity" in problem.text
    assert browser.find_element(By.ID, "refund-line-1").get_attribute("aria-invalid") == "true"
    order = api.call("GET", f"/accounts/{account}/orders/{order_id}", customer).json()
    assert order["lines"][0]["refundable"] == 3 and len(order["refunds"]) == 1


def test_a_refund_past_30_days_is_refused_in_plain_words_and_an_operator_cancels_it(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account, order_id, customer = funded_account_with_order(api, "Portal Old Order s.r.o.")
    run_tool(portal_server, "tools.sandbox", "age-order", account, order_id, "--days", "31")
    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/orders/{order_id}")
    refund(browser, 1, 1)
    refused = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=window-closed]")))
    assert "more than 30 days ago" in refused.text and "only an operator" in refused.text
    assert refused.get_attribute("role") == "alert"
    order = api.call("GET", f"/accounts/{account}/orders/{order_id}", customer).json()
    assert order["lines"][0]["refundable"] == 5 and order["refunds"] == []

    # an operator opens the same order and cancels it (refund everything) after confirming
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
    sign_in(browser, portal_server, "operator")
    browser.get(f"{portal_server.base}/portal#/a/{account}/orders/{order_id}")
    wait(browser).until(
        ec.element_to_be_clickable((By.XPATH, "//button[starts-with(text(), 'Cancel the order')]"))
    ).click()
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=cancel-yes]"))).click()
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=cancel-outcome]")))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=order-state]").text == "Cancelled"
    assert cell(browser, 1, "refundable") == "0"
    order = api.call("GET", f"/accounts/{account}/orders/{order_id}", customer).json()
    assert order["state"] == "cancelled" and order["lines"][0]["refundable"] == 0


def test_the_summary_adds_up_and_an_export_is_downloaded(
    browser: Any, portal_server: LocalServer, api: Api, downloads: Path
) -> None:
    account, _, customer = funded_account_with_order(api, "Portal Summary s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"nav a[href='#/a/{account}/summary']"))).click()
    table = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=summary]")))
    opening, closing = int(table.get_attribute("data-opening")), int(table.get_attribute("data-closing"))
    rows = [int(r.get_attribute("data-minor")) for r in table.find_elements(By.CSS_SELECTOR, "tbody tr[data-minor]")]
    assert rows and opening + sum(rows) == closing
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=summary-check]").get_attribute("data-adds") == "true"
    assert closing == fetch_account(api, account, customer)["balance"]

    Select(browser.find_element(By.ID, "export-format")).select_by_value("csv")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=export-form] button[type=submit]").click()
    ready = wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=export-download]")))
    ready.click()

    def saved(_: Any) -> Path | bool:
        files = [p for p in downloads.glob("*.csv") if p.stat().st_size > 0]
        return files[0] if files else False

    csv_file = wait(browser).until(saved)
    assert isinstance(csv_file, Path)
    assert "order" in csv_file.read_text(encoding="utf-8-sig").lower()


def test_payment_settings_are_saved(browser: Any, portal_server: LocalServer, api: Api) -> None:
    account = open_account(api, "Portal Settings s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/settings")
    threshold = wait(browser).until(ec.element_to_be_clickable((By.ID, "low_balance_threshold")))
    threshold.clear()
    threshold.send_keys("50.25")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=settings] button[type=submit]").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=settings-state]"), "Saved"))
    settings = fetch_account(api, account)["settings"]
    assert settings["low_balance_threshold"] == 5025

    threshold = browser.find_element(By.ID, "low_balance_threshold")
    threshold.clear()
    threshold.send_keys("fifty")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=settings] button[type=submit]").click()
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=problem]")))
    assert browser.find_element(By.ID, "low_balance_threshold").get_attribute("aria-invalid") == "true"
