"""EU VAT identification numbers: country prefix and check digits, by python-stdnum (it knows every member
state's algorithm). The one place a VAT id is judged; the account API and the seller's configuration use it."""

from __future__ import annotations

# Greece's VAT numbers carry EL, its ISO 3166 code is GR; every other member state uses its ISO code.
_PREFIX_COUNTRY = {"EL": "GR"}


def check_vat_id(raw: str, country: str | None) -> str:
    """The VAT id in compact form (``"de 136 695 976"`` -> ``"DE136695976"``), or ValueError saying what is wrong:
    not an EU VAT number, wrong check digits, or a prefix that is not ``country``."""
    from stdnum.eu import vat  # pure Python; loaded only where a VAT id is checked

    compact = "".join(raw.split()).replace("-", "").replace(".", "").upper()
    prefix = compact[:2]
    owner = _PREFIX_COUNTRY.get(prefix, prefix)
    if prefix == "GR" or owner.lower() not in vat.MEMBER_STATES:
        raise ValueError(f"{raw!r} is not an EU VAT number (it must start with a member state's prefix, e.g. SK)")
    if not vat.is_valid(compact):
        raise ValueError(f"{raw!r} is not a valid VAT number (wrong length or check digits)")
    if country is not None and owner != country:
        raise ValueError(f"VAT number {compact} belongs to {owner}, not to {country}")
    return compact
