"""Checks of an organisation's books, run by ``finance_verify`` and the property test.

Recomputes what the ledger keeps and checks what it promises: maintained
balances equal the sum of the posted lines, every posted entry balances,
entry and invoice numbers are gapless, documents' paid and allocated amounts
equal their allocations and payments, paid invoices' kept days to pay follow
their dates, and the trial balance sums to zero.
Each check is one aggregate query (GROUP BY, HAVING), so it stays fast at
millions of lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Abs, Coalesce
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gremio.core.models import Organisation, Pillar

from .models import (
    ZERO,
    AccountBalance,
    Allocation,
    Bill,
    BillPayment,
    EntryKind,
    FiscalYear,
    Invoice,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
)
from .posting import amount_text

# At most this many problems of one kind are listed; the count covers them all.
SHOWN = 50
MONEY = DecimalField(max_digits=20, decimal_places=2)
# SQLite sums decimals as floating point; amounts of whole cents that differ
# differ by at least a cent, so half a cent tells a difference from rounding.
HALF_CENT = Decimal("0.005")


def count_text(value: int) -> str:
    return number_format(value, force_grouping=True)


def counted(template: str, count: int) -> str:
    """``template`` (from ``ngettext``) with ``{count}`` filled in, grouped by thousands."""
    return template.format(count=count_text(count))


@dataclass
class Check:
    """One check: what it looked at and each problem it found."""

    title: str
    checked: str
    problems: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, rows: Iterable[Any], describe: Callable[[Any], str], total: int) -> None:
        self.problems.extend(describe(row) for row in rows)
        self.more = total - len(self.problems)


def _sum(expression: str, only: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=only), Value(ZERO), output_field=MONEY)


def check_balances(organisation: Organisation) -> Check:
    rows = AccountBalance.objects.filter(organisation=organisation).count()
    lines = JournalLine.objects.filter(
        organisation=organisation, entry__state=JournalEntry.State.POSTED
    ).count()
    check = Check(
        _("Maintained balances"),
        ngettext(
            "{rows} balance row recomputed from {lines} posted lines",
            "{rows} balance rows recomputed from {lines} posted lines",
            rows,
        ).format(rows=count_text(rows), lines=count_text(lines)),
    )
    differences = ledger_differences(organisation)
    pillars = {
        pillar.pk: pillar.name
        for pillar in Pillar.objects.filter(
            pk__in={d.pillar_id for d in differences if d.pillar_id}
        )
    }

    def describe(difference: Any) -> str:
        expected_debit, expected_credit = difference.lines
        kept_debit, kept_credit = difference.kept
        where = _("Account {account}, period {period}").format(
            account=difference.account, period=difference.period
        )
        if difference.pillar_id:
            where += ", " + _("pillar {pillar}").format(
                pillar=pillars.get(difference.pillar_id, difference.pillar_id)
            )
        return _(
            "{where}: expected debit {expected_debit}, credit {expected_credit} (from the "
            "lines); kept debit {kept_debit}, credit {kept_credit}."
        ).format(
            where=where,
            expected_debit=amount_text(expected_debit),
            expected_credit=amount_text(expected_credit),
            kept_debit=amount_text(kept_debit),
            kept_credit=amount_text(kept_credit),
        )

    check.add(differences[:SHOWN], describe, len(differences))
    return check


def check_entries_balance(organisation: Organisation) -> Check:
    posted = JournalEntry.objects.filter(organisation=organisation, state=JournalEntry.State.POSTED)
    posted_count = posted.count()
    check = Check(
        _("Posted entries balance"),
        counted(
            ngettext("{count} posted entry", "{count} posted entries", posted_count), posted_count
        ),
    )
    lines = JournalLine.objects.filter(
        organisation=organisation, entry__state=JournalEntry.State.POSTED
    )
    unbalanced = (
        lines.values("entry_id", "entry__total")
        .annotate(debit=_sum("debit"), credit=_sum("credit"), count=Count("pk"))
        .annotate(
            unbalanced=Abs(F("debit") - F("credit")), off_total=Abs(F("debit") - F("entry__total"))
        )
        .filter(Q(count__lt=2) | Q(unbalanced__gte=HALF_CENT) | Q(off_total__gte=HALF_CENT))
        .order_by("entry_id")
    )
    bad = list(unbalanced[:SHOWN])
    total = unbalanced.count() if len(bad) == SHOWN else len(bad)
    references = {
        entry.pk: entry.reference
        for entry in JournalEntry.objects.filter(pk__in=[row["entry_id"] for row in bad])
        .select_related("fiscal_year")
        .order_by()
    }
    check.add(
        bad,
        lambda row: _(
            "Entry {entry}: {count} lines, debits {debit}, credits {credit}, total {total}."
        ).format(
            entry=references[row["entry_id"]],
            count=row["count"],
            debit=amount_text(row["debit"]),
            credit=amount_text(row["credit"]),
            total=amount_text(row["entry__total"]),
        ),
        total,
    )
    empty = posted.filter(~Exists(JournalLine.objects.filter(entry=OuterRef("pk")))).order_by("pk")
    shown_empty = list(empty.select_related("fiscal_year")[:SHOWN])
    check.problems.extend(
        _("Entry {entry} is posted without lines.").format(entry=entry.reference)
        for entry in shown_empty
    )
    if len(shown_empty) == SHOWN:
        check.more += empty.count() - SHOWN
    return check


def _gaps(
    queryset: QuerySet[Any], group: tuple[str, ...], label: Callable[[dict[str, Any]], str]
) -> tuple[int, list[str]]:
    """Groups of ``queryset`` whose numbers are not exactly 1..N; the number of groups too."""
    groups = list(
        queryset.filter(number__isnull=False)
        .values(*group)
        .annotate(
            count=Count("pk"),
            distinct=Count("number", distinct=True),
            first=Min("number"),
            last=Max("number"),
        )
        .order_by(*group)
    )
    problems = []
    for row in groups:
        if row["first"] == 1 and row["last"] == row["count"] == row["distinct"]:
            continue
        numbers = set(
            queryset.filter(**{key: row[key] for key in group}).values_list("number", flat=True)
        )
        missing = [str(n) for n in range(1, row["last"] + 1) if n not in numbers]
        listed = ", ".join(missing[:10]) + ("…" if len(missing) > 10 else "")
        problems.append(
            _(
                "{series}: {count} numbers from {first} to {last}; missing {missing}; "
                "repeated {repeated}."
            ).format(
                series=label(row),
                count=count_text(row["count"]),
                first=row["first"],
                last=row["last"],
                missing=listed or "—",
                repeated=count_text(row["count"] - row["distinct"]),
            )
        )
    return len(groups), problems


def check_entry_numbers(organisation: Organisation) -> Check:
    years = dict(
        FiscalYear.objects.filter(organisation=organisation).values_list("pk", "name").order_by()
    )
    kinds = dict(EntryKind.choices)
    groups, problems = _gaps(
        JournalEntry.objects.filter(organisation=organisation),
        ("fiscal_year_id", "kind"),
        lambda row: _("Fiscal year {year}, {kind} entries").format(
            year=years.get(row["fiscal_year_id"], row["fiscal_year_id"]),
            kind=str(kinds.get(row["kind"], row["kind"])).lower(),
        ),
    )
    return Check(
        _("Entry numbers are gapless per fiscal year and type"),
        counted(ngettext("{count} series", "{count} series", groups), groups),
        problems,
    )


def check_invoice_numbers(organisation: Organisation) -> Check:
    prefixes = dict(
        InvoiceSeries.objects.filter(organisation=organisation)
        .values_list("pk", "prefix")
        .order_by()
    )
    invoices = Invoice.objects.filter(organisation=organisation)
    groups, problems = _gaps(
        invoices,
        ("series_id",),
        lambda row: _("Series {prefix}").format(prefix=prefixes.get(row["series_id"])),
    )
    unnumbered = invoices.exclude(state=Invoice.State.DRAFT).filter(number__isnull=True).count()
    if unnumbered:
        problems.append(
            counted(
                ngettext(
                    "{count} issued invoice has no number.",
                    "{count} issued invoices have no number.",
                    unnumbered,
                ),
                unnumbered,
            )
        )
    return Check(
        _("Invoice numbers are gapless"),
        counted(ngettext("{count} series", "{count} series", groups), groups),
        problems,
    )


def _mismatched(
    queryset: QuerySet[Any], kept: str, parts: str, only: Q | None = None
) -> tuple[list[Any], int]:
    """Rows of ``queryset`` whose ``kept`` amount differs from the sum of ``parts``
    (of those matching ``only``)."""
    rows = (
        queryset.values("pk", kept)
        .annotate(computed=_sum(parts, only))
        .annotate(difference=Abs(F(kept) - F("computed")))
        .filter(difference__gte=HALF_CENT)
        .order_by("pk")
    )
    bad = list(rows[:SHOWN])
    return bad, rows.count() if len(bad) == SHOWN else len(bad)


def _names(queryset: QuerySet[Any], rows: list[Any], name: Callable[[Any], str]) -> dict[int, str]:
    return {record.pk: name(record) for record in queryset.filter(pk__in=[r["pk"] for r in rows])}


def check_invoices(organisation: Organisation) -> Check:
    invoices = Invoice.objects.filter(organisation=organisation)
    invoices_count = invoices.count()
    check = Check(
        _("Invoices' paid amounts equal their allocations"),
        counted(ngettext("{count} invoice", "{count} invoices", invoices_count), invoices_count),
    )
    # Cancelled payments' allocations are history: they no longer pay anything.
    bad, total = _mismatched(
        invoices,
        "amount_paid",
        "allocations__amount",
        Q(allocations__cancelled_on__isnull=True),
    )
    names = _names(invoices.select_related("series"), bad, lambda i: i.reference or str(i))
    check.add(
        bad,
        lambda row: _("Invoice {invoice}: paid {kept}, allocations {computed}.").format(
            invoice=names[row["pk"]],
            kept=amount_text(row["amount_paid"]),
            computed=amount_text(row["computed"]),
        ),
        total,
    )
    # An invoice is paid exactly when nothing is owed (credit notes aside).
    wrong_state = (
        invoices.filter(is_credit_note=False)
        .filter(
            Q(state=Invoice.State.PAID, amount_paid__lt=F("total"))
            | Q(state=Invoice.State.ISSUED, amount_paid=F("total"))
        )
        .select_related("series")
        .order_by("pk")
    )
    shown = list(wrong_state[:SHOWN])
    check.problems.extend(
        _("Invoice {invoice} is {state} with {paid} of {total} paid.").format(
            invoice=invoice.reference,
            state=str(invoice.get_state_display()).lower(),
            paid=amount_text(invoice.amount_paid),
            total=amount_text(invoice.total),
        )
        for invoice in shown
    )
    if len(shown) == SHOWN:
        check.more += wrong_state.count() - SHOWN
    return check


class DaysBetween(Func):
    """Whole days from the second date to the first, as an integer, in SQL."""

    output_field = IntegerField()
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def check_days_to_pay(organisation: Organisation) -> Check:
    """A paid invoice keeps the days from its date to its payment; no other invoice has any.

    The payment-times report reads them instead of the dates. One query
    compares them with the dates (a date difference per paid invoice, here
    only) and names the first that differ.
    """
    invoices = Invoice.objects.filter(organisation=organisation)
    paid = Q(state=Invoice.State.PAID)
    paid_count = invoices.filter(paid).count()
    check = Check(
        _("Paid invoices' days to pay follow their dates"),
        counted(ngettext("{count} paid invoice", "{count} paid invoices", paid_count), paid_count),
    )
    rows = (
        invoices.annotate(expected=DaysBetween("closed_on", "date"))
        .filter(
            (
                paid
                & (
                    Q(days_to_pay__isnull=True)
                    | Q(closed_on__isnull=True)
                    | Q(days_to_pay__lt=F("expected"))
                    | Q(days_to_pay__gt=F("expected"))
                )
            )
            | (~paid & Q(days_to_pay__isnull=False))
        )
        .values("pk", "state", "days_to_pay", "expected")
        .order_by("pk")
    )
    bad = list(rows[:SHOWN])
    total = rows.count() if len(bad) == SHOWN else len(bad)
    names = _names(invoices.select_related("series"), bad, lambda i: i.reference or str(i))
    states = dict(Invoice.State.choices)

    def days(value: int | None) -> str:
        return "—" if value is None else count_text(value)

    def describe(row: dict[str, Any]) -> str:
        if row["state"] == Invoice.State.PAID:
            return _("Invoice {invoice}: days to pay {kept}, from its dates {expected}.").format(
                invoice=names[row["pk"]],
                kept=days(row["days_to_pay"]),
                expected=days(row["expected"]),
            )
        return _("Invoice {invoice} is {state} with {days} days to pay.").format(
            invoice=names[row["pk"]],
            state=str(states[row["state"]]).lower(),
            days=days(row["days_to_pay"]),
        )

    check.add(bad, describe, total)
    return check


def _reverses(entry: str) -> Exists:
    """The row's ``cancellation_entry`` reverses its ``entry``."""
    return Exists(
        JournalEntry.objects.filter(
            pk=OuterRef("cancellation_entry_id"), reverses_id=OuterRef(entry)
        )
    )


