"""The portal in Slovak in headless Chromium: amounts as sk-SK formats them (a non-breaking space between the
thousands, a decimal comma, the euro sign after), dates as d. M. yyyy, headings, labels and tabs in Slovak
(none left in English), <html lang="sk">, problems in Slovak words, and no WCAG 2.1 A/AA violation in Slovak."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.browser._support import OPERATOR, credit, go, open_account, report, settled, sign_in, violations, wait
from tests.e2e.conftest import Api, LocalServer
from tools import localauth

# What a person reads on the pages checked: tabs, headings, labels, column heads, buttons, figure names.
TEXTS = "nav.tabs a, h1, h2, h3, legend, label, th, button, dt"
# The same in both languages on purpose: codes and names that are not words.
SAME = {"IBAN", "BIC", "PDF", "XML", "Partner", "CSV", "Export", "LOCAL"}


def shown(driver: Any) -> list[str]:
    texts = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].filter((e) => e.getClientRects().length)"
        ".map((e) => e.innerText.split(/\\s+/).join(' ').trim()).filter(Boolean);",
        TEXTS,
    )
    return [str(t) for t in texts]


def text_of(driver: Any, selector: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, selector).get_property("textContent"))


def set_language(driver: Any, lang: str, expect: str) -> None:
    Select(driver.find_element(By.ID, "lang")).select_by_value(lang)
    wait(driver).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "nav.tabs"), expect))
    # <html lang> follows from an effect after the render: wait for it too.
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang)


def test_the_overview_and_transactions_in_slovak(browser: Any, portal_server: LocalServer, api: Api) -> None:
    name = f"Slovenská {uuid.uuid4().hex[:6]} s.r.o."
    account = open_account(api, name)
    credit(api, account, 123456, "slovak test credit")

    sign_in(browser, portal_server, "customer", account)
    settled(browser, "[data-testid=balance]")
    set_language(browser, "sk", "Prehľad")
    settled(browser, "[data-testid=balance]")

    # 1 234,56 €: what Intl formats for sk-SK in this browser, and explicitly the Slovak way.
    expected = browser.execute_script(
        "return new Intl.NumberFormat('sk-SK', {style: 'currency', currency: 'EUR'}).format(1234.56)"
    )
    assert re.fullmatch("1[\u00a0\u202f]234,56[\u00a0\u202f]\u20ac", expected), ascii(expected)
    # textContent: WebDriver's .text turns the non-breaking spaces into plain ones.
    assert text_of(browser, "[data-testid=balance]") == expected
    assert text_of(browser, "[data-testid=held]") == "0,00\u00a0\u20ac"
    assert browser.find_element(By.CSS_SELECTOR, "#ov-h").text == name
    figures = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".figures dt")]
    assert figures == ["Zostatok", "Úverový limit", "Možno minúť", "Blokované"]
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "sk"
    found = violations(browser, "overview (sk)")

    # The date of the entry as d. M. yyyy (the day in the browser's own time zone), amounts signed the Slovak way.
    go(browser, portal_server, f"#/a/{account}/transactions", "[data-testid=transactions] tbody tr")
    entry = api.call("GET", f"/accounts/{account}/transactions", OPERATOR).json()["items"][0]
    created = entry["created_at"]
    day = browser.execute_script(
        "const d = new Date(arguments[0]); return `${d.getDate()}. ${d.getMonth() + 1}. ${d.getFullYear()}`;", created
    )
    cell = browser.find_element(By.CSS_SELECTOR, "[data-testid=transactions] tbody tr td").text
    assert cell.replace("\u00a0", " ").startswith(day + ","), (cell, day)
    assert re.fullmatch(r"\d{1,2}\. \d{1,2}\. \d{4}", day)
    heads = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "[data-testid=transactions] th")]
    assert heads == ["Dátum", "Typ", "Popis", "Suma", "Zostatok po"]
    kind = browser.find_element(By.CSS_SELECTOR, "tr[data-entry-type=adjustment_credit] td:nth-child(2)")
    assert kind.text == "Pripísanie operátorom"
    # Every entry type in the filter in words, not the API's codes.
    options = [o.get_property("textContent") for o in browser.find_elements(By.CSS_SELECTOR, "#type option")]
    assert options[0] == "Všetky" and len(options) > 10
    assert not [o for o in options if re.fullmatch(r"[a-z_]+", o)], options
    found += violations(browser, "transactions (sk)")

    # A problem in Slovak words: another customer's account, and a refused amount on its field.
    theirs = open_account(api, f"Cudzia {uuid.uuid4().hex[:6]} s.r.o.")
    browser.execute_script("location.hash = arguments[0]", f"#/a/{theirs}")
    problem = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=problem]")))
    assert "Tento účet neexistuje alebo ho nemôžete vidieť." in problem.text
    go(browser, portal_server, f"#/a/{account}/top-up", "#amount")
    browser.find_element(By.ID, "amount").send_keys("0")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    problem = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=problem]")))
    assert "Niečo sa pokazilo" in problem.text and "Pole: amount" in problem.text
    assert "Suma" in problem.text
    found += violations(browser, "top-up with a problem (sk)")
    # The API's refusal: its title in Slovak (by the problem's type), the field named.
    browser.find_element(By.ID, "amount").send_keys("99999999")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    wait(browser).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=problem]"), "Požiadavka nie je platná")
    )
    assert "Pole: amount" in browser.find_element(By.CSS_SELECTOR, "[data-testid=problem]").text
    assert browser.find_element(By.ID, "amount").get_attribute("aria-invalid") == "true"
    assert not found, report(found)


def test_no_english_left_on_the_slovak_pages(browser: Any, portal_server: LocalServer, api: Api) -> None:
    name = f"Preklad {uuid.uuid4().hex[:6]} s.r.o."
    account = open_account(api, name)
    sign_in(browser, portal_server, "customer", account)
    pages = [
        ("", "[data-testid=balance]"),
        ("transactions", "[data-testid=transactions]"),
        ("top-up", "#amount"),
        ("documents", "#doc-h"),
        ("orders", "[data-testid=order-filters]"),
        ("summary", "[data-testid=summary-period]"),
        ("settings", "[data-testid=settings]"),
        ("methods", "[data-testid=payment-methods]"),
        ("subscriptions", "[data-testid=forecast]"),
    ]
    english: dict[str, list[str]] = {}
    for path, selector in pages:
        go(browser, portal_server, f"#/a/{account}/{path}".rstrip("/"), selector)
        english[path] = shown(browser)
    set_language(browser, "sk", "Prehľad")
    left: list[str] = []
    for path, selector in pages:
        go(browser, portal_server, f"#/a/{account}/{path}".rstrip("/"), selector)
        slovak = set(shown(browser))
        left += [
            f"{path or 'overview'}: {text!r}" for text in english[path] if text in slovak and text not in SAME | {name}
        ]
    assert not left, "still in English on the Slovak pages:\n" + "\n".join(left)


def test_a_due_date_is_the_same_day_west_of_utc(browser: Any, portal_server: LocalServer, api: Api) -> None:
    """A plain date (a proforma's due date) is a calendar day, not an instant: shown as the same day in Los Angeles."""
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/Los_Angeles"})
    account = open_account(api, f"Západ {uuid.uuid4().hex[:6]} s.r.o.")
    sign_in(browser, portal_server, "customer", account)
    set_language(browser, "sk", "Prehľad")
    go(browser, portal_server, f"#/a/{account}/top-up", "#amount")
    browser.find_element(By.CSS_SELECTOR, "input[value=bank_transfer]").click()
    browser.find_element(By.ID, "amount").send_keys("1234,56")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=top-up] button[type=submit]").click()
    proforma = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=proforma]")))
    customer = localauth.mint("customer", account_id=account)
    deposits = api.call("GET", f"/accounts/{account}/deposits", customer).json()["items"]
    due = date.fromisoformat(deposits[0]["proforma"]["due_date"])
    shown_due = proforma.find_element(By.XPATH, ".//dt[text()='Splatnosť']/following-sibling::dd").text
    assert shown_due == f"{due.day}. {due.month}. {due.year}"
    amount = proforma.find_element(By.XPATH, ".//dt[text()='Suma']/following-sibling::dd").get_property("textContent")
    assert amount == "1\u00a0234,56\u00a0\u20ac"


def test_no_english_left_on_the_slovak_operator_pages(browser: Any, portal_server: LocalServer, api: Api) -> None:
    name = f"Operátor {uuid.uuid4().hex[:6]} s.r.o."
    account = open_account(api, name)
    sign_in(browser, portal_server, "operator")
    pages = [
        ("#/accounts", "form[role=search]"),
        (f"#/a/{account}/manage", "[data-testid=credit-limit-form]"),
        ("#/suspense", "#su-h"),
        ("#/purchase-orders", "#po-h"),
        ("#/reconciliation", "#rc-h"),
        ("#/new-account", "[data-testid=new-account]"),
    ]
    english: dict[str, list[str]] = {}
    for hash_, selector in pages:
        go(browser, portal_server, hash_, selector)
        english[hash_] = shown(browser)
    Select(browser.find_element(By.ID, "lang")).select_by_value("sk")
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "sk")
    left: list[str] = []
    for hash_, selector in pages:
        go(browser, portal_server, hash_, selector)
        slovak = set(shown(browser))
        left += [f"{hash_}: {text!r}" for text in english[hash_] if text in slovak and text not in SAME | {name}]
    assert not left, "still in English on the Slovak pages:\n" + "\n".join(left)
