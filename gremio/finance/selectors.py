"""Reads behind the finance reports: plain data from a few aggregate queries each.

Ledger figures come from the maintained ``AccountBalance`` rows — one per
account, month (``Period``) and pillar — never from the journal lines: a
trial balance reads a few thousand small rows on the ``(organisation,
period, account, debit, credit)`` index whatever the number of lines.
Balances are kept per month, so the ledger reports count whole months: a
month counts when any of its days is in the report's period (the report
forms widen the period to whole months, so what is shown is what is counted).

Receivables are read from the invoices on the ``(organisation, closed_on,
date)`` index: an invoice is owed on a day D when it was dated by D and not
closed (paid in full or cancelled) by D; what is owed is its total less the
allocations in effect on D (dated by D, not cancelled by D), read for those
invoices only through the ``(invoice, date)`` index of the allocations.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context as DecimalContext
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from gremio.core.functions import MonthStart
from gremio.core.models import Organisation, Pillar

from .models import (
    BALANCE_SHEET_TYPES,
    DEBIT_TYPES,
    ZERO,
    Account,
    AccountBalance,
    AccountType,
    Allocation,
    Budget,
    FinanceSettings,
    Invoice,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
)
from .setup import fiscal_year_start

PROFIT_AND_LOSS_TYPES = frozenset({AccountType.INCOME, AccountType.EXPENSE})
CENT = Decimal("0.01")
FLOAT_CONTEXT = DecimalContext(prec=15)  # as Django reads SQLite's decimals
DAY = dt.timedelta(days=1)


# The chart and the months ------------------------------------------------------------


@dataclass(frozen=True)
class ChartAccount:
    pk: int
    code: str
    name: str
    type: str
    parent_id: int | None
    postable: bool
    sat_code: str

    @property
    def debit_normal(self) -> bool:
        return self.type in DEBIT_TYPES

    @property
    def on_balance_sheet(self) -> bool:
        return self.type in BALANCE_SHEET_TYPES

    def signed(self, debit: Decimal, credit: Decimal) -> Decimal:
        """The balance on the account's normal side (assets and expenses: debit − credit)."""
        return debit - credit if self.debit_normal else credit - debit


def chart(*, organisation: Organisation) -> dict[int, ChartAccount]:
    """Every account of the organisation, by id, in code order (one query)."""
    rows = (
        Account.objects.filter(organisation=organisation)
        .order_by("code")
        .values_list("pk", "code", "name", "type", "parent_id", "postable", "sat_code")
    )
    return {row[0]: ChartAccount(*row) for row in rows}


@dataclass(frozen=True)
class Month:
    """A period of the books, with the first day of its fiscal year."""

    pk: int
    start: dt.date
    end: dt.date
    year_start: dt.date


class Ledger:
    """The organisation's months (periods), read once; the reports pick theirs from it."""

    def __init__(self, *, organisation: Organisation) -> None:
        self.organisation = organisation
        self.months = [
            Month(*row)
            for row in Period.objects.filter(organisation=organisation)
            .order_by("start")
            .values_list("pk", "start", "end", "fiscal_year__start")
        ]

    def within(self, start: dt.date, end: dt.date) -> list[Month]:
        """The months with a day between ``start`` and ``end`` (a partial month counts whole)."""
        return [m for m in self.months if m.end >= start and m.start <= end]

    def before(self, day: dt.date) -> list[Month]:
        """The months that end before ``day``."""
        return [m for m in self.months if m.end < day]

    def up_to(self, day: dt.date) -> list[Month]:
        """The months that start by ``day`` (its own month counts whole)."""
        return [m for m in self.months if m.start <= day]

    def year_start(self, day: dt.date) -> dt.date:
        """The first day of the fiscal year of ``day`` (from its period, else the calendar)."""
        for month in self.months:
            if month.start <= day <= month.end:
                return month.year_start
        return fiscal_year_start(self.organisation, day)

    def month_of(self, day: dt.date) -> Month | None:
        return next((m for m in self.months if m.start <= day <= m.end), None)


def ids(months: Iterable[Month]) -> list[int]:
    return [m.pk for m in months]