def check_payments(organisation: Organisation) -> Check:
    payments = Payment.objects.filter(organisation=organisation)
    payments_count = payments.count()
    check = Check(
        _("Payments' allocated amounts equal their allocations"),
        counted(ngettext("{count} payment", "{count} payments", payments_count), payments_count),
    )
    bad, total = _mismatched(
        payments, "allocated", "allocations__amount", Q(allocations__cancelled_on__isnull=True)
    )
    names = _names(payments.select_related("company"), bad, str)
    check.add(
        bad,
        lambda row: _("{payment}: allocated {kept}, allocations {computed}.").format(
            payment=names[row["pk"]],
            kept=amount_text(row["allocated"]),
            computed=amount_text(row["computed"]),
        ),
        total,
    )
    # A cancelled payment is reversed, and its allocations are cancelled with it.
    left_standing = Allocation.objects.filter(payment=OuterRef("pk")).filter(
        Q(cancelled_on__isnull=True)
        | Q(cancelled_on__gt=OuterRef("cancelled_on"))
        | Q(entry__isnull=False, entry__reversed_by__isnull=True)
    )
    unreversed = (
        payments.filter(cancelled_on__isnull=False)
        .filter(~_reverses("entry_id") | Exists(left_standing))
        .select_related("company")
        .order_by("pk")
    )
    shown = list(unreversed[:SHOWN])
    check.problems.extend(
        _("{payment} is cancelled but not reversed with its allocations.").format(payment=payment)
        for payment in shown
    )
    if len(shown) == SHOWN:
        check.more += unreversed.count() - SHOWN
    return check


