"""The portal's accessibility in headless Chromium: axe-core (the accessibility engine, a dev dependency of the
portal) checks every page against WCAG 2.1 A and AA, as a customer with some data and as an operator; the
top-up works with the keyboard alone and a refused amount is announced (role="alert") on its field
(aria-invalid)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from tests.browser._support import (
    card_deposit,
    click,
    credit,
    go,
    open_account,
    place_order,
    product,
    reload_until_listed,
    report,
    run_tool,
    sandbox_pay,
    search_accounts,
    settled,
    sign_in,
    violations,
    wait,
    wait_until_credited,
)
from tests.e2e.conftest import Api, LocalServer
from tools import localauth


def customer_with_data(api: Api) -> tuple[str, str]:  # the account and its order
    """An account with a credit, a card top-up paid in the sandbox and an order: no page of it is empty."""
    account = open_account(api, f"Accessible {uuid.uuid4().hex[:6]} s.r.o.")
    customer = localauth.mint("customer", account_id=account)
    credit(api, account, 123456, "accessibility test credit")
    deposit = card_deposit(api, account, customer, 2550)["deposit_id"]
    sandbox_pay(api, account, customer, deposit)
    wait_until_credited(api, account, customer, deposit)
    code = product(api, "a11y-dv-1y", {"EUR": 1000, "USD": 1100}, name="DV SSL")
    order = place_order(api, account, customer, code, 1, order_id=f"A11Y-{uuid.uuid4().hex[:6]}")
    return account, order


def test_every_customer_page_passes_axe(browser: Any, portal_server: LocalServer, api: Api) -> None:
    account, order = customer_with_data(api)
    found: list[str] = []
    browser.get(portal_server.base + "/portal#/login")
    settled(browser, "[data-testid=dev-login]")
    # The check itself sees a violation: an input without a label, added and removed again.
    browser.execute_script("const i = document.createElement('input'); i.id = 'a11y-probe'; document.body.append(i);")
    assert any(": label " in v for v in violations(browser, "probe")), "axe-core did not run"
    browser.execute_script("document.getElementById('a11y-probe').remove();")
    found += violations(browser, "login")

    sign_in(browser, portal_server, "customer", account)
    base = f"#/a/{account}"
    pages: list[tuple[str, str, str]] = [
        ("overview", base, "[data-testid=balance]"),
        ("transactions", f"{base}/transactions", "[data-testid=transactions] tbody tr"),
        ("orders", f"{base}/orders", "[data-testid=orders] tbody tr"),
        ("an order", f"{base}/orders/{order}", "[data-testid=order-lines]"),
        ("summary", f"{base}/summary", "[data-testid=summary-period]"),
        ("settings", f"{base}/settings", "[data-testid=settings]"),
        ("payment methods", f"{base}/methods", "[data-testid=payment-methods]"),
        ("subscriptions", f"{base}/subscriptions", "[data-testid=forecast]"),
    ]
    for name, hash_, selector in pages:
        go(browser, portal_server, hash_, selector)
        found += violations(browser, name)
    click(browser, By.CSS_SELECTOR, "section[aria-labelledby=sub-h] > p > button:enabled")
    settled(browser, "[data-testid=new-subscription]")
    found += violations(browser, "new subscription")

    go(browser, portal_server, f"{base}/top-up", "#amount")
    found += violations(browser, "top-up")
    browser.find_element(By.CSS_SELECTOR, "input[value=bank_transfer]").click()
    browser.find_element(By.ID, "amount").send_keys("100")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    settled(browser, "[data-testid=proforma]")
    found += violations(browser, "top-up with a proforma")

    browser.execute_script("location.hash = arguments[0]", f"{base}/documents")
    reload_until_listed(browser, "[data-testid=documents] tbody tr")
    found += violations(browser, "documents")
    assert not found, report(found)


def test_every_operator_page_passes_axe(browser: Any, portal_server: LocalServer, api: Api) -> None:
    name = f"Operated {uuid.uuid4().hex[:6]} s.r.o."
    account = open_account(api, name)
    customer = localauth.mint("customer", account_id=account)
    r = api.call("PATCH", f"/accounts/{account}", customer, json={"tax": {"country": "SK", "vat_id": "SK2020273893"}})
    assert r.status_code == 200, r.text
    po = {"po_number": f"PO-{uuid.uuid4().hex[:6]}", "amount": 50_000, "note": "certificates for Q1"}
    r = api.call(
        "POST",
        f"/accounts/{account}/purchase-orders",
        customer,
        json=po,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    transfer = f"tr_a11y_{uuid.uuid4().hex[:12]}"
    run_tool(portal_server, "tools.sandbox", "--base", portal_server.base, "transfer", "--amount", "4321",
             "--currency", "EUR", "--transfer-id", transfer)  # fmt: skip
    found: list[str] = []
    sign_in(browser, portal_server, "operator")
    search_accounts(browser, name)
    wait(browser).until(ec.presence_of_element_located((By.XPATH, f"//a[@href='#/a/{account}']")))
    found += violations(browser, "accounts search")
    click(browser, By.XPATH, f"//a[@href='#/a/{account}']")
    settled(browser, "[data-testid=balance]")
    click(browser, By.LINK_TEXT, "Manage")
    settled(browser, "[data-testid=credit-limit-form]")
    found += violations(browser, "manage")
    browser.find_element(By.ID, "amount").send_keys("10")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=adjustment-form] button[type=submit]").click()
    wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=adjustment-form] [role=alert]"))
    )
    found += violations(browser, "manage with a problem")
    for page, hash_, selector in (
        ("suspense", "#/suspense", f"[data-transfer-id='{transfer}']"),
        ("purchase orders", "#/purchase-orders", "[data-testid=purchase-orders] li"),
        ("reconciliation", "#/reconciliation", "#rc-h"),
        ("new account", "#/new-account", "[data-testid=new-account]"),
    ):
        go(browser, portal_server, hash_, selector)
        found += violations(browser, page)
    assert not found, report(found)


def active(driver: Any) -> dict[str, str]:
    return dict(
        driver.execute_script(
            "const a = document.activeElement;"
            "return {id: a.id, tag: a.tagName, type: a.type || '', text: a.textContent.trim()};"
        )
    )


def tab_to(driver: Any, found: Callable[[dict[str, str]], bool], limit: int = 40) -> dict[str, str]:
    """Press TAB (only) until the focused element is the one wanted."""
    for _ in range(limit):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        now = active(driver)
        if found(now):
            return now
    raise AssertionError(f"TAB never reached it; focus ended on {now}")


def test_a_top_up_with_the_keyboard_alone_and_a_refused_amount_is_announced(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account = open_account(api, f"Keyboard {uuid.uuid4().hex[:6]} s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    browser.execute_script("location.hash = arguments[0]", f"#/a/{account}/top-up")
    settled(browser, "#amount")
    browser.find_element(By.TAG_NAME, "body").click()

    # The method radios are one TAB stop; the arrow keys choose within the group (bank transfer after card).
    tab_to(browser, lambda a: a["type"] == "radio")
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert browser.execute_script("return document.activeElement.value") == "bank_transfer"
    tab_to(browser, lambda a: a["id"] == "amount")
    # Where the focus is can be seen: the focus ring of the stylesheet (:focus-visible).
    ring = browser.execute_script(
        "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth];"
    )
    assert ring[0] != "none" and ring[1] != "0px", ring
    browser.switch_to.active_element.send_keys("0")
    tab_to(browser, lambda a: a["tag"] == "BUTTON" and a["type"] == "submit")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    alert = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=top-up] [role=alert]"))
    )
    assert alert.text
    assert browser.find_element(By.ID, "amount").get_attribute("aria-invalid") == "true"
    found = violations(browser, "top-up with a refused amount")
    assert not found, report(found)

    # Too much for the API: its problem is announced on the same field.
    amount = browser.find_element(By.ID, "amount")
    amount.send_keys(Keys.BACKSPACE, "99999999")
    amount.send_keys(Keys.ENTER)
    wait(browser).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=top-up] [role=alert]"), "amount")
    )
    assert browser.find_element(By.ID, "amount").get_attribute("aria-invalid") == "true"

    # A good amount in its place and ENTER: the proforma appears, the field is no longer marked invalid.
    browser.switch_to.active_element.send_keys(Keys.CONTROL, "a")
    browser.switch_to.active_element.send_keys("150,25", Keys.ENTER)
    proforma = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=proforma]")))
    assert browser.find_element(By.ID, "amount").get_attribute("aria-invalid") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=top-up] [role=alert]")
    customer = localauth.mint("customer", account_id=account)
    pending = api.call("GET", f"/accounts/{account}/deposits", customer)
    assert pending.status_code == 200, pending.text
    amounts = [d["amount"] for d in pending.json()["items"] if d["method"] == "bank_transfer"]
    assert amounts == [15025], json.dumps(pending.json())
    assert "150.25" in proforma.text
