"""What the browser tests share: the API setup a test needs before the browser opens (an account, a credit, a
product, an order, a card top-up paid in the sandbox, a project tool run as a process), and the few ways of
driving the portal that every page needs (the development login, explicit waits, a click that survives a
re-render, an amount read from ``data-minor``, axe-core's WCAG check)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.conftest import Api, LocalServer
from tools import localauth
from tools.template import ROOT

WAIT = 60.0  # explicit waits only; generous for a busy 2-core CI machine
OPERATOR = localauth.mint("operator", subject="portal-tests")

# ---- the API: setup before the browser opens ----


def open_account(api: Api, name: str, partner_id: str | None = None) -> str:
    """A new EUR account opened by an operator (under ``partner_id`` if given): its id."""
    body: dict[str, Any] = {"currency": "EUR", "company": {"name": name}, "billing_emails": ["billing@portal.test"]}
    if partner_id:
        body["partner_id"] = partner_id
    r = api.call("POST", "/accounts", OPERATOR, json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["account_id"])


def fetch_account(api: Api, account_id: str, token: str = OPERATOR) -> dict[str, Any]:
    """The account as the API shows it (balance, available, credit limit, settings, company)."""
    r = api.call("GET", f"/accounts/{account_id}", token)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def credit(api: Api, account: str, amount: int, reason: str = "portal test credit") -> None:
    """An operator credits the account (an adjustment with an Idempotency-Key of its own)."""
    r = api.call(
        "POST",
        f"/accounts/{account}/adjustments",
        OPERATOR,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"type": "credit", "amount": amount, "reason": reason},
    )
    assert r.status_code == 201, r.text


def product(
    api: Api,
    code: str | None = None,
    prices: dict[str, int] | None = None,
    term_months: int = 12,
    name: str = "OV SSL",
) -> str:
    """An operator puts a catalog product (a new code unless one is given; EUR 120.00 unless priced): its code."""
    code = code or f"browser-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "term_months": term_months, "prices": prices or {"EUR": 12000}}
    r = api.call("PUT", f"/catalog/products/{code}", OPERATOR, json=body)
    assert r.status_code in (200, 201), r.text
    return code


def place_order(
    api: Api,
    account: str,
    token: str,
    code: str,
    quantity: int,
    order_id: str | None = None,
    channel: str = "api",
) -> str:
    """An order of ``quantity`` x ``code`` placed with ``token`` (the customer's) and paid from the balance: its id."""
    order_id = order_id or f"PO-{uuid.uuid4().hex[:8]}"
    r = api.call(
        "POST",
        f"/accounts/{account}/orders",
        token,
        json={"order_id": order_id, "channel": channel, "lines": [{"product_code": code, "quantity": quantity}]},
    )
    assert r.status_code == 201, r.text
    return order_id


def card_deposit(api: Api, account: str, token: str, amount: int) -> dict[str, Any]:
    """A card top-up started (pending until the provider's webhook): the deposit as the API answers it."""
    r = api.call(
        "POST",
        f"/accounts/{account}/deposits",
        token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"method": "card", "amount": amount},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def sandbox_pay(api: Api, account: str, token: str, deposit_id: str) -> None:
    """The provider's webhook for a paid checkout: the local sandbox signs and sends it, as Stripe would."""
    r = api.call(
        "POST", "/local/sandbox/pay", token, json={"account_id": account, "deposit_id": deposit_id, "outcome": "pay"}
    )
    assert r.status_code < 300, r.text


def wait_until_credited(api: Api, account: str, token: str, deposit_id: str) -> None:
    """Poll the deposit until it is no longer pending (the webhook's credit has landed)."""
    deadline = time.monotonic() + WAIT
    while api.call("GET", f"/accounts/{account}/deposits/{deposit_id}", token).json()["state"] == "pending":
        assert time.monotonic() < deadline, "the sandbox payment was not confirmed"
        time.sleep(0.5)


def payment_methods(api: Api, account: str) -> dict[str, Any]:
    """The account's payment methods as its customer sees them: ``items`` and ``preferences``."""
    customer = localauth.mint("customer", account_id=account)
    r = api.call("GET", f"/accounts/{account}/payment-methods", customer)
    assert r.status_code == 200, r.text
    return dict(r.json())


def run_tool(server: LocalServer, *args: str) -> str:
    """``python -m tools.<...>`` as a process of its own with the server's settings (its table, its state
    directory), as the README runs it: its output."""
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


# ---- the browser ----


def wait(driver: Any) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def sign_in(driver: Any, server: LocalServer, role: str, value: str | None = None) -> None:
    """The development login (local only) as ``role``; ``value`` is the customer's account or the partner's id."""
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


def minor(driver: Any, testid: str) -> int:
    """The amount in minor units of the element ``[data-testid=<testid>]`` (its ``data-minor``)."""
    element = wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid={testid}]")))
    return int(element.get_attribute("data-minor"))