def check_bills(organisation: Organisation) -> Check:
    bills = Bill.objects.filter(organisation=organisation)
    bills_count = bills.count()
    check = Check(
        _("Bills' paid amounts equal their payments"),
        counted(
            ngettext("{count} supplier bill", "{count} supplier bills", bills_count), bills_count
        ),
    )
    bad, total = _mismatched(
        bills, "amount_paid", "payments__amount", Q(payments__cancelled_on__isnull=True)
    )
    names = _names(bills.select_related("supplier"), bad, str)
    check.add(
        bad,
        lambda row: _("Bill {bill}: paid {kept}, payments {computed}.").format(
            bill=names[row["pk"]],
            kept=amount_text(row["amount_paid"]),
            computed=amount_text(row["computed"]),
        ),
        total,
    )
    unreversed = (
        BillPayment.objects.filter(organisation=organisation, cancelled_on__isnull=False)
        .filter(~_reverses("entry_id"))
        .select_related("bill__supplier")
        .order_by("pk")
    )
    shown = list(unreversed[:SHOWN])
    check.problems.extend(
        _("{payment} is cancelled but not reversed.").format(payment=payment) for payment in shown
    )
    if len(shown) == SHOWN:
        check.more += unreversed.count() - SHOWN
    return check


def check_trial_balance(organisation: Organisation) -> Check:
    totals = AccountBalance.objects.filter(organisation=organisation).aggregate(
        debit=_sum("debit"), credit=_sum("credit")
    )
    debit: Decimal = totals["debit"]
    credit: Decimal = totals["credit"]
    check = Check(
        _("The trial balance sums to zero"),
        _("debits {debit}, credits {credit}").format(
            debit=amount_text(debit), credit=amount_text(credit)
        ),
    )
    if debit != credit:
        check.problems.append(
            _("Debits and credits differ by {difference}.").format(
                difference=amount_text(debit - credit)
            )
        )
    return check


