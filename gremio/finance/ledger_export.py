"""The posted journal as a plain-text journal that hledger and Ledger both read.

One transaction per posted entry, in date then number order::

    2026-03-10 * (D-2026-000001) Invoice A-1 · Aceros del Bajío
        Assets:1105 Cuotas por cobrar           1160.00 MXN
        Income:4101 Cuotas ordinarias          -1000.00 MXN  ; pillar: Competitividad
        Liabilities:2108 IVA trasladado         -160.00 MXN

Debits are positive, credits negative. The commodity, the accounts and the
``pillar`` tag are declared first, so both tools' strict modes
(``hledger --strict check``, ``ledger --pedantic``) accept the file. The lines
are read with one streamed query, so memory does not grow with the ledger.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO

from django.db.models import Exists, OuterRef, Q

from gremio.core.models import Organisation, Pillar
from gremio.core.money import minor_unit

from .models import Account, AccountType, FiscalYear, JournalEntry, JournalLine

# hledger infers an account's type from these top-level names; Ledger does not care.
TOP_LEVEL: dict[str, str] = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}
PILLAR_TAG = "pillar"
CHUNK_SIZE = 5000
MAX_NAME_WIDTH = 60

_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """One line of text with nothing that ends a description early.

    Newlines and tabs would end the line, ``;`` starts a comment in both tools
    and two spaces end a Ledger payee before a note: all become single spaces
    or commas.
    """
    return _SPACES.sub(" ", text.replace(";", ",")).strip()


def clean_component(text: str) -> str:
    """A part of an account name: no ``:`` (it separates parts) and no double spaces."""
    return clean_text(text.replace(":", " ")) or "-"


def clean_tag_value(text: str) -> str:
    """A tag value: ``,`` ends it in hledger and ``:`` would start another tag."""
    return clean_text(re.sub(r"[,:;]", " ", text))


def account_name(account: Account) -> str:
    """``Assets:1102 Bancos nacionales``: the type, then the code and name."""
    top = TOP_LEVEL.get(account.type, "Unknown")
    return f"{top}:{clean_component(f'{account.code} {account.name}')}"


def commodity_symbol(currency: str) -> str:
    # Letters need no quotes; anything else (a digit, a space) does in both tools.
    return currency if currency.isalpha() else '"{}"'.format(currency.replace('"', ""))


@dataclass
class ExportResult:
    entries: int = 0
    lines: int = 0


class JournalWriter:
    """Turns an organisation's posted entries into journal text, chunk by chunk."""

    def __init__(
        self,
        *,
        organisation: Organisation,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> None:
        self.organisation = organisation
        self.date_from = date_from
        self.date_to = date_to
        self.currency = commodity_symbol(organisation.currency)
        exponent = minor_unit(organisation.currency).as_tuple().exponent
        self.places = -exponent if isinstance(exponent, int) else 2
        self.result = ExportResult()
        used = Exists(JournalLine.objects.filter(account=OuterRef("pk")))
        self.accounts = {
            account.pk: account_name(account)
            for account in Account.objects.filter(organisation=organisation)
            .filter(Q(postable=True) | Q(used))
            .order_by("code")
        }
        self.width = min(
            max((len(name) for name in self.accounts.values()), default=0), MAX_NAME_WIDTH
        )
        self.pillars = {
            pillar.pk: clean_tag_value(pillar.name)
            for pillar in Pillar.objects.filter(organisation=organisation)
        }
        # One unsaved entry per fiscal year gives the model's own reference format.
        self.probes: dict[int, JournalEntry] = {}
        for fiscal_year in FiscalYear.objects.filter(organisation=organisation):
            probe = JournalEntry(organisation=organisation)
            probe.fiscal_year = fiscal_year
            self.probes[fiscal_year.pk] = probe

    def amount(self, value: Decimal) -> str:
        return f"{value:.{self.places}f} {self.currency}"

    def header(self) -> str:
        example = self.amount(Decimal(1000))
        lines = [
            "; {}".format(clean_text(f"{self.organisation.name} ({self.organisation.slug})")),
            "",
            f"commodity {self.currency}",
            f"    format {example}",
            "",
            f"tag {PILLAR_TAG}",
            "",
        ]
        lines.extend(f"account {name}" for name in self.accounts.values())
        lines.append("")
        return "\n".join(lines) + "\n"

    def reference(self, fiscal_year_id: int, kind: str, number: int) -> str:
        probe = self.probes.get(fiscal_year_id)
        if probe is None:  # created after the export started
            probe = self.probes[fiscal_year_id] = JournalEntry(organisation=self.organisation)
            probe.fiscal_year = FiscalYear.objects.get(pk=fiscal_year_id)
        probe.kind, probe.number = kind, number
        return probe.reference

    def posting(self, account_id: int, debit: Decimal, credit: Decimal, pillar_id: Any) -> str:
        name = self.accounts.get(account_id)
        if name is None:  # created after the export started
            name = self.accounts[account_id] = account_name(Account.objects.get(pk=account_id))
        value = self.amount(debit if debit else -credit)
        text = f"    {name:<{self.width}}  {value:>20}"
        pillar = self.pillars.get(pillar_id) if pillar_id else None
        if pillar:
            text += f"  ; {PILLAR_TAG}: {pillar}"
        return text

    def rows(self) -> Iterable[tuple[Any, ...]]:
        lines = JournalLine.objects.filter(
            organisation=self.organisation, entry__state=JournalEntry.State.POSTED
        )
        if self.date_from:
            lines = lines.filter(entry__date__gte=self.date_from)
        if self.date_to:
            lines = lines.filter(entry__date__lte=self.date_to)
        return (
            lines.order_by("entry__date", "entry__number", "entry_id", "pk")
            .values_list(
                "entry_id",
                "entry__date",
                "entry__kind",
                "entry__number",
                "entry__fiscal_year_id",
                "entry__memo",
                "account_id",
                "debit",
                "credit",
                "pillar_id",
            )
            .iterator(chunk_size=CHUNK_SIZE)
        )

    def chunks(self) -> Iterator[str]:
        """The journal text: the declarations, then one string per transaction."""
        yield self.header()
        current = None
        block: list[str] = []
        for (
            entry_id,
            date,
            kind,
            number,
            fy_id,
            memo,
            account_id,
            debit,
            credit,
            pillar,
        ) in self.rows():
            if entry_id != current:
                if block:
                    yield "\n".join(block) + "\n\n"
                current = entry_id
                self.result.entries += 1
                reference = self.reference(fy_id, kind, number)
                block = [f"{date.isoformat()} * ({reference}) {clean_text(memo) or reference}"]
            block.append(self.posting(account_id, debit, credit, pillar))
            self.result.lines += 1
        if block:
            yield "\n".join(block) + "\n\n"


def journal_write(
    *,
    organisation: Organisation,
    stream: TextIO | Any,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> ExportResult:
    """Write the posted journal of ``organisation`` to ``stream``; returns what it wrote."""
    writer = JournalWriter(organisation=organisation, date_from=date_from, date_to=date_to)
    for chunk in writer.chunks():
        stream.write(chunk)
    return writer.result
