"""Money: integer minor units plus an ISO 4217 currency. No floats anywhere.

Every amount in the system is a ``Money``: an ``int`` count of the currency's minor
units (cents, pence, yen...) and the three-letter code. Arithmetic between two
currencies raises ``CurrencyMismatch``; building a ``Money`` from a float raises
``TypeError``. Rounding (proration, VAT) lives in ``scale`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

# ISO 4217 active codes and their minor-unit exponent. Codes not listed are refused.
_TWO_DECIMALS = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR
    KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG
    SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH
    USD UYU UZS VES WST XCD YER ZAR ZMW ZWG
"""
_NO_DECIMALS = """
    BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF
"""
_THREE_DECIMALS = """
    BHD IQD JOD KWD LYD OMR TND
"""
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMALS.split(), 2),
    **dict.fromkeys(_NO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class UnknownCurrency(ValueError):
    """The code is not an ISO 4217 currency this service accepts."""


def exponent(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (USD 2, JPY 0, KWD 3)."""
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(f"{currency!r} is not a supported ISO 4217 currency code") from None


def is_currency(code: str) -> bool:
    return code in _EXPONENTS


def currencies() -> list[str]:
    """Every supported ISO 4217 code, sorted (the OpenAPI document lists them)."""
    return sorted(_EXPONENTS)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; neither it nor float is an amount.
        if type(self.amount) is not int:
            raise TypeError(f"Money amount must be an int of minor units, got {type(self.amount).__name__}")
        exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def of_major(cls, major: int, currency: str) -> Money:
        """Whole major units (e.g. 2000 USD -> 200000 cents)."""
        if type(major) is not int:
            raise TypeError("major units must be an int")
        return cls(major * 10 ** exponent(currency), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise TypeError("Money can only be multiplied by an int (quantities); use prorate() for fractions")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def is_negative(self) -> bool:
        return self.amount < 0

    def format(self) -> str:
        """Human form with the currency code, e.g. ``1,234.50 USD``, ``-5 JPY``."""
        exp = exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 10**exp)
        text = f"{whole:,}"
        if exp:
            text += "." + str(frac).zfill(exp)
        return f"{sign}{text} {self.currency}"

    def __str__(self) -> str:
        return self.format()


def scale(amount: int, numerator: int, denominator: int) -> int:
    """``amount * numerator / denominator`` in minor units, rounded half away from zero.

    The single rounding rule of the service (proration, VAT): exact integer arithmetic, so a result never depends
    on float representation."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("scale needs 0 <= numerator and 0 < denominator")
    sign = -1 if amount < 0 else 1
    q, r = divmod(abs(amount) * numerator, denominator)
    if 2 * r >= denominator:
        q += 1
    return sign * q


def prorate(total: Money, numerator: int, denominator: int) -> Money:
    """``total * numerator / denominator`` rounded half-up to the minor unit (``scale``)."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("prorate needs 0 <= numerator and 0 < denominator")
    return Money(scale(total.amount, numerator, denominator), total.currency)
