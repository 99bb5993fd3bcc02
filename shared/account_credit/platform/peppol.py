"""Handing an e-invoice over for Peppol delivery: a port, and its adapter on this machine (a folder).

Every invoice and credit note whose seller and buyer both have a Peppol address is handed over once, right
after its XML is archived. A Peppol access point (a provider's API, or an AS4 gateway) is the adapter to write
for production; until one is configured nothing is handed over on AWS, and the archived XML stays ready to send.
Locally the adapter is a folder (``PEPPOL_OUTBOX_DIR``, else ``$LOCAL_STATE_DIR/peppol-outbox``): one file per
document under its receiver's address, written once like the archive (``platform/archive.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from account_credit.platform.archive import FolderArchive


class Delivery(Protocol):
    def hand_over(self, number: str, sender: str, receiver: str, xml: bytes) -> bool:
        """Queue ``xml`` (document ``number``) from ``sender`` to ``receiver`` (Peppol addresses ``<EAS>:<id>``).
        True: handed over now; False: it was handed over before (the same bytes)."""
        ...


class FolderDelivery:
    """``<root>/<receiver>/<number>.xml`` (the address's ``:`` as ``_``), each written once."""

    def __init__(self, root: str | Path) -> None:
        self.files = FolderArchive(root)

    def hand_over(self, number: str, sender: str, receiver: str, xml: bytes) -> bool:
        return self.files.put_once(f"{receiver.replace(':', '_')}/{number}.xml", xml, "application/xml")


def delivery() -> Delivery | None:
    """The folder adapter off AWS (or wherever ``PEPPOL_OUTBOX_DIR`` is set); None in Lambda without one."""
    folder = os.environ.get("PEPPOL_OUTBOX_DIR") or ""
    if not folder:
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            return None
        state = os.environ.get("LOCAL_STATE_DIR") or ""
        folder = str(Path(state) / "peppol-outbox") if state else os.path.join(".local", "peppol-outbox")
    return FolderDelivery(Path(folder).expanduser())
