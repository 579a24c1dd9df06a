"""Statement sources: how the module that bills fills the money side of a member's statement.

The member statement (report ``members.statement``) sets the services one
company received in a period against what it was billed and what it paid.
The services are the members module's; the invoices and payments belong to
the module that bills (finance), which the members app does not import. That
module registers a source in its ``AppConfig.ready()``, as it registers its
panels::

    from gremio.members.statement import StatementSource, register_statement_source

    register_statement_source(
        StatementSource(key="finance", lines=company_statement, links=statement_links)
    )

The statement asks every registered source for its part, in ``order``. With
none registered (finance not installed) it keeps prorating each membership's
fee by the days of its term in the period.

A source's rows are plain values under these keys (any may be missing; the
statement shows a dash): ``date``, ``kind``, ``reference``, ``concept``,
``invoiced`` (an invoice's total; a credit note's, negative), ``paid`` and
``balance`` (of an invoice, as of today), ``received`` (a payment's amount)
and ``state``. They may carry ids of their own for the API and for the
source's ``links``, which maps those keys to the pages of the records behind
the row. The statement marks each row with the source's ``key``
(``row["source"]``) to send it back to the right ``links``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StatementTotals:
    """A source's sums for the period, already rounded to the currency's minor unit."""

    invoiced: Decimal = ZERO  # billed in the period; a cancelled invoice counts nothing
    invoices_paid: Decimal = ZERO  # paid so far of what was billed in the period
    balance: Decimal = ZERO  # still owed today of what was billed in the period
    received: Decimal = ZERO  # payments received in the period

    def __add__(self, other: StatementTotals) -> StatementTotals:
        return StatementTotals(
            invoiced=self.invoiced + other.invoiced,
            invoices_paid=self.invoices_paid + other.invoices_paid,
            balance=self.balance + other.balance,
            received=self.received + other.received,
        )


@dataclass
class StatementPart:
    """What one source gives one statement: its rows, in order, and their totals."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: StatementTotals = field(default_factory=StatementTotals)


class StatementLines(Protocol):
    def __call__(
        self, *, organisation: Any, company: Any, start: dt.date, end: dt.date
    ) -> StatementPart: ...


@dataclass(frozen=True)
class StatementSource:
    """A module's part of the member statement.

    ``lines(organisation=, company=, start=, end=)`` reads the company's
    records of the period with a fixed number of queries (never one per row)
    and returns a ``StatementPart``; ``links(organisation, row)`` maps a row's
    keys to the addresses of the records behind it, without a query.
    """

    key: str
    lines: StatementLines
    links: Callable[[Any, dict[str, Any]], dict[str, str]] | None = None
    order: int = 100


_registry: dict[str, StatementSource] = {}


def register_statement_source(source: StatementSource) -> StatementSource:
    """Add a source (or replace the one with the same key, when a module is reloaded)."""
    _registry[source.key] = source
    return source


def unregister_statement_source(key: str) -> StatementSource | None:
    """Remove a source; the statement falls back to prorated dues when none is left."""
    return _registry.pop(key, None)


def statement_sources() -> list[StatementSource]:
    return sorted(_registry.values(), key=lambda source: (source.order, source.key))


def get_statement_source(key: str) -> StatementSource | None:
    return _registry.get(key)
