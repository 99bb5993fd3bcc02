"""The portal end to end in headless Chromium: the development login for each role, a sandbox card top-up that
moves the balance, an order placed through the API that shows among the transactions, a tax document's PDF
downloaded, and another customer's account refused in plain words."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.browser._support import (
    balance,
    click,
    credit,
    downloaded,
    open_account,
    pay_in_the_sandbox,
    place_order,
    product,
    reload_until_listed,
    search_accounts,
    sign_in,
    wait,
)
from tests.e2e.conftest import Api, LocalServer
from tools import localauth


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
    pay_in_the_sandbox(browser)
    browser.find_element(By.LINK_TEXT, "Overview").click()
    wait(browser).until(lambda d: balance(d) == 2550)
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=balance]").text.replace("\u00a0", " ") == "€25.50"

    # The top-up's tax document is issued from the table stream a moment later: reload until it is listed.
    browser.get(f"{portal_server.base}/portal#/a/{account}/documents")
    row = reload_until_listed(browser, "[data-testid=documents] tbody tr")
    number = row.get_attribute("data-number")
    row.find_element(By.XPATH, ".//button[text()='PDF']").click()
    assert downloaded(browser, downloads / f"{number}.pdf").startswith(b"%PDF")


def test_an_order_placed_through_the_api_shows_among_the_transactions(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account = open_account(api, "Portal Orders a.s.")
    credit(api, account, 100000, "portal test credit")
    code = product(api, "portal-dv-1y", {"EUR": 1000, "USD": 1100}, name="DV SSL")
    customer = localauth.mint("customer", account_id=account)
    place_order(api, account, customer, code, 1, order_id="PORTAL-1")

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
            search_accounts(browser, "Partner Customer")
        # The list re-renders when the search answers: click whichever link is there, again if it went stale.
        click(browser, By.XPATH, f"//a[@href='#/a/{account}']")
        assert balance(browser) == 0
