"""The portal end to end in headless Chromium: the development login for each role, a sandbox card top-up that
moves the balance, an order placed through the API that shows among the transactions, a tax document's PDF
downloaded, and another customer's account refused in plain words."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import WAIT
from tests.e2e.conftest import Api, LocalServer
from tools import localauth

OPERATOR = localauth.mint("operator", subject="portal-tests")


def open_account(api: Api, name: str, partner_id: str | None = None) -> str:
    body: dict[str, Any] = {"currency": "EUR", "company": {"name": name}, "billing_emails": ["billing@portal.test"]}
    if partner_id:
        body["partner_id"] = partner_id
    r = api.call("POST", "/accounts", OPERATOR, json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["account_id"])


def wait(driver: Any) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def sign_in(driver: Any, server: LocalServer, role: str, value: str | None = None) -> None:
    driver.get(server.base + "/portal#/login")
    form = wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=dev-login]")))
    assert "local only" in driver.find_element(By.CSS_SELECTOR, "p.local-only").text.lower()
    Select(form.find_element(By.ID, "role")).select_by_value(role)
    if role in ("customer", "partner"):
        field = wait(driver).until(
            ec.element_to_be_clickable((By.ID, "account_id" if role == "customer" else "partner_id"))
        )
        field.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "[data-testid=dev-login] button[type=submit]").click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=who]")))


def balance(driver: Any) -> int:
    return int(
        wait(driver)
        .until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=balance]")))
        .get_attribute("data-minor")
    )


def test_customer_tops_up_by_card_sees_the_balance_and_downloads_the_tax_document(
    browser: Any, portal_server: LocalServer, api: Api, downloads: Path
) -> None:
    account = open_account(api, "Portal Top-up s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    assert balance(browser) == 0
    browser.find_element(By.LINK_TEXT, "Top up").click()
    amount = wait(browser).until(ec.element_to_be_clickable((By.ID, "amount")))
    amount.send_keys("25.50")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    sandbox = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=sandbox]")))
    sandbox.find_element(By.XPATH, ".//button[1]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=credited]")))
    browser.find_element(By.LINK_TEXT, "Overview").click()
    wait(browser).until(lambda d: balance(d) == 2550)
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=balance]").text.replace("\u00a0", " ") == "€25.50"

    # The top-up's tax document is issued from the table stream a moment later: reload until it is listed.
    browser.get(f"{portal_server.base}/portal#/a/{account}/documents")

    def listed(d: Any) -> Any:
        rows = d.find_elements(By.CSS_SELECTOR, "[data-testid=documents] tbody tr")
        if not rows:
            d.refresh()
        return rows[0] if rows else False

    row = WebDriverWait(browser, WAIT, poll_frequency=1).until(listed)
    number = row.get_attribute("data-number")
    row.find_element(By.XPATH, ".//button[text()='PDF']").click()
    pdf = downloads / f"{number}.pdf"
    wait(browser).until(lambda d: pdf.exists() and pdf.stat().st_size > 0)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_an_order_placed_through_the_api_shows_among_the_transactions(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account = open_account(api, "Portal Orders a.s.")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    r = api.call(
        "POST",
        f"/accounts/{account}/adjustments",
        OPERATOR,
        headers=key,
        json={"type": "credit", "amount": 100000, "reason": "portal test credit"},
    )
    assert r.status_code == 201, r.text
    r = api.call(
        "PUT",
        "/catalog/products/portal-dv-1y",
        OPERATOR,
        json={"name": "DV SSL", "term_months": 12, "prices": {"EUR": 1000, "USD": 1100}},
    )
    assert r.status_code in (200, 201), r.text
    customer = localauth.mint("customer", account_id=account)
    r = api.call(
        "POST",
        f"/accounts/{account}/orders",
        customer,
        json={"order_id": "PORTAL-1", "channel": "api", "lines": [{"product_code": "portal-dv-1y", "quantity": 1}]},
    )
    assert r.status_code == 201, r.text

    sign_in(browser, portal_server, "customer", account)
    browser.find_element(By.LINK_TEXT, "Transactions").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr[data-entry-type=order_balance]")))
    Select(browser.find_element(By.ID, "type")).select_by_value("order_balance")
    browser.find_element(By.XPATH, "//button[text()='Filter']").click()
    wait(browser).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "tr[data-entry-type=adjustment_credit]"))
    assert browser.find_elements(By.CSS_SELECTOR, "tr[data-entry-type=order_balance]")


def test_a_customer_is_refused_another_customers_account_in_plain_words(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    mine, theirs = open_account(api, "Mine s.r.o."), open_account(api, "Theirs s.r.o.")
    sign_in(browser, portal_server, "customer", mine)
    browser.get(f"{portal_server.base}/portal#/a/{theirs}")
    problem = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=problem]")))
    assert "does not exist or you may not see it" in problem.text
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=balance]")
    Select(browser.find_element(By.ID, "lang")).select_by_value("sk")
    wait(browser).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=problem]"), "neexistuje"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "sk"


def test_a_problem_names_the_field_and_highlights_it(browser: Any, portal_server: LocalServer, api: Api) -> None:
    account = open_account(api, "Big Spender s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/top-up")
    amount = wait(browser).until(ec.element_to_be_clickable((By.ID, "amount")))
    amount.send_keys("99999999")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    problem = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=problem]")))
    assert "amount" in problem.text
    assert browser.find_element(By.ID, "amount").get_attribute("aria-invalid") == "true"


def test_partner_and_operator_sign_in_and_open_a_customers_pages(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    partner = f"p-{uuid.uuid4().hex[:8]}"
    account = open_account(api, "Partner Customer s.r.o.", partner_id=partner)
    for role, value in (("partner", partner), ("operator", None)):
        if browser.find_elements(By.XPATH, "//button[text()='Sign out']"):
            browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
            wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=dev-login]")))
        sign_in(browser, portal_server, role, value)
        if role == "operator":
            search = wait(browser).until(ec.element_to_be_clickable((By.ID, "q")))
            search.send_keys("Partner Customer")
            browser.find_element(By.XPATH, "//form[@role='search']//button").click()
        # The list re-renders when the search answers: click whichever link is there, again if it went stale.
        WebDriverWait(browser, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
            lambda d: d.find_element(By.XPATH, f"//a[@href='#/a/{account}']").click() or True
        )
        assert balance(browser) == 0
