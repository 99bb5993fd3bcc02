"""VAT: the seller's regime, the buyer's tax data, the treatment one decides for the other, and the arithmetic.

Pure and the only place VAT is rounded. Rates are whole basis points (23 % = 2300) so nothing is a float; every
amount is integer minor units. Rounding is ``kernel.money.scale``: exact integers, halves away from zero.

EN 16931 computes VAT per VAT category on the sum of the category's line net amounts (BR-CO-17), so an order's
VAT is one rounding of its net total, never a sum of per-line roundings (``vat_on``). A gross amount received is
split once (``split_gross``: the net is rounded, the VAT is the rest, so net + VAT is the gross to the cent), and a
part of an amount whose net and VAT are known takes its net share by the same rule (``share``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from account_credit.kernel.domain import TaxDetails
from account_credit.kernel.money import scale

# EU member states by ISO 3166 alpha-2 (Greece's VAT numbers start EL, its country code is GR).
EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


class Category(StrEnum):
    """UNCL 5305 VAT category codes this product issues."""

    STANDARD = "S"
    REVERSE_CHARGE = "AE"
    NOT_SUBJECT = "O"


@dataclass(frozen=True)
class SellerTax:
    """The deployment's tax rules: not VAT-registered (no VAT at all), or registered in ``country`` at ``rate_bp``."""

    registered: bool = False
    country: str | None = None
    rate_bp: int = 0  # standard rate in basis points: 2300 = 23 %


BuyerTax = TaxDetails  # the account's tax data is the buyer's


@dataclass(frozen=True)
class Treatment:
    """How a document taxes what it lists: category, rate, and the legal note (exemption reason) where due."""

    category: Category
    rate_bp: int
    exemption_code: str | None = None  # CEF VATEX code
    exemption_reason: str | None = None

    @property
    def percent(self) -> str:
        """The rate as a decimal text, e.g. 2300 -> "23", 1950 -> "19.5", 0 -> "0"."""
        whole, frac = divmod(self.rate_bp, 100)
        return f"{whole}" if not frac else f"{whole}.{frac:02d}".rstrip("0")

    def as_dict(self) -> dict[str, object]:
        return {
            "category": str(self.category),
            "rate_bp": self.rate_bp,
            "exemption_code": self.exemption_code,
            "exemption_reason": self.exemption_reason,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> Treatment:
        return cls(
            category=Category(str(raw["category"])),
            rate_bp=int(str(raw["rate_bp"])),
            exemption_code=str(raw["exemption_code"]) if raw.get("exemption_code") else None,
            exemption_reason=str(raw["exemption_reason"]) if raw.get("exemption_reason") else None,
        )


NOT_REGISTERED = Treatment(
    Category.NOT_SUBJECT, 0, "VATEX-EU-O", "Not subject to VAT: the seller is not VAT-registered"
)


def decide(seller: SellerTax, buyer: BuyerTax) -> Treatment:
    """The treatment of everything sold to ``buyer``.

    * seller not VAT-registered -> O (not subject to VAT), as before documents existed;
    * buyer in the seller's country, or no country given (a consumer) -> S at the seller's standard rate;
    * buyer in another EU member state with a VAT id (validated when it was set) -> AE, reverse charge, 0 %;
    * buyer in another EU member state without one (a consumer) -> S at the seller's rate;
    * buyer outside the EU -> O, the service is not subject to VAT in the seller's country.
    """
    if not seller.registered:
        return NOT_REGISTERED
    if buyer.country is None or buyer.country == seller.country:
        return Treatment(Category.STANDARD, seller.rate_bp)
    if buyer.country in EU:
        if buyer.vat_id:
            return Treatment(
                Category.REVERSE_CHARGE,
                0,
                "VATEX-EU-AE",
                "Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)",
            )
        return Treatment(Category.STANDARD, seller.rate_bp)
    return Treatment(
        Category.NOT_SUBJECT,
        0,
        "VATEX-EU-O",
        "Not subject to VAT in the EU: services supplied to a customer established outside the EU",
    )


def vat_on(net: int, treatment: Treatment) -> int:
    """VAT of one category's net total, rounded once (BR-CO-17)."""
    return scale(net, treatment.rate_bp, 10_000)


def split_gross(gross: int, treatment: Treatment) -> tuple[int, int]:
    """(net, VAT) of a gross amount received: the net rounded, the VAT the rest, so they add up to the gross."""
    if not treatment.rate_bp:
        return gross, 0
    net = scale(gross, 10_000, 10_000 + treatment.rate_bp)
    return net, gross - net


def share(part: int, whole: int, net: int, vat: int) -> tuple[int, int]:
    """(net, VAT) of ``part`` of a gross ``whole`` whose net and VAT are ``net`` and ``vat``: the net share rounded,
    the VAT share the rest (so shares of one amount add up to it exactly when the parts do)."""
    if part == whole:
        return net, vat
    if whole == 0:
        return 0, 0
    net_part = scale(net, part, whole) if part >= 0 else -scale(net, -part, whole)
    return net_part, part - net_part


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder): the parts add up to ``total`` exactly.
    Used to show an order's VAT (rounded once on its net total) against each of its lines."""
    whole = sum(weights)
    if not weights:
        return []
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    base = [abs(total) * w // whole for w in weights]
    rest = abs(total) - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-(abs(total) * weights[i] % whole), i))
    for i in order[:rest]:
        base[i] += 1
    return [sign * b for b in base]
