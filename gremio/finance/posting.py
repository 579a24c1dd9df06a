"""The one place journal entries are written: validation, numbering, balances.

``entries_post`` takes entry specifications, checks every rule (balanced,
one-sided positive lines rounded to the currency's minor unit, postable
accounts of the organisation, an open period of a fiscal year, after the lock
date), numbers them gapless per type and fiscal year, writes them, marks them
posted and adds their amounts to the maintained ``AccountBalance`` rows, all
in the caller's transaction. It writes in bulk, so issuing one invoice and
billing a hundred thousand memberships run the same code.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from gremio.core.changelog import record_change, serialize
from gremio.core.models import ObjectChange, Organisation
from gremio.core.money import round_money

from .models import (
    ZERO,
    Account,
    AccountBalance,
    FinanceSettings,
    JournalEntry,
    JournalLine,
    Period,
    Sequence,
)


@dataclass
class Line:
    account: Account
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    pillar_id: int | None = None
    description: str = ""


@dataclass
class EntrySpec:
    date: dt.date
    memo: str
    lines: list[Line]
    kind: str = "journal"
    company_id: int | None = None
    source: str = ""
    reverses: JournalEntry | None = None
    # Filled by ``entries_post``.
    entry: JournalEntry | None = field(default=None, repr=False)


def amount_text(amount: Decimal) -> str:
    return number_format(amount, decimal_pos=2, force_grouping=True)


def next_numbers(*, organisation: Organisation, key: str, count: int = 1) -> int:
    """Take ``count`` consecutive numbers of the series ``key``; returns the first.

    The sequence row stays locked until the caller's transaction ends, so a
    rolled-back transaction gives its numbers back: no gaps, no duplicates.
    """
    quote = connection.ops.quote_name
    # One statement takes the numbers and locks the row (both databases know RETURNING).
    sql = (
        f"UPDATE {quote(Sequence._meta.db_table)} SET next_number = next_number + %s "
        f"WHERE organisation_id = %s AND {quote('key')} = %s RETURNING next_number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, organisation.pk, key])
        row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    Sequence.objects.create(
                        organisation=organisation, key=key, next_number=1 + count
                    )
                return 1
            except IntegrityError:  # another transaction created it first
                cursor.execute(sql, [count, organisation.pk, key])
                row = cursor.fetchone()
    return int(row[0]) - count


def period_for(
    organisation: Organisation, day: dt.date, periods: Iterable[Period] | None = None
) -> Period:
    """The period containing ``day``, or a ValidationError naming the date."""
    candidates = (
        periods
        if periods is not None
        else Period.objects.filter(organisation=organisation, start__lte=day, end__gte=day)
    )
    for period in candidates:
        if period.start <= day <= period.end:
            return period
    raise ValidationError(
        {
            "date": _("No fiscal year covers {date}. Create the fiscal year first.").format(
                date=day.isoformat()
            )
        },
        code="no_fiscal_year",
    )


def check_postable_date(*, day: dt.date, settings: FinanceSettings, period: Period) -> None:
    if settings.lock_date and day <= settings.lock_date:
        raise ValidationError(
            {
                "date": _("The books are locked up to {lock}: nothing posts on {date}.").format(
                    lock=settings.lock_date.isoformat(), date=day.isoformat()
                )
            },
            code="locked",
        )
    if period.is_closed:
        raise ValidationError(
            {
                "date": _("The period {period} is closed: nothing posts on {date}.").format(
                    period=str(period), date=day.isoformat()
                )
            },
            code="period_closed",
        )


def check_lines(*, organisation: Organisation, spec: EntrySpec) -> Decimal:
    """Round and check the lines of one entry; returns its total."""
    currency = organisation.currency
    if len(spec.lines) < 2:
        raise ValidationError(_("An entry needs at least two lines."), code="too_few_lines")
    debits = credits = ZERO
    for number, line in enumerate(spec.lines, start=1):
        line.debit = round_money(line.debit or ZERO, currency)
        line.credit = round_money(line.credit or ZERO, currency)
        if line.debit < 0 or line.credit < 0:
            raise ValidationError(
                _("Line {n}: amounts cannot be negative.").format(n=number), code="negative"
            )
        if line.debit and line.credit:
            raise ValidationError(
                _("Line {n} has both a debit and a credit; use two lines.").format(n=number),
                code="both_sides",
            )
        if not line.debit and not line.credit:
            raise ValidationError(_("Line {n} has no amount.").format(n=number), code="zero_line")
        account = line.account
        if account.organisation_id != organisation.pk:
            raise ValidationError(_("Unknown account."), code="foreign_account")
        if not account.postable:
            raise ValidationError(
                _("Line {n}: {account} groups other accounts and takes no entries.").format(
                    n=number, account=account
                ),
                code="not_postable",
            )
        debits += line.debit
        credits += line.credit
    if debits != credits:
        raise ValidationError(
            _(
                "The entry does not balance: debits {debits}, credits {credits}, "
                "difference {difference}."
            ).format(
                debits=amount_text(debits),
                credits=amount_text(credits),
                difference=amount_text(debits - credits),
            ),
            code="unbalanced",
        )
    return debits


def finance_settings(organisation: Organisation) -> FinanceSettings:
    from .setup import finance_setup

    try:
        return FinanceSettings.objects.select_related(
            "receivable_account",
            "customer_advance_account",
            "payable_account",
            "vat_output_account",
            "vat_input_account",
            "bank_account",
            "dues_income_account",
        ).get(organisation=organisation)
    except FinanceSettings.DoesNotExist:
        return finance_setup(organisation=organisation)


def entries_post(
    *,
    organisation: Organisation,
    specs: list[EntrySpec],
    user: Any = None,
    log: bool = True,
    settings: FinanceSettings | None = None,
) -> list[JournalEntry]:
    """Check, number, write and post ``specs`` in the current transaction.

    Any error raises ``ValidationError`` before anything is written. With
    ``log``, each entry gets a change-log row (bulk billing logs its invoices).
    """
    if not specs:
        return []
    if not transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return entries_post(
                organisation=organisation, specs=specs, user=user, log=log, settings=settings
            )
    settings = settings or finance_settings(organisation)
    totals = [check_lines(organisation=organisation, spec=spec) for spec in specs]
    first, last = min(s.date for s in specs), max(s.date for s in specs)
    # Locking the periods makes a concurrent close wait for this posting (and vice versa).
    periods = list(
        Period.objects.select_for_update()
        .filter(organisation=organisation, start__lte=last, end__gte=first)
        .select_related("fiscal_year")
        .order_by("start")
    )
    spec_periods = []
    for spec in specs:
        period = period_for(organisation, spec.date, periods)
        check_postable_date(day=spec.date, settings=settings, period=period)
        spec_periods.append(period)

    # Gapless numbers: one block per (fiscal year, kind), in date order.
    order = sorted(range(len(specs)), key=lambda i: (specs[i].date, i))
    wanted: dict[tuple[int, str], int] = defaultdict(int)
    for spec, period in zip(specs, spec_periods, strict=True):
        wanted[(period.fiscal_year_id, spec.kind)] += 1
    next_of: dict[tuple[int, str], int] = {}
    for fiscal_year_id, kind in sorted(wanted):
        next_of[(fiscal_year_id, kind)] = next_numbers(
            organisation=organisation,
            key=f"entry:{fiscal_year_id}:{kind}",
            count=wanted[(fiscal_year_id, kind)],
        )
    now = timezone.now()
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    entries: list[JournalEntry | None] = [None] * len(specs)
    for i in order:
        spec, period = specs[i], spec_periods[i]
        key = (period.fiscal_year_id, spec.kind)
        number = next_of[key]
        next_of[key] += 1
        entries[i] = JournalEntry(
            organisation=organisation,
            kind=spec.kind,
            fiscal_year=period.fiscal_year,
            number=number,
            date=spec.date,
            period=period,
            memo=spec.memo[:250],
            company_id=spec.company_id,
            state=JournalEntry.State.DRAFT,
            reverses=spec.reverses,
            source=spec.source,
            total=totals[i],
            posted_at=now,
            posted_by_id=user_id,
        )
    created = JournalEntry.objects.bulk_create(entries, batch_size=500)  # type: ignore[arg-type]
    lines: list[tuple[Any, ...]] = []
    ops = connection.ops
    org_id = organisation.pk
    deltas: dict[tuple[int, int, int | None], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for entry, spec, period in zip(created, specs, spec_periods, strict=True):
        spec.entry = entry
        date = ops.adapt_datefield_value(spec.date)
        for line in spec.lines:
            lines.append(
                (
                    org_id,
                    entry.pk,
                    line.account.pk,
                    period.pk,
                    date,
                    line.debit,
                    line.credit,
                    line.pillar_id,
                    line.description[:250],
                )
            )
            delta = deltas[(line.account.pk, period.pk, line.pillar_id)]
            delta[0] += line.debit
            delta[1] += line.credit
    insert_rows(JournalLine, LINE_COLUMNS, lines)
    ids = [entry.pk for entry in created]
    for start in range(0, len(ids), 900):
        JournalEntry.objects.filter(pk__in=ids[start : start + 900]).update(
            state=JournalEntry.State.POSTED
        )
    for entry in created:
        entry.state = JournalEntry.State.POSTED
    balances_add(organisation=organisation, deltas=deltas)
    if log:
        for entry in created:
            record_change(
                instance=entry,
                action=ObjectChange.Action.CREATE,
                before=None,
                after=serialize(entry),
            )
    return created


LINE_COLUMNS = (
    "organisation",
    "entry",
    "account",
    "period",
    "date",
    "debit",
    "credit",
    "pillar",
    "description",
)


def insert_rows(model: type[Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """INSERT rows of plain values with one prepared statement.

    ``bulk_create`` builds and inspects a model instance per row, most of the
    time of billing a hundred thousand invoices; journal lines need none of
    it. Values must already be adapted (``connection.ops.adapt_datefield_value``
    for dates; decimals and ids pass as they are). No signals, no change log.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    names = ", ".join(quote(field.column) for field in fields)  # type: ignore[union-attr,arg-type]
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def balances_add(
    *,
    organisation: Organisation,
    deltas: dict[tuple[int, int, int | None], list[Decimal]],
) -> None:
    """Add debit/credit amounts to the maintained balances, creating rows as needed."""
    for (account_id, period_id, pillar_id), (debit, credit) in sorted(
        deltas.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or 0)
    ):
        rows = AccountBalance.objects.filter(
            account_id=account_id,
            period_id=period_id,
            pillar_id=pillar_id,  # type: ignore[misc]
        )
        if rows.update(debit=F("debit") + debit, credit=F("credit") + credit):
            continue
        try:
            with transaction.atomic():
                AccountBalance.objects.create(
                    organisation=organisation,
                    account_id=account_id,
                    period_id=period_id,
                    pillar_id=pillar_id,
                    debit=debit,
                    credit=credit,
                )
        except IntegrityError:  # created meanwhile by a concurrent posting
            rows.update(debit=F("debit") + debit, credit=F("credit") + credit)


def reversal_spec(entry: JournalEntry, *, date: dt.date, memo: str = "") -> EntrySpec:
    """The entry that undoes ``entry``: the same lines on the other side."""
    lines = [
        Line(
            account=line.account,
            debit=line.credit,
            credit=line.debit,
            pillar_id=line.pillar_id,
            description=line.description,
        )
        for line in entry.lines.select_related("account")
    ]
    return EntrySpec(
        date=date,
        memo=memo or _("Reversal of {entry}").format(entry=entry.reference),
        lines=lines,
        kind=entry.kind,
        company_id=entry.company_id,
        source=entry.source,
        reverses=entry,
    )
