"""Numbers without gaps: one counter per series and year, taken in the transaction that writes the document.

``take(store, uow, series, year)`` adds to ``uow`` the counter's ``SET value = n`` conditioned on ``value = n - 1``
and the number's own must-not-exist item, so a number exists only if its document was committed and no number is
ever used twice. When another writer took ``n`` first the commit raises ``NumberTaken``: write again with the next
number (``retry_numbered``). Proformas (``PF-``) and every billing document series use it.
"""

from __future__ import annotations

from collections.abc import Callable

from account_credit.kernel.errors import ConcurrentUpdate, DomainError
from account_credit.platform.config import settings
from account_credit.platform.retry import retry
from account_credit.platform.store import Record, RecordUpdate, Store, UnitOfWork, keys


class NumberTaken(DomainError):
    """Another document took the number (or moved the counter) first; nothing was written."""

    status = 409


def _last(store: Store, series: str, year: int) -> int:
    """The last number issued; a series' first document of the year creates its counter (at 0) and tries again."""
    counter = keys.counter(series, year)
    current = store.get_item(*counter)
    if current is None:
        store.put_if_absent(counter, {"kind": "counter", "value": 0})
        raise NumberTaken("the counter was just created")
    return int(current["value"])


def take(store: Store, uow: UnitOfWork, series: str, year: int, number_item: dict[str, object]) -> tuple[int, str]:
    """Add the next number of ``series``/``year`` to ``uow``: (n, the formatted number ``<series>-<year>-<n:06d>``)."""
    n = _last(store, series, year) + 1
    prefix = "PF" if series == "PROFORMA" else series
    number = f"{prefix}-{year}-{n:06d}"
    uow.update(
        RecordUpdate(
            *keys.counter(series, year),
            changes={"value": n},
            expect={"value": n - 1},
            on_mismatch=lambda _old: NumberTaken("the counter moved"),
        )
    )
    pk, sk = keys.proforma_number(number) if series == "PROFORMA" else keys.document_number(number)
    uow.put(Record(pk, sk, attrs={**number_item, "number": number}, on_exists=lambda _o: NumberTaken("number taken")))
    return n, number


def retry_numbered[T](attempt: Callable[[], T], what: str) -> T:
    """Run ``attempt`` again (with the next number) while another writer takes the number first. A burst all
    contends for one counter, so it gets four times the store's budget."""
    return retry(
        attempt,
        on=(NumberTaken,),
        attempts=4 * settings().max_write_attempts,
        exhausted=ConcurrentUpdate(f"too many {what} issued at once; nothing was written, retry"),
    )
