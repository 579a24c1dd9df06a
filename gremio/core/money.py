"""Money: ``Decimal`` amounts, rounded half-up to the currency's minor unit, here only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies without a minor unit; every other one has two decimals
# (the three-decimal dinars are not a currency a Mexican chamber bills in).
ZERO_DECIMAL_CURRENCIES = frozenset({"CLP", "JPY", "KRW", "PYG", "VND"})


def minor_unit(currency: str = "MXN") -> Decimal:
    """The smallest amount of ``currency``: Decimal("0.01") for pesos."""
    return Decimal(1) if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def round_money(amount: Decimal | int, currency: str = "MXN") -> Decimal:
    """``amount`` rounded half-up to the currency's minor unit (0.005 → 0.01)."""
    return Decimal(amount).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
