"""The pure rules of refunds by certificate count (orders/refunds.py): who may refund when, what some certificates
of a line are worth (telescoping, so the parts of a line add up to it exactly), and where the money goes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.kernel.auth import Role
from account_credit.kernel.errors import InvalidInput
from account_credit.orders import refunds

PLACED = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "age", "allowed"),
    [
        (Role.CUSTOMER, timedelta(0), True),
        (Role.CUSTOMER, timedelta(days=30), True),  # the 30th day still counts
        (Role.CUSTOMER, timedelta(days=30, seconds=1), False),
        (Role.PARTNER, timedelta(days=29, hours=23), True),
        (Role.PARTNER, timedelta(days=31), False),
        (Role.OPERATOR, timedelta(days=31), True),
        (Role.OPERATOR, timedelta(days=3_650), True),
    ],
)
def test_who_may_refund_when(role: Role, age: timedelta, allowed: bool) -> None:
    why = refunds.may_refund(role, PLACED, PLACED + age)
    assert (why is None) == allowed
    if why is not None:
        assert "2026-11-01" in why and "operator" in why


@pytest.mark.parametrize(
    ("gross", "quantity", "done", "more", "expected"),
    [
        (10_000, 5, 0, 2, 4_000),
        (10_000, 3, 0, 1, 3_333),  # a third of 100.00, rounded half away from zero
        (10_000, 3, 1, 1, 3_334),  # the parts telescope: 3,333 + 3,334 + 3,333 = 10,000
        (10_000, 3, 2, 1, 3_333),
        (1, 2, 0, 1, 1),  # half a cent rounds up...
        (1, 2, 1, 1, 0),  # ...so the second half is nothing: together exactly the line
        (12_100, 1, 0, 1, 12_100),  # the whole line
    ],
)
def test_what_some_certificates_of_a_line_are_worth(
    gross: int, quantity: int, done: int, more: int, expected: int
) -> None:
    assert refunds.line_refund(gross, quantity, done, more, field="lines.0.quantity") == expected


@pytest.mark.parametrize(("done", "more"), [(0, 0), (4, 2), (5, 1)])
def test_a_refund_beyond_what_is_left_or_of_nothing_is_refused(done: int, more: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        refunds.line_refund(10_000, 5, done, more, field="lines.0.quantity")
    assert refused.value.field == "lines.0.quantity"


@given(
    gross=st.integers(0, 10_000_000),
    quantity=st.integers(1, 500),
    data=st.data(),
)
def test_refunds_of_a_line_in_any_steps_add_up_to_it_exactly(gross: int, quantity: int, data: st.DataObject) -> None:
    done, total = 0, 0
    while done < quantity:
        more = data.draw(st.integers(1, quantity - done))
        got = refunds.line_refund(gross, quantity, done, more, field="q")
        assert 0 <= got <= gross - total
        done, total = done + more, total + got
    assert total == gross


@pytest.mark.parametrize(
    ("amount", "paid", "given_back", "expected"),
    [
        (3_000, {"balance": 10_000}, {}, (("balance", 3_000),)),
        # an order that crossed zero: the credit part comes back first (it reduces the credit used)
        (3_000, {"balance": 4_000, "credit": 6_000}, {}, (("credit", 3_000),)),
        (8_000, {"balance": 4_000, "credit": 6_000}, {}, (("credit", 6_000), ("balance", 2_000))),
        (2_000, {"balance": 4_000, "credit": 6_000}, {"credit": 6_000}, (("balance", 2_000),)),
        (5_000, {"card": 12_000}, {"card": 7_000}, (("card", 5_000),)),
        (1, {"gift_card": 1}, {}, (("gift_card", 1),)),
    ],
)
def test_the_money_goes_back_the_way_it_came(
    amount: int, paid: dict[str, int], given_back: dict[str, int], expected: tuple[tuple[str, int], ...]
) -> None:
    got = refunds.split(amount, paid, given_back)
    assert got.parts == expected and got.total == amount


def test_never_more_to_a_source_than_it_has_left() -> None:
    with pytest.raises(ValueError, match="1 more"):
        refunds.split(5_001, {"card": 12_000}, {"card": 7_000})
    with pytest.raises(ValueError, match="unknown"):
        refunds.split(1, {"cash": 1}, {})