# Balances ------------------------------------------------------------------------------

Sides = tuple[Decimal, Decimal]  # (debit, credit)


def balance_sums(
    *, organisation: Organisation, buckets: Mapping[str, Sequence[int]]
) -> dict[int, dict[str, Sides]]:
    """Per account, the debits and credits of each named set of months, in one query.

    The sets may overlap (all months before a day, and those of the current
    fiscal year among them). An account without balance rows is absent.
    """
    wanted = {pk for months in buckets.values() for pk in months}
    if not wanted:
        return {}
    measures: dict[str, Any] = {}
    for name, months in buckets.items():
        if months:
            months_q = Q(period_id__in=list(months))
            measures[f"{name}_debit"] = Sum("debit", filter=months_q)
            measures[f"{name}_credit"] = Sum("credit", filter=months_q)
    rows: Any = (
        AccountBalance.objects.filter(organisation=organisation, period_id__in=sorted(wanted))
        .values("account_id")
        .annotate(**measures)
        .order_by()
    )
    result: dict[int, dict[str, Sides]] = {}
    for row in rows:
        result[row["account_id"]] = {
            name: (row.get(f"{name}_debit") or ZERO, row.get(f"{name}_credit") or ZERO)
            for name in buckets
        }
    return result


def balances_by_month(
    *,
    organisation: Organisation,
    months: Sequence[int],
    accounts: Sequence[int],
    pillar: Pillar | None = None,
    by_pillar: bool = False,
) -> list[dict[str, Any]]:
    """Debits and credits per account and month (and pillar), for the given accounts.

    ``pillar`` keeps that pillar's rows only; ``by_pillar`` keeps the pillars
    apart (``pillar_id`` None for lines without one). One query.
    """
    if not months or not accounts:
        return []
    balances = AccountBalance.objects.filter(
        organisation=organisation, period_id__in=list(months), account_id__in=list(accounts)
    )
    if pillar is not None:
        balances = balances.filter(pillar=pillar)
    keys = ("account_id", "period_id", "pillar_id") if by_pillar else ("account_id", "period_id")
    return list(
        balances.values(*keys).annotate(debit=Sum("debit"), credit=Sum("credit")).order_by()
    )


def _line_sums(
    *, organisation: Organisation, account_id: int, month: Month, first: dt.date, last: dt.date
) -> Sides:
    """Debits and credits of one account's posted lines between two days of one month,
    on the ``(account, period)`` index (drafts do not count, as in the balances)."""
    sums = JournalLine.objects.filter(
        organisation=organisation,
        account_id=account_id,
        period_id=month.pk,
        entry__date__gte=first,
        entry__date__lte=last,
        entry__state=JournalEntry.State.POSTED,
    ).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return sums["debit"] or ZERO, sums["credit"] or ZERO


def account_movements(
    *,
    organisation: Organisation,
    account_id: int,
    first: dt.date | None,
    last: dt.date,
    ledger: Ledger,
) -> Sides:
    """Debits and credits of one account from ``first`` (None: the beginning) to ``last``.

    The months wholly inside come from the maintained balances (one query);
    the lines of a month cut by ``first`` or ``last`` are added from that
    month's lines of the account (one query each, on the ``(account, period)``
    index): at scale, a few thousand lines, never the whole journal.
    """
    whole, cut = [], []
    for month in ledger.months:
        if month.end < (first or month.start) or month.start > last:
            continue
        if (first is None or month.start >= first) and month.end <= last:
            whole.append(month.pk)
        else:
            cut.append(month)
    debit = credit = ZERO
    if whole:
        sums = AccountBalance.objects.filter(
            organisation=organisation, account_id=account_id, period_id__in=whole
        ).aggregate(debit=Sum("debit"), credit=Sum("credit"))
        debit, credit = sums["debit"] or ZERO, sums["credit"] or ZERO
    for month in cut:
        more = _line_sums(
            organisation=organisation,
            account_id=account_id,
            month=month,
            first=max(first or month.start, month.start),
            last=min(last, month.end),
        )
        debit, credit = debit + more[0], credit + more[1]
    return debit, credit


