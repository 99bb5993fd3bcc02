"""VAT rules (billing/tax.py), VAT numbers (kernel/taxid.py) and the seller's configuration: every branch of the
treatment, and the rounding at its edges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.billing.parties import endpoint
from account_credit.billing.tax import (
    EU,
    BuyerTax,
    Category,
    SellerTax,
    Treatment,
    allocate,
    decide,
    share,
    split_gross,
    vat_on,
)
from account_credit.kernel.taxid import check_vat_id
from account_credit.platform.config import ConfigurationError, seller_from_environment

SK = SellerTax(registered=True, country="SK", rate_bp=2300)
S23 = Treatment(Category.STANDARD, 2300)


@pytest.mark.parametrize(
    ("seller", "buyer", "category", "rate", "code"),
    [
        (SellerTax(), BuyerTax(country="DE", vat_id="DE136695976"), "O", 0, "VATEX-EU-O"),  # not registered
        (SellerTax(), BuyerTax(), "O", 0, "VATEX-EU-O"),
        (SK, BuyerTax(), "S", 2300, None),  # no country: a consumer at home
        (SK, BuyerTax(country="SK"), "S", 2300, None),
        (SK, BuyerTax(country="SK", vat_id="SK2020273893"), "S", 2300, None),  # domestic business
        (SK, BuyerTax(country="DE", vat_id="DE136695976"), "AE", 0, "VATEX-EU-AE"),  # EU business: reverse charge
        (SK, BuyerTax(country="GR", vat_id="EL094259216"), "AE", 0, "VATEX-EU-AE"),
        (SK, BuyerTax(country="DE"), "S", 2300, None),  # EU consumer
        (SK, BuyerTax(country="US"), "O", 0, "VATEX-EU-O"),  # outside the EU
        (SK, BuyerTax(country="GB", vat_id=None), "O", 0, "VATEX-EU-O"),
    ],
)
def test_the_treatment_of_every_seller_and_buyer(
    seller: SellerTax, buyer: BuyerTax, category: str, rate: int, code: str | None
) -> None:
    treatment = decide(seller, buyer)
    assert (treatment.category, treatment.rate_bp, treatment.exemption_code) == (category, rate, code)
    assert (treatment.exemption_reason is not None) == (code is not None)


def test_the_eu_is_the_27_member_states() -> None:
    assert len(EU) == 27 and "SK" in EU and "GB" not in EU and "GR" in EU


@pytest.mark.parametrize(
    ("net", "rate", "vat"),
    [(1000, 2300, 230), (1, 2300, 0), (2, 2300, 0), (3, 2300, 1), (50, 1000, 5), (5, 1000, 1), (4, 1000, 0)],
)
def test_vat_is_rounded_once_half_away_from_zero(net: int, rate: int, vat: int) -> None:
    assert vat_on(net, Treatment(Category.STANDARD, rate)) == vat
    assert vat_on(-net, Treatment(Category.STANDARD, rate)) == -vat


def test_a_gross_amount_splits_into_net_and_vat_that_add_up() -> None:
    assert split_gross(12_300, S23) == (10_000, 2_300)
    assert split_gross(20_000, S23) == (16_260, 3_740)
    assert split_gross(1, S23) == (1, 0)
    assert split_gross(500, Treatment(Category.REVERSE_CHARGE, 0)) == (500, 0)


@given(st.integers(0, 10**12), st.sampled_from([0, 500, 1000, 1950, 2000, 2300, 2700]))
def test_split_gross_always_adds_up_and_the_vat_matches_the_net(gross: int, rate: int) -> None:
    net, vat = split_gross(gross, Treatment(Category.STANDARD, rate))
    assert net + vat == gross and net >= 0 and vat >= 0
    assert abs(vat - vat_on(net, Treatment(Category.STANDARD, rate))) <= 1  # within a cent of net x rate


@given(st.integers(1, 10**9), st.data())
def test_shares_of_one_amount_add_up_to_it(whole: int, data: st.DataObject) -> None:
    net, vat = split_gross(whole, S23)
    part = data.draw(st.integers(0, whole))
    a = share(part, whole, net, vat)
    b = share(whole - part, whole, net, vat)
    assert a[0] + a[1] == part and b[0] + b[1] == whole - part
    assert abs(a[0] + b[0] - net) <= 1


@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_allocation_adds_up_exactly(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total and len(parts) == len(weights)


def test_allocation_follows_the_weights_largest_remainder_first() -> None:
    assert allocate(230, [1, 1, 1]) == [77, 77, 76]
    assert allocate(100, [3, 1]) == [75, 25]
    assert allocate(5, [0, 0]) == [5, 0]


@pytest.mark.parametrize(("bp", "text"), [(2300, "23"), (1950, "19.5"), (0, "0"), (525, "5.25"), (10_000, "100")])
def test_a_rate_prints_as_a_percent(bp: int, text: str) -> None:
    assert Treatment(Category.STANDARD, bp).percent == text


@pytest.mark.parametrize(
    ("raw", "country", "compact"),
    [
        ("sk 2020 273 893", "SK", "SK2020273893"),
        ("DE136695976", None, "DE136695976"),
        ("EL094259216", "GR", "EL094259216"),
    ],
)
def test_valid_vat_numbers_come_back_compact(raw: str, country: str | None, compact: str) -> None:
    assert check_vat_id(raw, country) == compact


@pytest.mark.parametrize(
    ("raw", "country", "why"),
    [
        ("SK2020273894", "SK", "check digits"),
        ("XX123456", None, "member state"),
        ("GR094259216", "GR", "member state"),  # Greece's prefix is EL
        ("DE136695976", "SK", "belongs to DE"),
        ("", None, "member state"),
    ],
)
def test_invalid_vat_numbers_say_why(raw: str, country: str | None, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_vat_id(raw, country)


def test_a_party_is_addressed_by_its_vat_id_unless_it_gives_an_endpoint() -> None:
    assert endpoint(None, "SK2020273893", "SK") == "9950:SK2020273893"
    assert endpoint("0088:5790000436101", "SK2020273893", "SK") == "0088:5790000436101"
    assert endpoint(None, None, "SK") is None and endpoint(None, "X1", "US") is None


SELLER = {"SELLER_NAME": "Predajca", "SELLER_COUNTRY": "SK", "SELLER_VAT_ID": "SK2020273893"}


def test_the_seller_is_not_vat_registered_by_default() -> None:
    cfg = seller_from_environment({})
    assert (cfg.vat_registered, cfg.vat_rate_bp, cfg.languages, cfg.invoice_due_days) == (False, 0, ("en", "sk"), 14)


def test_a_registered_seller_with_a_rate() -> None:
    cfg = seller_from_environment({**SELLER, "VAT_REGISTERED": "true", "VAT_RATE": "19.5", "SELLER_IBAN": "SK31 1200"})
    assert (cfg.vat_registered, cfg.vat_rate_bp, cfg.iban) == (True, 1950, "SK311200")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"VAT_REGISTERED": "yes"}, "VAT_REGISTERED"),
        ({**SELLER, "VAT_REGISTERED": "true", "VAT_RATE": "23.456"}, "VAT_RATE"),
        ({**SELLER, "VAT_REGISTERED": "true", "VAT_RATE": "101"}, "VAT_RATE"),
        ({**SELLER, "VAT_REGISTERED": "true", "VAT_RATE": "1,5"}, "VAT_RATE"),
        ({"SELLER_COUNTRY": "SK", "VAT_REGISTERED": "true", "VAT_RATE": "23"}, "VAT_REGISTERED"),
        ({**SELLER, "SELLER_VAT_ID": "SK2020273894"}, "SELLER_VAT_ID"),
        ({**SELLER, "SELLER_COUNTRY": "sk"}, "SELLER_COUNTRY"),
        ({"DOCUMENT_LANGUAGES": "en,de"}, "DOCUMENT_LANGUAGES"),
        ({"SELLER_PEPPOL_ENDPOINT": "SK2020273893"}, "SELLER_PEPPOL_ENDPOINT"),
        ({"INVOICE_DUE_DAYS": "-1"}, "INVOICE_DUE_DAYS"),
    ],
)
def test_a_malformed_seller_setting_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        seller_from_environment(env)
