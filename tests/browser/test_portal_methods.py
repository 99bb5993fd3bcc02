"""The portal's payment methods and subscriptions in headless Chromium: a customer adds two sandbox cards, makes
one the default and the other the alternate (the API agrees); creates a subscription backdated 60 days whose
previewed price is the charged one; and is told in plain words why the card a subscription relies on cannot be
deleted."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from account_credit.kernel.proration import prorate
from tests.browser._support import credit, open_account, payment_methods, product, sign_in, wait
from tests.e2e.conftest import Api, LocalServer
from tools import localauth


def add_card_in_portal(driver: Any, token: str) -> None:
    wait(driver).until(ec.element_to_be_clickable((By.XPATH, "//button[text()='Add a card']"))).click()
    form = wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=add-card]")))
    Select(form.find_element(By.ID, "token")).select_by_value(token)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=pm-notice]")))


def card_row(driver: Any, last4: str) -> Any:
    return wait(driver).until(
        ec.presence_of_element_located(
            (By.XPATH, f"//table[@data-testid='payment-methods']//tr[@data-type='card'][contains(., '{last4}')]")
        )
    )


def test_customer_adds_two_sandbox_cards_and_sets_default_and_alternate(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account = open_account(api, "Portal Cards s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/methods")
    for token, last4 in (("pm_card_visa", "4242"), ("pm_card_mastercard", "4444")):
        add_card_in_portal(browser, token)
        card_row(browser, last4)
    listed = payment_methods(api, account)
    cards = {m["last4"]: m["payment_method_id"] for m in listed["items"] if m["type"] == "card"}
    assert set(cards) == {"4242", "4444"}

    form = browser.find_element(By.CSS_SELECTOR, "[data-testid=preferences]")
    Select(form.find_element(By.ID, "default")).select_by_value(cards["4444"])
    Select(form.find_element(By.ID, "alternate")).select_by_value(cards["4242"])
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, f"tr[data-pm='{cards['4444']}'][data-role=default]")
            and d.find_elements(By.CSS_SELECTOR, f"tr[data-pm='{cards['4242']}'][data-role=alternate]")
        )
    )
    assert "Default" in card_row(browser, "4444").text
    assert "Alternate" in card_row(browser, "4242").text
    prefs = payment_methods(api, account)["preferences"]
    assert prefs == {"default": cards["4444"], "alternate": cards["4242"]}


def test_backdated_subscription_preview_is_the_charge_and_its_card_cannot_be_deleted(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account = open_account(api, "Portal Subscriptions s.r.o.")
    code = product(api, prices={"EUR": 12000})
    customer = localauth.mint("customer", account_id=account)
    ids = {}
    for token, brand, last4 in (("pm_sub_visa", "visa", "4242"), ("pm_sub_mc", "mastercard", "4444")):
        r = api.call(
            "POST",
            f"/accounts/{account}/payment-methods",
            customer,
            json={"token": token, "brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2040},
        )
        assert r.status_code == 201, r.text
        ids[last4] = r.json()["payment_method_id"]
    r = api.call(
        "PUT",
        f"/accounts/{account}/payment-methods/preferences",
        customer,
        json={"default": ids["4242"], "alternate": ids["4444"]},
    )
    assert r.status_code == 200, r.text

    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/subscriptions")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=forecast]")))
    wait(browser).until(ec.element_to_be_clickable((By.XPATH, "//button[text()='New subscription']"))).click()
    form = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=new-subscription]")))
    Select(form.find_element(By.ID, "term_months")).select_by_value("12")
    Select(wait(browser).until(ec.element_to_be_clickable((By.ID, "lines[0].product_code")))).select_by_value(code)
    quantity = browser.find_element(By.ID, "lines[0].quantity")
    quantity.clear()
    quantity.send_keys("2")
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=60)
    field = browser.find_element(By.ID, "start_date")
    field.send_keys(start.strftime("%d%m%Y"))  # the en-GB date field: day, month, year
    if field.get_attribute("value") != start.isoformat():
        browser.execute_script(
            "const e = arguments[0]; e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true}));",
            field,
            start.isoformat(),
        )
    # The card the subscription relies on: the alternate, so nothing else can pay it when it is gone.
    Select(browser.find_element(By.ID, "payment_method_id")).select_by_value(ids["4444"])

    expected = prorate(2 * 12000, start, 12, today)
    preview = wait(browser).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "[data-testid=preview]").get_attribute("data-net") == str(expected.amount)
            and d.find_element(By.CSS_SELECTOR, "[data-testid=preview]")
        )
    )
    assert f"{expected.remaining_days} / {expected.term_days}" in preview.text
    assert "server's answer is final" in preview.text
    browser.find_element(By.XPATH, "//button[text()='Confirm and pay']").click()

    charged = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=charged]")))
    assert charged.get_attribute("data-net") == str(expected.amount)
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=preview-was]").get_attribute("data-net") == str(
        expected.amount
    )
    subs = api.call("GET", f"/accounts/{account}/subscriptions", customer).json()["items"]
    assert len(subs) == 1 and subs[0]["start_date"] == start.isoformat()
    order = api.call("GET", f"/accounts/{account}/orders/{subs[0]['orders'][0]}", customer).json()
    assert order["net"] == expected.amount
    assert charged.get_attribute("data-total") == str(order["total"])

    browser.find_element(By.LINK_TEXT, "Payment methods").click()
    row = card_row(browser, "4444")
    row.find_element(By.CSS_SELECTOR, "[data-testid=delete]").click()
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=confirm-delete]"))).click()
    told = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=in-use]")))
    assert "cannot be deleted" in told.text and subs[0]["subscription_id"] in told.text
    problem = browser.find_element(By.CSS_SELECTOR, "[data-testid=delete-problem] [data-testid=problem]")
    assert "payment_method_id" in problem.text
    assert ids["4444"] in {m["payment_method_id"] for m in payment_methods(api, account)["items"]}


def test_a_subscriptions_page_adds_inventory_changes_renewal_and_suspends(
    browser: Any, portal_server: LocalServer, api: Api
) -> None:
    account = open_account(api, "Portal Inventory s.r.o.")
    code = product(api, prices={"EUR": 36500})
    customer = localauth.mint("customer", account_id=account)
    credit(api, account, 500000, "portal test credit")
    start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=30)
    r = api.call(
        "POST",
        f"/accounts/{account}/subscriptions",
        customer,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"term_months": 12, "lines": [{"product_code": code, "quantity": 1}], "start_date": start.isoformat()},
    )
    assert r.status_code == 201, r.text
    sub = r.json()["subscription_id"]

    sign_in(browser, portal_server, "customer", account)
    browser.get(f"{portal_server.base}/portal#/a/{account}/subscriptions")
    wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, sub))).click()
    form = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=add-inventory]")))
    preview = wait(browser).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=inventory-preview]").get_attribute("data-net")
    )
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    added = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=inventory-added]")))
    view = api.call("GET", f"/accounts/{account}/subscriptions/{sub}", customer).json()
    order = api.call("GET", f"/accounts/{account}/orders/{view['orders'][-1]}", customer).json()
    assert order["net"] == int(preview), (order, preview)
    assert view["orders"][-1] in added.text
    assert view["inventory"] == [{"product_code": code, "quantity": 2}]

    quantity = browser.find_element(By.ID, "renewal_items[0].quantity")
    quantity.clear()
    quantity.send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=renewal-inventory] button[type=submit]").click()
    wait(browser).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=renewal-items]"), f"3 x {code}")
    )

    browser.find_element(By.XPATH, "//button[text()='Suspend']").click()
    wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=subscription][data-state=suspended]"))
    )
    view = api.call("GET", f"/accounts/{account}/subscriptions/{sub}", customer).json()
    assert view["state"] == "suspended" and view["renewal_inventory"] == [{"product_code": code, "quantity": 3}]
    browser.find_element(By.XPATH, "//button[text()='Reactivate']").click()
    wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=subscription][data-state=active]"))
    )