def account_balance_as_of(
    *, organisation: Organisation, account_id: int, day: dt.date, ledger: Ledger
) -> Decimal:
    """Debits less credits of one account up to and including ``day``."""
    debit, credit = account_movements(
        organisation=organisation, account_id=account_id, first=None, last=day, ledger=ledger
    )
    return debit - credit


def budget_sums(
    *, organisation: Organisation, months: Sequence[int], pillar: Pillar | None = None
) -> dict[tuple[int, int | None], Decimal]:
    """Budgeted amounts per (account, pillar) over the given months. One query."""
    if not months:
        return {}
    budgets = Budget.objects.filter(organisation=organisation, period_id__in=list(months))
    if pillar is not None:
        budgets = budgets.filter(pillar=pillar)
    rows = budgets.values("account_id", "pillar_id").annotate(amount=Sum("amount")).order_by()
    return {(row["account_id"], row["pillar_id"]): row["amount"] or ZERO for row in rows}


def cash_accounts(*, organisation: Organisation, accounts: Mapping[int, ChartAccount]) -> list[int]:
    """The cash and bank accounts: postable assets under SAT codes 101 (cash) and 102 (banks),
    and the default bank account of the settings. One query."""
    bank = (
        FinanceSettings.objects.filter(organisation=organisation)
        .values_list("bank_account_id", flat=True)
        .first()
    )
    return [
        account.pk
        for account in accounts.values()
        if account.postable
        and account.type == AccountType.ASSET
        and (account.pk == bank or account.sat_code.split(".")[0] in ("101", "102"))
    ]


def receivable_account_id(*, organisation: Organisation) -> int | None:
    return (
        FinanceSettings.objects.filter(organisation=organisation)
        .values_list("receivable_account_id", flat=True)
        .first()
    )


# Receivables ------------------------------------------------------------------------------

# The states of an invoice that has been issued (a draft owes nothing).
ISSUED_STATES = (Invoice.State.ISSUED, Invoice.State.PAID, Invoice.State.CANCELLED)
AGE_BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90")


def open_invoices(*, organisation: Organisation, as_of: dt.date) -> QuerySet[Invoice]:
    """Invoices (not credit notes) owed on ``as_of``: dated by then, not closed by then, and
    owing something then.

    An invoice reopened by a cancelled payment (``closed_on`` cleared) may
    have been paid in full on ``as_of``, if that payment was cancelled after
    it: only those few have what they owed then computed here. The others
    owe by their dates alone (after its last payment cancellation, nothing
    is allocated to an invoice on an earlier day, so it owes until it is
    closed).
    """
    return (
        Invoice.objects.filter(
            organisation=organisation,
            date__lte=as_of,
            is_credit_note=False,
            state__in=ISSUED_STATES,
        )
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
        .alias(owed_then=_owed(as_of))
        .filter(
            Q(payment_cancelled_on__isnull=True)
            | Q(payment_cancelled_on__lte=as_of)
            | Q(owed_then__gt=0)
        )
    )


def _owed(as_of: dt.date) -> Any:
    """What an open invoice owed on ``as_of``: its total less the allocations in effect then
    (dated by then and not cancelled by then).

    An invoice paid nothing now and no payment of it cancelled after ``as_of``
    (most of the open ones) had nothing allocated then and skips the look-up;
    the others read their allocations on the ``(invoice, date)`` index, so
    the allocations table is never scanned.
    """
    allocated = (
        Allocation.objects.filter(invoice=OuterRef("pk"), date__lte=as_of)
        .filter(Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=as_of))
        .values("invoice")
        .annotate(sum=Sum("amount"))
        .values("sum")
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return ExpressionWrapper(
        F("total")
        - Case(
            When(
                Q(amount_paid=0)
                & (Q(payment_cancelled_on__isnull=True) | Q(payment_cancelled_on__lte=as_of)),
                then=Value(ZERO),
            ),
            default=Coalesce(Subquery(allocated, output_field=money), Value(ZERO)),
            output_field=money,
        ),
        output_field=money,
    )


