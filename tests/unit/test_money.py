"""Money: integer minor units, ISO 4217 only, no cross-currency arithmetic, one rounding rule."""

from __future__ import annotations

import operator
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.kernel.money import CurrencyMismatch, Money, UnknownCurrency, exponent, is_currency, prorate

# One currency per minor-unit exponent the service knows.
EXPONENT_OF = {"JPY": 0, "USD": 2, "KWD": 3}
currencies = st.sampled_from(sorted(EXPONENT_OF))
amounts = st.integers(min_value=-(10**15), max_value=10**15)


def parse(text: str) -> Money:
    """Read ``Money.format()`` output back, independently of how it was produced."""
    number, code = text.split(" ")
    minor = Decimal(number.replace(",", "")).scaleb(EXPONENT_OF[code])
    assert minor == minor.to_integral_value(), text
    return Money(int(minor), code)


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize("amount", [1.0, 0.0, 10.5, float("nan"), True, False, Decimal("1"), "100", None])
def test_amount_must_be_a_plain_int(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["XXX", "usd", "US", "USDD", "", "EURO", "XAU"])
def test_unknown_currency_is_refused(code: str) -> None:
    assert not is_currency(code)
    with pytest.raises(UnknownCurrency):
        Money(1, code)
    with pytest.raises(UnknownCurrency):
        exponent(code)
    with pytest.raises(UnknownCurrency):
        Money.of_major(1, code)


def test_unknown_currency_is_a_value_error() -> None:
    assert issubclass(UnknownCurrency, ValueError)
    assert issubclass(CurrencyMismatch, ValueError)


@pytest.mark.parametrize(("code", "exp"), sorted(EXPONENT_OF.items()))
def test_exponent_of_known_currencies(code: str, exp: int) -> None:
    assert is_currency(code)
    assert exponent(code) == exp


def test_money_is_an_immutable_value() -> None:
    m = Money(100, "USD")
    assert m == Money(100, "USD")
    assert hash(m) == hash(Money(100, "USD"))
    assert m != Money(100, "EUR")  # same number, another currency: another value
    with pytest.raises(AttributeError):
        m.amount = 5  # type: ignore[misc]


# --------------------------------------------------------------------------- arithmetic


MIXING_OPS = [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", MIXING_OPS, ids=lambda op: op.__name__)
def test_mixing_currencies_raises(op) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CurrencyMismatch):
        op(Money(100, "USD"), Money(100, "EUR"))
    with pytest.raises(CurrencyMismatch):
        op(Money(100, "JPY"), Money(100, "USD"))


@pytest.mark.parametrize("op", MIXING_OPS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", [5, 5.0, None, "5 USD"])
def test_combining_with_a_non_money_raises_type_error(op, other: object) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        op(Money(5, "USD"), other)


@given(a=amounts, b=amounts, code=currencies)
def test_arithmetic_and_ordering_follow_the_minor_units(a: int, b: int, code: str) -> None:
    x, y = Money(a, code), Money(b, code)
    assert x + y == Money(a + b, code)
    assert x - y == Money(a - b, code)
    assert (x + y) - y == x
    assert -x == Money(-a, code)
    assert (x < y, x <= y, x > y, x >= y) == (a < b, a <= b, a > b, a >= b)
    assert x.is_negative() is (a < 0)


@given(a=amounts, k=st.integers(min_value=-1000, max_value=1000), code=currencies)
def test_multiplying_by_an_int_quantity(a: int, k: int, code: str) -> None:
    assert Money(a, code) * k == Money(a * k, code)
    assert k * Money(a, code) == Money(a * k, code)


@pytest.mark.parametrize("factor", [1.5, 2.0, True, Fraction(1, 2), Decimal("2")])
def test_multiplying_by_a_non_int_is_refused(factor: object) -> None:
    with pytest.raises(TypeError):
        Money(100, "USD") * factor  # type: ignore[operator]


# --------------------------------------------------------------------------- of_major


@pytest.mark.parametrize(
    ("major", "code", "minor"),
    [
        (2000, "JPY", 2000),
        (2000, "USD", 200_000),
        (2000, "KWD", 2_000_000),
        (1, "JPY", 1),
        (1, "USD", 100),
        (1, "KWD", 1000),
        (0, "USD", 0),
        (-3, "USD", -300),
    ],
)
def test_of_major(major: int, code: str, minor: int) -> None:
    assert Money.of_major(major, code) == Money(minor, code)


@given(major=st.integers(min_value=-(10**9), max_value=10**9), code=currencies)
def test_of_major_formats_as_whole_major_units(major: int, code: str) -> None:
    m = Money.of_major(major, code)
    assert parse(m.format()) == m
    assert Decimal(m.format().split(" ")[0].replace(",", "")) == major


@pytest.mark.parametrize("major", [1.0, 2000.5, True, "2000", Decimal("5")])
def test_of_major_refuses_non_int(major: object) -> None:
    with pytest.raises(TypeError):
        Money.of_major(major, "USD")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- format


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(0, "USD"), "0.00 USD"),
        (Money(5, "USD"), "0.05 USD"),
        (Money(-1, "USD"), "-0.01 USD"),
        (Money(-99, "USD"), "-0.99 USD"),
        (Money(123_450, "USD"), "1,234.50 USD"),
        (Money(-123_456, "USD"), "-1,234.56 USD"),
        (Money(123_456_789_012, "USD"), "1,234,567,890.12 USD"),
        (Money(0, "JPY"), "0 JPY"),
        (Money(-5, "JPY"), "-5 JPY"),
        (Money(999, "JPY"), "999 JPY"),
        (Money(1000, "JPY"), "1,000 JPY"),
        (Money(-1_234_567, "JPY"), "-1,234,567 JPY"),
        (Money(0, "KWD"), "0.000 KWD"),
        (Money(1, "KWD"), "0.001 KWD"),
        (Money(-1, "KWD"), "-0.001 KWD"),
        (Money(1_234_567, "KWD"), "1,234.567 KWD"),
        (Money(-1_000_050, "KWD"), "-1,000.050 KWD"),
    ],
)
def test_format(money: Money, text: str) -> None:
    assert money.format() == text
    assert str(money) == text