CHECKS: tuple[Callable[[Organisation], Check], ...] = (
    check_balances,
    check_entries_balance,
    check_entry_numbers,
    check_invoice_numbers,
    check_invoices,
    check_days_to_pay,
    check_payments,
    check_bills,
    check_trial_balance,
)


def books_check(organisation: Organisation) -> list[Check]:
    """Run every check on ``organisation``'s books."""
    return [check(organisation) for check in CHECKS]


@dataclass(frozen=True)
class Difference:
    account: str
    period: str
    pillar_id: int | None
    kept: tuple[Decimal, Decimal]
    lines: tuple[Decimal, Decimal]


def ledger_differences(organisation: Organisation) -> list[Difference]:
    """Every (account, period, pillar) whose kept balance differs from the sum of its lines."""
    from_lines: dict[Any, tuple[Decimal, Decimal]] = {
        (row["account_id"], row["period_id"], row["pillar_id"]): (row["debit"], row["credit"])
        for row in JournalLine.objects.filter(organisation=organisation, entry__state="posted")
        .values("account_id", "period_id", "pillar_id")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by()
    }
    kept: dict[Any, tuple[Decimal, Decimal]] = {
        (row.account_id, row.period_id, row.pillar_id): (row.debit, row.credit)
        for row in AccountBalance.objects.filter(organisation=organisation)
    }
    differences = []
    names: dict[str, dict[Any, str]] = {}
    for key in sorted(set(from_lines) | set(kept), key=lambda k: (k[0], k[1], k[2] or 0)):
        expected = from_lines.get(key, (ZERO, ZERO))
        actual = kept.get(key, (ZERO, ZERO))
        if expected != actual:
            if not names:
                from .models import Account, Period

                names = {
                    "account": dict(
                        Account.objects.filter(organisation=organisation).values_list("pk", "code")
                    ),
                    "period": {
                        p.pk: str(p) for p in Period.objects.filter(organisation=organisation)
                    },
                }
            differences.append(
                Difference(
                    account=names["account"].get(key[0], str(key[0])),
                    period=names["period"].get(key[1], str(key[1])),
                    pillar_id=key[2],
                    kept=actual,
                    lines=expected,
                )
            )
    return differences