def receivables_by_company(
    *,
    organisation: Organisation,
    as_of: dt.date,
    basis: str = "due_date",
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """What the companies owed on ``as_of``, by age bucket (``basis``: due date or invoice date).

    Returns the companies that owed most (the first ``limit``; all without
    one), each with ``company_id``, ``invoices``, the buckets and ``total``;
    and the same figures for all of them, with ``companies`` (how many).

    One query: the open invoices (on the ``(organisation, closed_on, date)``
    index, each with what it owed) are ranked per company by what each owed,
    and only the first ``limit`` companies are summed by bucket; the totals
    add up every open invoice without grouping. The open invoices are a
    materialised CTE: otherwise the planners, which cannot tell how few
    invoices dated by a day were still open after it, walk the whole table
    in company order to group it (and SQLite repeats the allocations look-up
    in every sum). (Summing every bucket for every company, as this did,
    made PostgreSQL's grouping spill to disk at 22,000 companies.)
    """
    age = Coalesce("due_date", "date") if basis == "due_date" else F("date")
    open_ = (
        open_invoices(organisation=organisation, as_of=as_of)
        .annotate(age=age, owed=_owed(as_of))
        .values("company_id", "age", "owed")
        .order_by()
    )
    # Read where the ORM would (a replica, for reports, when a router says so).
    database = connections[open_.db]
    inner, inner_params = open_.query.get_compiler(using=open_.db).as_sql()
    buckets = _age_sql(as_of, database)
    sums = ", ".join(f"SUM(CASE WHEN {sql} THEN owed ELSE 0 END)" for sql, _p in buckets)
    bucket_params = [param for _sql, params in buckets for param in params]
    materialised = "MATERIALIZED " if database.vendor in ("postgresql", "sqlite") else ""
    chosen, chosen_params = "", []
    if limit is not None:
        chosen = (
            "WHERE company_id IN (SELECT company_id FROM per_company "
            "ORDER BY owed DESC, company_id LIMIT %s) "
        )
        chosen_params = [limit]
    sql = (
        f"WITH open_invoice AS {materialised}({inner}), "
        f"per_company AS {materialised}(SELECT company_id, SUM(owed) AS owed FROM open_invoice "
        "GROUP BY company_id) "
        f"SELECT 0, company_id, COUNT(*), {sums}, SUM(owed), NULL FROM open_invoice "
        f"{chosen}GROUP BY company_id "
        f"UNION ALL SELECT 1, NULL, COUNT(*), {sums}, SUM(owed), "
        "(SELECT COUNT(*) FROM per_company) FROM open_invoice"
    )
    params = [*inner_params, *bucket_params, *chosen_params, *bucket_params]
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    names = ("invoices", *AGE_BUCKETS, "total")
    rows: list[dict[str, Any]] = []
    overall: dict[str, Any] = {"companies": 0, "invoices": 0, **dict.fromkeys(names[1:], ZERO)}
    for is_total, company_id, invoices, *amounts, companies in fetched:
        figures = {
            "invoices": int(invoices),
            **{name: _amount(value) for name, value in zip(names[1:], amounts, strict=True)},
        }
        if not is_total:
            rows.append({"company_id": company_id, **figures})
        elif invoices:
            overall = {"companies": int(companies), **figures}
    rows.sort(key=lambda row: (-row["total"], row["company_id"]))
    return rows, overall


def _age_sql(as_of: dt.date, database: Any) -> list[tuple[str, list[Any]]]:
    """The ageing buckets as SQL on the ``age`` column (a due date or an invoice date): not
    yet due (or dated on ``as_of``), 1–30, 31–60, 61–90 and over 90 days before ``as_of``."""

    def days(n: int) -> Any:
        return database.ops.adapt_datefield_value(as_of - dt.timedelta(days=n))

    return [
        ("age >= %s", [days(0)]),
        ("age < %s AND age >= %s", [days(0), days(30)]),
        ("age < %s AND age >= %s", [days(30), days(60)]),
        ("age < %s AND age >= %s", [days(60), days(90)]),
        ("age < %s", [days(90)]),
    ]


def _amount(value: Any) -> Decimal:
    """A sum read without the ORM: SQLite answers in floats, rounded here to the cent."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        value = FLOAT_CONTEXT.create_decimal_from_float(value)
    return Decimal(value).quantize(CENT)


# Payment times ------------------------------------------------------------------------------


# What a row of the payment-times report groups on, for invoices and for payments. The
# sector group and chamber are the document's own, kept as the company's when it was
# invoiced or paid (see ``classification``): read from the report's indexes, no join.
INVOICE_GROUPS: dict[str, Any] = {
    "company": F("company_id"),
    "sector": F("sector_id"),
    "chamber": F("chamber_id"),
    "month": MonthStart("closed_on"),
}
PAYMENT_GROUPS: dict[str, Any] = {**INVOICE_GROUPS, "month": MonthStart("date")}


def paid_invoices(*, organisation: Organisation, start: dt.date, end: dt.date) -> QuerySet[Invoice]:
    """Invoices paid in full between ``start`` and ``end``, on the (organisation, closed_on)
    prefix of the ``finance_invoice_paid`` index."""
    return Invoice.objects.filter(
        organisation=organisation,
        closed_on__gte=start,
        closed_on__lte=end,
        state=Invoice.State.PAID,
    )


def top_companies_paid(
    *, organisation: Organisation, start: dt.date, end: dt.date, limit: int
) -> list[int]:
    """The companies with the most invoices paid in the period (the first ``limit``)."""
    rows = (
        paid_invoices(organisation=organisation, start=start, end=end)
        .values("company_id")
        .annotate(paid=Count("*"))
        .order_by("-paid", "company_id")
        .values_list("company_id", flat=True)
    )
    return list(rows[:limit])


def days_to_pay(
    *,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    by: str | None,
    companies: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """How many invoices paid in the period took each number of days, per group.

    Rows of ``group`` (absent when ``by`` is None), ``days``, ``invoices``
    and ``on_time`` (settled by the due date): a histogram the report turns
    into counts, means, medians and buckets without reading each invoice.
    The days are each invoice's kept ``days_to_pay``, read with the due date
    and the group (its company, or its own sector and chamber, kept as
    invoiced) from the ``finance_invoice_paid`` index.
    """
    invoices = paid_invoices(organisation=organisation, start=start, end=end).annotate(
        days=F("days_to_pay")
    )
    keys: tuple[str, ...] = ("days",)
    if by is not None:
        invoices = invoices.annotate(group=INVOICE_GROUPS[by])
        keys = ("group", "days")
    if companies is not None:
        invoices = invoices.filter(company_id__in=list(companies))
    return list(
        invoices.values(*keys)
        .annotate(
            # Counted on closed_on (never null here), not the id: an index of the paid
            # invoices' dates and company can then answer alone.
            invoices=Count("closed_on"),
            on_time=Count("closed_on", filter=Q(closed_on__lte=F("due_date"))),
        )
        .order_by()
    )


def payments_received(
    *,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    by: str | None,
    companies: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """The number and sum of the payments received in the period, per group (or in all).

    A payment's sector and chamber are its own, kept as paid; the
    ``finance_payment_date`` index holds all a row needs.
    """
    payments = Payment.objects.filter(
        organisation=organisation, date__gte=start, date__lte=end, cancelled_on__isnull=True
    )
    if companies is not None:
        payments = payments.filter(company_id__in=list(companies))
    measures = {"payments": Count("*"), "amount": Sum("amount")}
    if by is None:
        return [payments.aggregate(**measures)]
    grouped: Any = (
        payments.annotate(group=PAYMENT_GROUPS[by]).values("group").annotate(**measures).order_by()
    )
    return list(grouped)


def group_histograms(rows: Iterable[dict[str, Any]]) -> dict[Any, dict[int, list[int]]]:
    """``days_to_pay`` rows as {group: {days: [invoices, on time]}}."""
    histograms: dict[Any, dict[int, list[int]]] = defaultdict(dict)
    for row in rows:
        histograms[row.get("group")][row["days"]] = [row["invoices"], row["on_time"]]
    return histograms
