"""Finance on other pages: the company 360 panel and the receivables on the start page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gremio.core import panels as core_panels
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.finance import panels, services
from gremio.members.tests.factories import CompanyFactory

from .factories import books, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def registered() -> None:
    panels.register_all()
    panels.register_all()  # a second registration replaces the first


@pytest.fixture
def org() -> Any:
    return books(OrganisationFactory.create(slug="camara", language="en"))


def company_page(client: Any, company: Any) -> Any:
    return client.get(
        reverse("members:company_detail", args=[company.organisation.slug, company.pk])
    )


def finance_panel(response: Any) -> dict[str, Any]:
    (panel,) = [p for p in response.context["panels"] if p["key"] == "finance_invoices"]
    return panel


def test_registering_twice_keeps_one_panel_per_key() -> None:
    keys = [p.key for p in core_panels._registry["members.company"].values()]
    assert keys.count("finance_invoices") == 1
    assert list(core_panels._registry["dashboard"]).count("finance_receivables") == 1


def test_the_company_page_shows_what_it_owes_and_paid(client: Any, org: Any) -> None:
    company = CompanyFactory.create(organisation=org)
    overdue = issued_invoice(org, company=company)  # due 2026-04-09: overdue for good
    later = draft_invoice(org, company=company)
    later.due_date = dt.date(2099, 12, 31)
    later.save()
    later = services.invoice_issue(invoice=later)
    draft_invoice(org, company=company)  # drafts owe nothing
    services.payment_receive(
        organisation=org,
        company=company,
        date=dt.date(2026, 3, 20),
        amount=D("1500"),
        allocations=[(overdue, D("160"))],
        reference="SPEI 1",
    )
    issued_invoice(org)  # another company's invoice is not counted

    client.force_login(member_of(org, "viewer", email="lector@camara.example"))
    response = company_page(client, company)
    assert response.status_code == 200
    panel = finance_panel(response)
    assert panel["due"] == D("2160.00")  # 1,000.00 left on the first, 1,160.00 on the second
    assert panel["overdue"] == D("1000.00") and panel["overdue_count"] == 1
    assert panel["credit"] == D("1340.00")
    assert len(panel["invoices"]) == 3 and len(panel["payments"]) == 1
    html = response.content.decode()
    assert "Invoices and payments" in html
    assert later.get_absolute_url() in html and overdue.get_absolute_url() in html
    assert "2,160.00" in html and "1,340.00" in html
    assert f"/camara/finance/invoices/?company={company.pk}" in html
    assert "/camara/finance/invoices/add/" not in html  # a viewer does not bill


def test_the_panel_needs_the_permission_to_see_invoices(client: Any, org: Any) -> None:
    company = CompanyFactory.create(organisation=org)
    client.force_login(member_of(org, "representative", email="rep@camara.example"))
    # A representative reads no members: the page itself is refused.
    assert company_page(client, company).status_code == 403
    client.force_login(member_of(org, "relations", email="rel@camara.example"))
    assert finance_panel(company_page(client, company))["due"] == 0


def test_the_company_page_asks_as_many_questions_for_many_invoices(client: Any, org: Any) -> None:
    company = CompanyFactory.create(organisation=org)
    client.force_login(member_of(org, "finance", email="fin@camara.example"))

    def grow(count: int) -> None:
        for _ in range(count):
            invoice = issued_invoice(org, company=company)
            services.payment_receive(
                organisation=org,
                company=company,
                date=dt.date(2026, 3, 20),
                amount=D("100"),
                allocations=[(invoice, D("100"))],
            )

    grow(2)
    with CaptureQueriesContext(connection) as few:
        company_page(client, company)
    grow(12)
    with CaptureQueriesContext(connection) as many:
        response = company_page(client, company)
    assert len(finance_panel(response)["invoices"]) == panels.LATEST_INVOICES
    assert len(finance_panel(response)["payments"]) == panels.LATEST_PAYMENTS
    assert len(many) <= len(few)


def test_the_start_page_shows_receivables_to_finance(client: Any, org: Any) -> None:
    issued_invoice(org)
    later = draft_invoice(org)
    later.due_date = dt.date(2099, 12, 31)
    later.save()
    services.invoice_issue(invoice=later)
    client.force_login(member_of(org, "finance", email="fin@camara.example"))
    response = client.get(reverse("core:dashboard", args=[org.slug]))
    (panel,) = [p for p in response.context["panels"] if p["key"] == "finance_receivables"]
    assert panel["due"] == D("2320.00") and panel["overdue"] == D("1160.00")
    assert panel["overdue_count"] == 1
    assert "/camara/finance/invoices/?overdue=true" in response.content.decode()

    client.force_login(member_of(org, "viewer", email="lector@camara.example"))
    response = client.get(reverse("core:dashboard", args=[org.slug]))
    assert "finance_receivables" not in [p["key"] for p in response.context["panels"]]
