"""Ordering systems' client bindings: which account or partner an OAuth client-credentials client acts for.

One item per client (``keys.ordering_client``), written by ``python -m tools.ordering_client create`` and read on
every request a machine token makes (no cache: deleting the item revokes the client at once, even while its
access tokens are still valid).
"""

from __future__ import annotations

from typing import Any

from account_credit.kernel.auth import ClientBinding
from account_credit.kernel.errors import Conflict
from account_credit.platform.store import keys
from account_credit.platform.store.base import Store


def bind(store: Store, binding: ClientBinding) -> None:
    """Record a new binding; a client id is bound once (Conflict if it already is)."""
    attrs: dict[str, Any] = {
        "kind": "ordering_client",
        "client_id": binding.client_id,
        "name": binding.name,
        "created_at": binding.created_at,
        "created_by": binding.created_by,
    }
    if binding.account_id:
        attrs["account_id"] = binding.account_id
    if binding.partner_id:
        attrs["partner_id"] = binding.partner_id
    if not store.put_if_absent(keys.ordering_client(binding.client_id), attrs):
        raise Conflict(f"the client {binding.client_id} is already bound")


def binding(store: Store, client_id: str) -> ClientBinding | None:
    item = store.get_item(*keys.ordering_client(client_id))
    if item is None:
        return None
    return ClientBinding(
        client_id=str(item["client_id"]),
        name=str(item.get("name", "")),
        account_id=item.get("account_id"),
        partner_id=item.get("partner_id"),
        created_at=str(item.get("created_at", "")),
        created_by=str(item.get("created_by", "")),
    )


def unbind(store: Store, client_id: str) -> bool:
    """Revoke: the client's tokens are refused (403) from the next request on. True if a binding was removed."""
    return store.delete_record(*keys.ordering_client(client_id))
