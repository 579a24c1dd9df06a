"""Invoices and payments keep their company's sector group and chamber as invoiced or paid.

Every way a document is made stamps it (drafts, issue, batch dues, credit
notes, payments, the API); a company that changes later leaves its documents
where they were, and the payment-times report and its drill-down lists count
them there. Migration 0006 fills the documents that existed before with the
same ``classification.fill`` these tests run.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from gremio.core.models import Organisation
from gremio.core.roles import Role
from gremio.core.tests.factories import member_of
from gremio.finance import services
from gremio.finance.billing import dues_invoice_batch
from gremio.finance.classification import DOCUMENT_TABLES, classifications, fill
from gremio.finance.models import Invoice, InvoiceLine, InvoiceSeries, Payment
from gremio.finance.posting import finance_settings
from gremio.members.models import Chamber, Company, Sector
from gremio.members.tests.factories import (
    ChamberFactory,
    CompanyFactory,
    MembershipFactory,
    MembershipPlanFactory,
)

from .factories import books, draft_invoice, issued_invoice
from .test_api import token_client
from .test_reports import build_books, ensure_registered, query, run

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _registered() -> None:
    ensure_registered()


def sector(code: str) -> Sector:
    return Sector.objects.get(code=code)


def classified(document: Invoice | Payment) -> tuple[Sector | None, Chamber | None]:
    document.refresh_from_db()
    return document.sector, document.chamber


@pytest.fixture
def org() -> Organisation:
    return books()


@pytest.fixture
def companies(org: Organisation) -> SimpleNamespace:
    """One classified by a subsector, one by a top-level sector, one by neither."""
    chamber = ChamberFactory.create(organisation=org, acronym="CANIETI")
    return SimpleNamespace(
        chamber=chamber,
        subsector=CompanyFactory.create(organisation=org, sector=sector("334"), chamber=chamber),
        top=CompanyFactory.create(organisation=org, sector=sector("43")),
        neither=CompanyFactory.create(organisation=org),
    )


def pay(invoice: Invoice, on: str) -> Payment:
    return services.payment_receive(
        organisation=invoice.organisation,
        company=invoice.company,
        date=dt.date.fromisoformat(on),
        amount=invoice.total,
        allocations=[(invoice, invoice.total)],
    )


# Every way a document is made ---------------------------------------------------------------


def test_a_draft_keeps_the_sector_group_and_chamber(companies: SimpleNamespace) -> None:
    org = companies.subsector.organisation
    # A company classified by a subsector counts under the subsector's sector.
    assert classified(draft_invoice(org, company=companies.subsector)) == (
        sector("31-33"),
        companies.chamber,
    )
    assert classified(draft_invoice(org, company=companies.top)) == (sector("43"), None)
    assert classified(draft_invoice(org, company=companies.neither)) == (None, None)


def test_a_draft_takes_its_company_as_issued(companies: SimpleNamespace) -> None:
    org = companies.subsector.organisation
    draft = draft_invoice(org, company=companies.neither)
    # The draft's company changes: saved again, it takes the new company's classification.
    draft.company = companies.subsector
    lines = [
        InvoiceLine(description="Cuota", account=line.account, unit_price=line.unit_price)
        for line in draft.lines.all()
    ]
    services.invoice_save(invoice=draft, lines=lines)
    assert classified(draft) == (sector("31-33"), companies.chamber)
    # The company itself changes before the invoice is issued: issued, it is as invoiced.
    moved = ChamberFactory.create(organisation=org)
    Company.objects.filter(pk=companies.subsector.pk).update(sector=sector("431"), chamber=moved)
    issued = services.invoice_issue(invoice=draft)
    assert issued.number is not None
    assert classified(issued) == (sector("43"), moved)


def test_a_credit_note_keeps_its_invoices_classification(companies: SimpleNamespace) -> None:
    org = companies.subsector.organisation
    invoice = issued_invoice(org, company=companies.subsector)
    Company.objects.filter(pk=companies.subsector.pk).update(sector=None, chamber=None)
    credit_note = services.invoice_cancel(invoice=invoice, date=dt.date(2026, 3, 20))
    assert credit_note.is_credit_note
    assert classified(credit_note) == (sector("31-33"), companies.chamber)


def test_a_payment_keeps_the_companys_classification(companies: SimpleNamespace) -> None:
    org = companies.subsector.organisation
    invoice = issued_invoice(org, company=companies.subsector)
    payment = pay(invoice, "2026-03-20")
    assert classified(payment) == (sector("31-33"), companies.chamber)
    credit = services.payment_receive(
        organisation=org, company=companies.top, date=dt.date(2026, 3, 20), amount=D("100")
    )
    assert classified(credit) == (sector("43"), None)


def test_batch_dues_invoices_keep_the_classification(companies: SimpleNamespace) -> None:
    org = companies.subsector.organisation
    plan = MembershipPlanFactory.create(organisation=org, frequency="annual")
    for company in (companies.subsector, companies.top, companies.neither):
        MembershipFactory.create(organisation=org, company=company, plan=plan)
    assert dues_invoice_batch(organisation=org, month=dt.date(2026, 1, 1)).issued == 3
    invoices = Invoice.objects.filter(organisation=org, membership__isnull=False)
    assert {(i.company_id, i.sector_id, i.chamber_id) for i in invoices} == {
        (companies.subsector.pk, sector("31-33").pk, companies.chamber.pk),
        (companies.top.pk, sector("43").pk, None),
        (companies.neither.pk, None, None),
    }


def test_the_bulk_lookup_matches_one_company_at_a_time(companies: SimpleNamespace) -> None:
    org = companies.subsector.organisation
    found = classifications(Company.objects.filter(organisation=org))
    assert found == {
        companies.subsector.pk: (sector("31-33").pk, companies.chamber.pk),
        companies.top.pk: (sector("43").pk, None),
        companies.neither.pk: (None, None),
    }


def test_the_api_shows_the_classification_and_refuses_to_set_it(
    companies: SimpleNamespace,
) -> None:
    org = companies.subsector.organisation
    client = token_client(member_of(org, Role.FINANCE))
    base = f"/api/v1/{org.slug}/finance/"
    income = finance_settings(org).dues_income_account
    response = client.post(
        f"{base}invoices/",
        {
            "series": InvoiceSeries.objects.get(organisation=org, prefix="A").pk,
            "company": companies.subsector.pk,
            "date": "2026-03-10",
            "lines": [{"description": "Cuota", "account": income.pk, "unit_price": "100.00"}],
            # Read-only: ignored.
            "sector": sector("43").pk,
            "chamber": None,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sector"], body["chamber"]) == (sector("31-33").pk, companies.chamber.pk)
    payment = pay(services.invoice_issue(invoice=Invoice.objects.get(pk=body["id"])), "2026-03-20")
    body = client.get(f"{base}payments/{payment.pk}/").json()
    assert (body["sector"], body["chamber"]) == (sector("31-33").pk, companies.chamber.pk)


# A company that changes later -----------------------------------------------------------------


@pytest.fixture
def moved() -> SimpleNamespace:
    """The books of ``test_reports``; then Alfa moves chamber and sector, and pays once more."""
    w = build_books()
    w.admin = member_of(w.org, "admin", email="admin@fin.example")
    w.canaco = ChamberFactory.create(organisation=w.org, acronym="CANACO")
    Company.objects.filter(pk=w.a.pk).update(chamber=w.canaco, sector=sector("431"))
    w.a.refresh_from_db()
    w.i4 = issued_invoice(w.org, company=w.a, date=dt.date(2026, 3, 2))
    w.p4 = pay(w.i4, "2026-03-12")
    return w


def test_documents_stay_where_they_were_invoiced(moved: SimpleNamespace) -> None:
    w = moved
    assert classified(w.i1) == (w.manufacturing, w.chamber)
    assert classified(w.i4) == (sector("43"), w.canaco)
    assert set(
        Payment.objects.filter(organisation=w.org, company=w.a).values_list("chamber", flat=True)
    ) == {w.chamber.pk, w.canaco.pk}


def test_the_report_counts_them_as_invoiced_and_paid(moved: SimpleNamespace) -> None:
    w = moved
    by_chamber = run("finance.payment_times", w.org, by="chamber").data.rows
    assert [(r["label"], r["paid"], r["payments"]) for r in by_chamber] == [
        ("CANIETI", 2, 2),
        ("No chamber", 1, 2),
        ("CANACO", 1, 1),
    ]
    by_sector = run("finance.payment_times", w.org, by="sector").data.rows
    assert [(r["label"], r["paid"]) for r in by_sector] == [
        (str(w.manufacturing), 2),
        ("No sector", 1),
        (str(sector("43")), 1),
    ]


@pytest.mark.parametrize("by", ["sector", "chamber"])
def test_the_drill_down_lists_exactly_the_invoices_and_payments_counted(
    moved: SimpleNamespace, client: Any, by: str
) -> None:
    w = moved
    client.force_login(w.admin)
    result = run("finance.payment_times", w.org, by=by)
    followed = 0
    for row in result.data.rows:
        if row[f"{by}_id"] is None:
            continue  # "No sector" has no list to open
        link = result.row_links(row)["paid"]
        assert query(link)[by] == [str(row[f"{by}_id"])]
        page = client.get(link)
        assert page.status_code == 200
        listed = [r.record for r in page.context["table"].paginated_rows]
        assert len(listed) == row["paid"]
        assert {getattr(invoice, f"{by}_id") for invoice in listed} == {row[f"{by}_id"]}
        # And the payments received, as paid.
        page = client.get(result.row_links(row)["payments"])
        assert page.status_code == 200
        listed = [r.record for r in page.context["table"].paginated_rows]
        assert len(listed) == row["payments"]
        assert {getattr(payment, f"{by}_id") for payment in listed} == {row[f"{by}_id"]}
        followed += 1
    assert followed == 2


# The migration's fill -------------------------------------------------------------------------


def test_the_fill_gives_existing_documents_their_companys_classification(
    companies: SimpleNamespace,
) -> None:
    org = companies.subsector.organisation
    for company in (companies.subsector, companies.top, companies.neither):
        pay(issued_invoice(org, company=company), "2026-03-20")
    stamped = {
        model: sorted(model.objects.values_list("pk", "sector", "chamber"))
        for model in (Invoice, Payment)
    }
    assert len(stamped[Invoice]) == len(stamped[Payment]) == 3
    Invoice.objects.update(sector=None, chamber=None)
    Payment.objects.update(sector=None, chamber=None)
    for table in DOCUMENT_TABLES:
        fill(connection, table)
    for model, rows in stamped.items():
        assert sorted(model.objects.values_list("pk", "sector", "chamber")) == rows
    # The migration runs the same fill on both tables.
    migration = importlib.import_module("gremio.finance.migrations.0006_document_classification")
    Invoice.objects.update(sector=None, chamber=None)
    Payment.objects.update(sector=None, chamber=None)
    migration.fill_classification(None, SimpleNamespace(connection=connection))
    for model, rows in stamped.items():
        assert sorted(model.objects.values_list("pk", "sector", "chamber")) == rows
