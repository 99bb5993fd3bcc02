"""A top-up's way back to the portal: the return from the provider's hosted checkout page (on AWS, Stripe Checkout
sends the browser to ``#/a/<id>/top-up?checkout=done|cancelled``) shows progress until the webhook has credited the
deposit, a cancelled checkout says nothing was charged, and a bank transfer's proforma downloads as a PDF."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.browser._support import (
    balance,
    card_deposit,
    downloaded,
    open_account,
    pay_in_the_sandbox,
    payment_methods,
    sandbox_pay,
    sign_in,
    wait,
)
from tests.e2e.conftest import Api, LocalServer
from tools import localauth


def come_back_from_checkout(browser: Any, server: LocalServer, account: str, deposit_id: str, outcome: str) -> None:
    """What the portal does before leaving for the hosted page, then the provider's redirect back (a page load)."""
    browser.execute_script("sessionStorage.setItem(arguments[0], arguments[1])", f"ac.checkout.{account}", deposit_id)
    browser.get("about:blank")  # off to the provider's page; the tab's sessionStorage stays
    browser.get(f"{server.base}/portal#/a/{account}/top-up?checkout={outcome}")


def test_back_from_a_paid_checkout_the_page_waits_for_the_webhook_then_shows_the_credit(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account = open_account(api, f"Checkout Back {uuid.uuid4().hex[:6]} s.r.o.")
    customer = localauth.mint("customer", account_id=account)
    deposit_id = card_deposit(api, account, customer, 4200)["deposit_id"]
    sign_in(browser, portal_server, "customer", account)
    come_back_from_checkout(browser, portal_server, account, deposit_id, "done")
    # The provider has not confirmed yet: the page says it is waiting, not frozen, not "paid".
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=progress]")))
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=credited]")
    assert browser.execute_script("return location.hash") == f"#/a/{account}/top-up"
    assert browser.execute_script("return sessionStorage.getItem(arguments[0])", f"ac.checkout.{account}") is None

    # The provider's webhook arrives (the sandbox signs and sends it, as Stripe would).
    sandbox_pay(api, account, customer, deposit_id)
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=credited]")))
    browser.find_element(By.LINK_TEXT, "Overview").click()
    wait(browser).until(lambda d: balance(d) == 4200)


def test_back_from_a_cancelled_checkout_nothing_is_charged(browser: Any, portal_server: LocalServer, api: Api) -> None:
    account = open_account(api, f"Checkout Cancel {uuid.uuid4().hex[:6]} s.r.o.")
    customer = localauth.mint("customer", account_id=account)
    deposit_id = card_deposit(api, account, customer, 1500)["deposit_id"]
    sign_in(browser, portal_server, "customer", account)
    come_back_from_checkout(browser, portal_server, account, deposit_id, "cancelled")
    note = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=cancelled]")))
    assert "nothing was charged" in note.text
    got = api.call("GET", f"/accounts/{account}/deposits/{deposit_id}", customer).json()
    assert got["state"] == "pending"
    browser.find_element(By.LINK_TEXT, "Overview").click()
    assert balance(browser) == 0


def test_a_bank_transfers_proforma_downloads_as_a_pdf(
    browser: Any, portal_server: LocalServer, api: Api, downloads: Path
) -> None:
    account = open_account(api, f"Proforma {uuid.uuid4().hex[:6]} s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/top-up")
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "input[value=bank_transfer]"))).click()
    browser.find_element(By.ID, "amount").send_keys("300")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    proforma = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=proforma]")))
    number = proforma.find_element(By.TAG_NAME, "h3").text.split()[-1]
    proforma.find_element(By.XPATH, ".//button[text()='Download PDF']").click()
    assert downloaded(browser, downloads / f"{number}.pdf").startswith(b"%PDF")


def test_a_card_kept_at_top_up_becomes_a_payment_method(browser: Any, portal_server: LocalServer, api: Api) -> None:
    account = open_account(api, f"Keep Card {uuid.uuid4().hex[:6]} s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/top-up")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "amount"))).send_keys("12")
    browser.find_element(By.ID, "save_card").click()
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    pay_in_the_sandbox(browser)

    browser.find_element(By.LINK_TEXT, "Payment methods").click()
    card = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=payment-methods] tr[data-type=card]"))
    )
    cards = [m for m in payment_methods(api, account)["items"] if m["type"] == "card"]
    assert len(cards) == 1
    assert card.get_attribute("data-pm") == cards[0]["payment_method_id"]
    assert cards[0]["last4"] in card.text


def test_back_in_a_tab_that_forgot_the_top_up_the_session_id_finds_it(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    """Stripe names its session in the return URL (the deposit's payment_id): enough without sessionStorage."""
    account = open_account(api, f"Checkout Tab {uuid.uuid4().hex[:6]} s.r.o.")
    customer = localauth.mint("customer", account_id=account)
    deposit = card_deposit(api, account, customer, 1990)
    sandbox_pay(api, account, customer, deposit["deposit_id"])
    sign_in(browser, portal_server, "customer", account)
    browser.get("about:blank")
    browser.get(f"{portal_server.base}/portal#/a/{account}/top-up?checkout=done&session={deposit['payment_id']}")
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=credited]")))
