"""The last known state of each account in this process: what a warm DynamoStore conditions its writes on."""

from __future__ import annotations

from collections import OrderedDict

from account_credit.kernel.domain import Account


class AccountCache:
    """Last known state of each account in this process (bounded; the oldest written goes first).

    A Lambda container serves one request at a time, and so does each local function
    instance, so there is nothing to lock: across processes the version condition decides,
    and a stale entry costs one refresh. Tests and benchmarks that share a store between
    threads are still safe: every method is one OrderedDict operation, atomic in CPython,
    and a state overwritten by an older one is only stale.
    """

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._data: OrderedDict[tuple[str, str], tuple[Account, int]] = OrderedDict()

    def get(self, table: str, account_id: str) -> tuple[Account, int] | None:
        return self._data.get((table, account_id))

    def put(self, table: str, account: Account, version: int) -> None:
        key = (table, account.account_id)
        self._data.pop(key, None)  # re-inserted at the end: the newest
        self._data[key] = (account, version)
        while len(self._data) > self._size:
            try:
                self._data.popitem(last=False)
            except KeyError:  # emptied meanwhile by another thread of a test
                break

    def drop(self, table: str, account_id: str) -> None:
        self._data.pop((table, account_id), None)
