"""Batch dues invoicing: intervals by frequency, idempotent runs, posted in bulk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from gremio.finance import services
from gremio.finance.billing import dues_invoice_batch
from gremio.finance.models import Invoice, JournalEntry, Period
from gremio.finance.verify import ledger_differences
from gremio.members.tests.factories import MembershipFactory, MembershipPlanFactory

from .factories import books

pytestmark = pytest.mark.django_db


def membership(org, frequency, start=dt.date(2026, 1, 15), fee=None, **kwargs):
    plan = MembershipPlanFactory.create(organisation=org, frequency=frequency, fee=Decimal(12000))
    return MembershipFactory.create(
        organisation=org, plan=plan, start=start, end=dt.date(2026, 12, 31), fee=fee, **kwargs
    )


def test_each_frequency_bills_its_share_when_its_interval_starts():
    org = books()
    monthly = membership(org, "monthly")
    quarterly = membership(org, "quarterly")
    annual = membership(org, "annual", fee=Decimal(6000))
    result = dues_invoice_batch(organisation=org, month=dt.date(2026, 1, 1))
    assert result.issued == 3
    invoices = {i.membership_id: i for i in Invoice.objects.filter(organisation=org)}
    assert invoices[monthly.pk].subtotal == Decimal("1000.00")
    assert invoices[monthly.pk].vat == Decimal("160.00")
    assert invoices[quarterly.pk].subtotal == Decimal("3000.00")
    assert invoices[quarterly.pk].billed_to == dt.date(2026, 4, 14)
    assert invoices[annual.pk].total == Decimal("6960.00")
    assert sorted(i.number or 0 for i in invoices.values()) == [1, 2, 3]
    february = dues_invoice_batch(organisation=org, month=dt.date(2026, 2, 1))
    assert february.issued == 1  # only the monthly one starts an interval in February
    april = dues_invoice_batch(organisation=org, month=dt.date(2026, 4, 1))
    assert april.issued == 2  # monthly and the second quarter
    assert ledger_differences(org) == []
    assert JournalEntry.objects.filter(organisation=org, source="invoice").count() == 6


def test_running_twice_bills_nobody_twice_and_a_cancelled_interval_bills_again():
    org = books()
    for _ in range(3):
        membership(org, "annual")
    assert dues_invoice_batch(organisation=org, month=dt.date(2026, 1, 1)).issued == 3
    again = dues_invoice_batch(organisation=org, month=dt.date(2026, 1, 1))
    assert (again.issued, again.already_billed) == (0, 3)
    services.invoice_cancel(invoice=Invoice.objects.earliest("pk"), date=dt.date(2026, 1, 20))
    assert dues_invoice_batch(organisation=org, month=dt.date(2026, 1, 1)).issued == 1
    assert ledger_differences(org) == []


def test_resigned_and_lapsed_memberships_are_not_billed():
    org = books()
    membership(org, "monthly", status="resigned", resigned_on=dt.date(2026, 1, 10))
    membership(org, "monthly", status="lapsed")
    assert dues_invoice_batch(organisation=org, month=dt.date(2026, 1, 1)).issued == 0


def test_a_closed_period_refuses_the_batch_and_nothing_is_written():
    org = books()
    membership(org, "monthly")
    services.period_close(period=Period.objects.get(organisation=org, start=dt.date(2026, 1, 1)))
    with pytest.raises(ValidationError, match="is closed"):
        dues_invoice_batch(organisation=org, month=dt.date(2026, 1, 1))
    assert not Invoice.objects.exists()
    assert not JournalEntry.objects.exists()


def test_the_dues_page_previews_then_issues(client):
    from gremio.core.tests.factories import member_of

    org = books()
    membership(org, "annual")
    client.force_login(member_of(org, "finance"))
    url = f"/{org.slug}/finance/dues/"
    page = client.get(url, {"month": "2026-01"})
    assert page.status_code == 200
    assert page.context["preview"]["count"] == 1
    assert not Invoice.objects.exists()
    response = client.post(url, {"month": "2026-01"})
    assert response.status_code == 302
    assert Invoice.objects.filter(organisation=org).count() == 1
    assert client.get(url, {"month": "not a month"}).status_code == 200


def test_a_viewer_previews_but_cannot_issue(client):
    from gremio.core.tests.factories import member_of

    org = books()
    membership(org, "annual")
    client.force_login(member_of(org, "viewer"))
    assert client.get(f"/{org.slug}/finance/dues/", {"month": "2026-01"}).status_code == 200
    assert client.post(f"/{org.slug}/finance/dues/", {"month": "2026-01"}).status_code == 403
    assert not Invoice.objects.exists()


def test_the_command_previews_without_commit_and_issues_with_it(capsys):
    from django.core.management import call_command

    org = books()
    membership(org, "monthly")
    call_command("invoice_dues", "--org", org.slug, "--month", "2026-03")
    assert not Invoice.objects.exists()
    call_command("invoice_dues", "--org", org.slug, "--month", "2026-03", "--commit")
    assert Invoice.objects.count() == 1