def balance(driver: Any) -> int:
    """The balance on the overview, in minor units."""
    return minor(driver, "balance")


def click(driver: Any, by: str, value: str) -> None:
    """Click an element, again if a re-render replaced it meanwhile (or it is not there yet)."""
    WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda d: d.find_element(by, value).click() or True
    )


def click_link(driver: Any, text: str) -> None:
    """Click a link by its text, again if a re-render replaced it meanwhile."""
    click(driver, By.LINK_TEXT, text)


def search_accounts(driver: Any, text: str) -> None:
    """An operator's (or partner's) account search: type ``text`` and send it."""
    wait(driver).until(ec.element_to_be_clickable((By.ID, "q"))).send_keys(text)
    driver.find_element(By.XPATH, "//form[@role='search']//button").click()


def pay_in_the_sandbox(driver: Any) -> None:
    """On the card top-up's sandbox checkout: pay, and wait until the page says the account is credited."""
    sandbox = wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=sandbox]")))
    sandbox.find_element(By.XPATH, ".//button[1]").click()
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=credited]")))


def reload_until_listed(driver: Any, selector: str) -> Any:
    """Documents are issued from the table stream a moment later: reload until one matches; the first that does."""

    def listed(d: Any) -> Any:
        found = d.find_elements(By.CSS_SELECTOR, selector)
        if not found:
            d.refresh()
        return found[0] if found else False

    return WebDriverWait(driver, WAIT, poll_frequency=1).until(listed)


def downloaded(driver: Any, file: Path) -> bytes:
    """The bytes of a download, once the browser has written it (exists and is not empty)."""
    wait(driver).until(lambda _: file.exists() and file.stat().st_size > 0)
    return file.read_bytes()


# ---- accessibility: axe-core's WCAG 2.1 A/AA check ----

AXE = ROOT / "portal" / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}}).then(
  (r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => ({target: n.target.join(" "), summary: n.failureSummary}))}))),
  (e) => done([{id: "axe-error", help: String(e), nodes: []}]));
"""
LOADING = """return [...document.querySelectorAll("[role=status]")]
  .some((s) => s.textContent.includes("Loading") || s.textContent.includes("Načítava"));"""


def violations(driver: Any, page: str) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as shown now, each as one readable line."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text())
    driver.set_script_timeout(WAIT)
    found = driver.execute_async_script(RUN_AXE, WCAG)
    return [
        f"{page}: {v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(f"{n['target']} [{' '.join(n['summary'].split())}]" for n in v["nodes"])
        for v in found
    ]


def report(found: list[str]) -> str:
    return "axe-core found WCAG 2.1 A/AA violations:\n" + "\n".join(found)


def settled(driver: Any, selector: str) -> None:
    """The page's content is there and nothing is loading any more."""
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
    wait(driver).until(lambda d: not d.execute_script(LOADING))


def go(driver: Any, server: LocalServer, hash_: str, selector: str) -> None:
    """Change the portal's route in place (no page load) and wait until the page has settled."""
    driver.execute_script("location.hash = arguments[0]", hash_)
    settled(driver, selector)
