"""Payment references (the Slovak "variable symbol") and their reservation.

10 digits, never starting with 0 (banks drop leading zeros): 9 random digits and a weighted mod-11
check digit (weights 10..2), which catches every single mistyped digit and every swap of two adjacent
digits, so a typo lands in suspense instead of on someone else's account. Bases whose check value would
be 10 are not used. Each reference is reserved with a must-not-exist item ``REF#<reference>`` / ``REF``
-> account. Opening an account allocates one; bank transfers are matched by it (bank/service.py).
"""

from __future__ import annotations

import secrets

from account_credit.kernel.errors import DomainError, ServiceUnavailable
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.retry import retry
from account_credit.platform.store import Record, Store, keys

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(base: str) -> int | None:
    """Mod-11 check digit of 9 digits (weights 10..2); None when it would be 10 (base not used)."""
    if len(base) != 9 or not base.isdigit():
        raise ValueError("a reference base is 9 digits")
    value = (11 - sum(int(d) * w for d, w in zip(base, _WEIGHTS, strict=True)) % 11) % 11
    return None if value == 10 else value


def new_reference() -> str:
    while True:
        base = str(secrets.randbelow(9 * 10**8) + 10**8)
        digit = check_digit(base)
        if digit is not None:
            return base + str(digit)


def normalise_reference(raw: str | None) -> str | None:
    """Digits only, leading zeros dropped (some banks pad the variable symbol to 10 digits)."""
    if raw is None:
        return None
    digits = "".join(c for c in raw if not c.isspace())
    if not digits.isdigit():
        return digits or None
    return digits.lstrip("0") or None


def valid_reference(reference: str) -> bool:
    if len(reference) != 10 or not reference.isdigit() or reference[0] == "0":
        return False
    return check_digit(reference[:9]) == int(reference[9])


class _Taken(DomainError):
    status = 409


# A new reference collides only with one already reserved (of ~820 million possible): draw again.
ALLOCATE_ATTEMPTS = 8


def allocate_reference(store: Store, account_id: str) -> str:
    """Reserve a new unique reference for the account (``keys.payment_reference``, must not exist)."""

    def attempt() -> str:
        reference = new_reference()
        store.put_record(
            Record(
                *keys.payment_reference(reference),
                attrs={
                    "kind": "payment_reference",
                    "reference": reference,
                    "account_id": account_id,
                    "created_at": iso(utc_now()),
                },
                on_exists=lambda _old: _Taken("reference taken"),
            )
        )
        return reference

    return retry(
        attempt,
        on=(_Taken,),
        attempts=ALLOCATE_ATTEMPTS,
        exhausted=ServiceUnavailable("could not allocate a payment reference; retry"),
    )
