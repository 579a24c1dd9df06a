"""The ledger's rules: balanced one-sided lines, periods, lock date, numbering, immutability."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from gremio.finance import services
from gremio.finance.models import AccountBalance, JournalEntry, JournalLine, Period
from gremio.finance.posting import Line
from gremio.finance.verify import ledger_differences

from .factories import account, books, posted_entry

pytestmark = pytest.mark.django_db


def lines(org, debit="100.00", credit="100.00"):
    return [
        Line(account=account(org, "1102"), debit=Decimal(debit)),
        Line(account=account(org, "3101"), credit=Decimal(credit)),
    ]


def test_posting_numbers_entries_and_keeps_balances():
    org = books()
    first = posted_entry(org)
    second = posted_entry(org, date=dt.date(2026, 1, 5))
    third = services.entry_post(
        organisation=org, date=dt.date(2026, 2, 3), memo="x", lines=lines(org), kind="income"
    )
    assert (first.number, second.number, third.number) == (1, 2, 1)
    assert first.reference == "D-2026-000001"
    assert JournalEntry.objects.filter(state="posted").count() == 3
    bank = AccountBalance.objects.filter(account=account(org, "1102"))
    assert sum(b.debit for b in bank) == Decimal("300.00")
    assert ledger_differences(org) == []


def test_unbalanced_entry_shows_the_difference_and_writes_nothing():
    org = books()
    with pytest.raises(ValidationError) as error:
        services.entry_post(
            organisation=org, date=dt.date(2026, 2, 1), memo="x", lines=lines(org, credit="90.00")
        )
    assert "difference 10.00" in str(error.value)
    assert not JournalEntry.objects.exists()
    assert not AccountBalance.objects.exists()


@pytest.mark.parametrize(
    ("debit", "credit", "message"),
    [
        ("0", "0", "has no amount"),
        ("-5", "-5", "cannot be negative"),
    ],
)
def test_zero_and_negative_lines_are_refused(debit, credit, message):
    org = books()
    with pytest.raises(ValidationError, match=message):
        services.entry_post(
            organisation=org,
            date=dt.date(2026, 2, 1),
            memo="x",
            lines=lines(org, debit=debit, credit=credit),
        )


def test_a_line_with_both_sides_is_refused():
    org = books()
    both = [
        Line(account=account(org, "1102"), debit=Decimal(5), credit=Decimal(5)),
        Line(account=account(org, "3101"), credit=Decimal(0)),
    ]
    with pytest.raises(ValidationError, match="both a debit and a credit"):
        services.entry_post(organisation=org, date=dt.date(2026, 2, 1), memo="x", lines=both)


def test_amounts_are_rounded_half_up_before_the_check():
    org = books()
    entry = services.entry_post(
        organisation=org,
        date=dt.date(2026, 2, 1),
        memo="x",
        lines=[
            Line(account=account(org, "1102"), debit=Decimal("10.005")),
            Line(account=account(org, "3101"), credit=Decimal("10.01")),
        ],
    )
    assert [line.debit for line in entry.lines.order_by("pk")] == [Decimal("10.01"), 0]


def test_grouping_accounts_take_no_entries():
    org = books()
    grouping = [
        Line(account=account(org, "1100"), debit=Decimal(1)),
        Line(account=account(org, "3101"), credit=Decimal(1)),
    ]
    with pytest.raises(ValidationError, match="groups other accounts"):
        services.entry_post(organisation=org, date=dt.date(2026, 2, 1), memo="x", lines=grouping)


def test_dates_outside_any_fiscal_year_are_refused():
    org = books()
    with pytest.raises(ValidationError, match="No fiscal year covers 2030-01-01"):
        services.entry_post(organisation=org, date=dt.date(2030, 1, 1), memo="x", lines=lines(org))


def test_closed_period_refuses_postings_until_reopened():
    org = books()
    period = Period.objects.get(organisation=org, start=dt.date(2026, 2, 1))
    services.period_close(period=period)
    with pytest.raises(ValidationError, match="is closed"):
        posted_entry(org, date=dt.date(2026, 2, 10))
    services.period_reopen(period=period)
    assert posted_entry(org, date=dt.date(2026, 2, 10)).number == 1


def test_lock_date_only_moves_forward_and_blocks_postings():
    org = books()
    services.lock_date_set(organisation=org, date=dt.date(2026, 1, 31))
    with pytest.raises(ValidationError, match="locked up to 2026-01-31"):
        posted_entry(org, date=dt.date(2026, 1, 31))
    with pytest.raises(ValidationError, match="only moves forward"):
        services.lock_date_set(organisation=org, date=dt.date(2025, 12, 31))
    posted_entry(org, date=dt.date(2026, 2, 1))


def test_reversal_undoes_the_entry_and_balances_return_to_zero():
    org = books()
    entry = posted_entry(org)
    reversal = services.entry_reverse(entry=entry)
    assert reversal.reverses == entry
    with pytest.raises(ValidationError, match="already reversed"):
        services.entry_reverse(entry=entry)
    bank = AccountBalance.objects.filter(account=account(org, "1102"))
    assert sum(b.debit - b.credit for b in bank) == 0
    assert ledger_differences(org) == []


def _refused(sql: str, params: list) -> None:
    with (
        pytest.raises(DatabaseError, match="posted journal entries cannot be changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_the_database_refuses_to_change_posted_entries_and_lines():
    org = books()
    entry = posted_entry(org)
    line = entry.lines.get(account__code="1102")
    _refused("UPDATE finance_journalline SET debit = 1 WHERE id = %s", [line.pk])
    _refused("DELETE FROM finance_journalline WHERE id = %s", [line.pk])
    _refused("UPDATE finance_journalentry SET memo = 'x' WHERE id = %s", [entry.pk])
    _refused("DELETE FROM finance_journalentry WHERE id = %s", [entry.pk])
    _refused(
        "INSERT INTO finance_journalline (organisation_id, entry_id, account_id, period_id, "
        "date, debit, credit, description) VALUES (%s, %s, %s, %s, %s, 1, 0, '')",
        [org.pk, entry.pk, line.account_id, line.period_id, entry.date],
    )
    line.refresh_from_db()
    assert line.debit == Decimal("100.00")
    assert JournalLine.objects.filter(entry=entry).count() == 2