@given(amount=amounts, code=currencies)
def test_format_round_trips(amount: int, code: str) -> None:
    m = Money(amount, code)
    text = m.format()
    assert parse(text) == m
    number = text.split(" ")[0]
    assert number.startswith("-") is (amount < 0)
    digits = number.lstrip("-")
    whole = digits.split(".")[0]
    # Thousands separators every three digits of the whole part, never leading or doubled.
    assert all(len(group) == 3 for group in whole.split(",")[1:])
    assert 1 <= len(whole.split(",")[0]) <= 3
    # Exactly the currency's number of decimals.
    decimals = digits.split(".")[1] if "." in digits else ""
    assert len(decimals) == EXPONENT_OF[code]


# --------------------------------------------------------------------------- prorate


@pytest.mark.parametrize(
    ("amount", "num", "den", "expected"),
    [
        (5, 1, 2, 3),  # 2.5 -> 3: halves round up
        (-5, 1, 2, -3),  # -2.5 -> -3: halves round away from zero
        (15, 1, 2, 8),  # 7.5 -> 8
        (25, 1, 2, 13),  # 12.5 -> 13 (banker's rounding would give 12)
        (10, 1, 3, 3),  # 3.33 -> 3
        (10, 2, 3, 7),  # 6.67 -> 7
        (-10, 2, 3, -7),
        (1, 1, 4, 0),  # 0.25 -> 0
        (3, 1, 4, 1),  # 0.75 -> 1
        (2, 1, 4, 1),  # 0.5 -> 1
        (-2, 1, 4, -1),  # -0.5 -> -1
        (101, 3, 2, 152),  # 151.5 -> 152: a numerator above the denominator scales up
        (200_000, 17, 30, 113_333),  # 113333.33
        (200_000, 16, 30, 106_667),  # 106666.67
    ],
)
def test_prorate_rounds_half_up_away_from_zero(amount: int, num: int, den: int, expected: int) -> None:
    assert prorate(Money(amount, "USD"), num, den) == Money(expected, "USD")


@given(amount=amounts, n=st.integers(min_value=1, max_value=10**6), code=currencies)
def test_prorate_whole_is_exact(amount: int, n: int, code: str) -> None:
    total = Money(amount, code)
    assert prorate(total, n, n) == total


@given(amount=amounts, d=st.integers(min_value=1, max_value=10**6), code=currencies)
def test_prorate_nothing_is_zero(amount: int, d: int, code: str) -> None:
    assert prorate(Money(amount, code), 0, d) == Money.zero(code)


@given(
    amount=amounts,
    den=st.integers(min_value=1, max_value=10**6),
    data=st.data(),
    code=currencies,
)
def test_prorate_is_within_half_a_minor_unit_of_the_exact_value(amount: int, den: int, data, code: str) -> None:  # type: ignore[no-untyped-def]
    num = data.draw(st.integers(min_value=0, max_value=2 * den))
    result = prorate(Money(amount, code), num, den)
    exact = Fraction(amount * num, den)
    assert result.currency == code
    error = abs(result.amount - exact)
    assert error <= Fraction(1, 2)
    if error == Fraction(1, 2):
        # A tie goes away from zero.
        assert abs(result.amount) > abs(exact)


@given(amount=amounts, den=st.integers(min_value=1, max_value=10**6), data=st.data())
def test_prorate_is_symmetric_in_sign(amount: int, den: int, data) -> None:  # type: ignore[no-untyped-def]
    num = data.draw(st.integers(min_value=0, max_value=den))
    assert prorate(Money(-amount, "USD"), num, den) == -prorate(Money(amount, "USD"), num, den)


@given(amount=st.integers(min_value=0, max_value=10**12), den=st.integers(min_value=1, max_value=10**4), data=st.data())
def test_prorate_is_monotonic_in_the_fraction(amount: int, den: int, data) -> None:  # type: ignore[no-untyped-def]
    a = data.draw(st.integers(min_value=0, max_value=den))
    b = data.draw(st.integers(min_value=a, max_value=den))
    total = Money(amount, "USD")
    assert prorate(total, a, den) <= prorate(total, b, den) <= total


@pytest.mark.parametrize(("num", "den"), [(1, 0), (0, 0), (1, -1), (-1, 2), (-1, -1)])
def test_prorate_refuses_invalid_fractions(num: int, den: int) -> None:
    with pytest.raises(ValueError):
        prorate(Money(100, "USD"), num, den)
