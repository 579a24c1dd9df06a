"""The member statement with the finance module: real invoices and payments, not prorated dues.

The company Alfa (organisation ``stm``), in pesos, VAT 16 %:

    2025-12-15  payment P0 of 100.00, not allocated             (before the period)
    2026-01-01  dues invoice A-1, Plan Industria Jan–Mar  3,480.00
    2026-02-01  payment P1 "TR-001" 3,480.00 → A-1 paid
    2026-03-05  service delivered: Asesoría legal, 2.00 hours, rated 5
    2026-04-01  dues invoice A-2, Plan Industria Apr–Jun  3,480.00
    2026-04-10  A-2 cancelled by credit note NC-1
    2026-05-05  invoice A-3 "Asesoría legal"                 1,160.00
    2026-05-20  payment P2 "TR-002" 500.00 → A-3 (660.00 still owed)
    2026-06-01  a draft invoice                               (not issued: not shown)
    2026-06-02  payment "CH-9" 700.00 by cheque, cancelled on 06-05 (not shown)
    2026-07-01  dues invoice A-4, Jul–Sep                     (after the period)

Beta, of the same organisation, has an invoice in the period; another
organisation has a company of its own. The period is the first half of 2026.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gremio.core.reports import Period, get_report, run_report
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.finance import services
from gremio.finance import statement as finance_statement
from gremio.finance.billing import dues_invoice_batch
from gremio.finance.models import Invoice
from gremio.members.statement import get_statement_source
from gremio.members.tests.factories import (
    CompanyFactory,
    MembershipFactory,
    MembershipPlanFactory,
    ServiceDeliveryFactory,
    ServiceFactory,
)

from .factories import books, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db

D = Decimal
HALF = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(autouse=True)
def _registered() -> None:
    # The app's ready() registers the source; another test may have taken it away.
    finance_statement.register_all()


@pytest.fixture
def world() -> SimpleNamespace:
    """The books of the module docstring."""
    org = books(OrganisationFactory.create(slug="stm", language="en"))
    w = SimpleNamespace(org=org)
    w.admin = member_of(org, "admin", email="admin@stm.example")
    w.other = books(OrganisationFactory.create(slug="stm-other"))
    w.foreign = CompanyFactory.create(organisation=w.other, trade_name="Ajena")
    w.a = CompanyFactory.create(organisation=org, trade_name="Alfa")
    w.b = CompanyFactory.create(organisation=org, trade_name="Beta")
    plan = MembershipPlanFactory.create(
        organisation=org, name="Plan Industria", frequency="quarterly", fee=D("12000.00")
    )
    w.membership = MembershipFactory.create(
        organisation=org, company=w.a, plan=plan, start=day("2026-01-01"), end=day("2026-12-31")
    )
    w.p0 = services.payment_receive(
        organisation=org, company=w.a, date=day("2025-12-15"), amount=D("100.00")
    )
    dues_invoice_batch(organisation=org, month=day("2026-01-01"))
    w.a1 = Invoice.objects.get(organisation=org, billed_from=day("2026-01-01"))
    w.p1 = services.payment_receive(
        organisation=org,
        company=w.a,
        date=day("2026-02-01"),
        amount=D("3480.00"),
        allocations=[(w.a1, D("3480.00"))],
        reference="TR-001",
    )
    legal = ServiceFactory.create(organisation=org, name="Asesoría legal")
    w.delivery = ServiceDeliveryFactory.create(
        organisation=org,
        company=w.a,
        service=legal,
        date=day("2026-03-05"),
        hours=D("2.00"),
        satisfaction=5,
    )
    dues_invoice_batch(organisation=org, month=day("2026-04-01"))
    w.a2 = Invoice.objects.get(organisation=org, billed_from=day("2026-04-01"))
    w.nc1 = services.invoice_cancel(invoice=w.a2, date=day("2026-04-10"))
    w.a3 = issued_invoice(
        org, company=w.a, date=day("2026-05-05"), lines=(("Asesoría legal", "1000.00", "16"),)
    )
    w.p2 = services.payment_receive(
        organisation=org,
        company=w.a,
        date=day("2026-05-20"),
        amount=D("500.00"),
        allocations=[(w.a3, D("500.00"))],
        reference="TR-002",
    )
    bounced = services.payment_receive(
        organisation=org,
        company=w.a,
        date=day("2026-06-02"),
        amount=D("700.00"),
        method="cheque",
        reference="CH-9",
    )
    services.payment_cancel(payment=bounced, date=day("2026-06-05"), reason="Sin fondos")
    draft_invoice(org, company=w.a, date=day("2026-06-01"))
    dues_invoice_batch(organisation=org, month=day("2026-07-01"))
    issued_invoice(org, company=w.b, date=day("2026-03-10"))
    return w


def run(w: SimpleNamespace, period: Period = HALF, company: Any = None) -> Any:
    report = get_report("members.statement")
    assert report is not None
    return run_report(report, organisation=w.org, period=period, params={"company": company or w.a})


def url(w: SimpleNamespace, company: Any = None) -> str:
    return f"/{w.org.slug}/members/companies/{(company or w.a).pk}/statement/"


COLUMNS = ("date", "kind", "reference", "concept", "invoiced", "paid", "balance", "received")


def test_finance_registers_its_statement_source() -> None:
    source = get_statement_source("finance")
    assert source is not None
    assert source.lines is finance_statement.company_statement


def test_rows_are_the_invoices_and_payments_of_the_period_then_the_services(
    world: SimpleNamespace,
) -> None:
    rows = run(world).data.rows
    assert [tuple(row.get(key) for key in (*COLUMNS, "state")) for row in rows] == [
        (
            day("2026-01-01"),
            "Dues invoice",
            "A-1",
            "Membership dues Plan Industria, 01/01/2026 to 03/31/2026",
            D("3480.00"),
            D("3480.00"),
            D("0.00"),
            None,
            "Paid",
        ),
        (
            day("2026-04-01"),
            "Dues invoice",
            "A-2",
            "Membership dues Plan Industria, 04/01/2026 to 06/30/2026",
            D("3480.00"),
            None,
            None,
            None,
            "Cancelled by credit note NC-1",
        ),
        (
            day("2026-04-10"),
            "Credit note",
            "NC-1",
            "Cancels invoice A-2",
            D("-3480.00"),
            None,
            None,
            None,
            None,
        ),
        (
            day("2026-05-05"),
            "Invoice",
            "A-3",
            "Asesoría legal",
            D("1160.00"),
            D("500.00"),
            D("660.00"),
            None,
            "Issued",
        ),
        (
            day("2026-02-01"),
            "Payment",
            "TR-001",
            "Bank transfer",
            None,
            None,
            None,
            D("3480.00"),
            None,
        ),
        (
            day("2026-05-20"),
            "Payment",
            "TR-002",
            "Bank transfer",
            None,
            None,
            None,
            D("500.00"),
            None,
        ),
        (day("2026-03-05"), "Service", None, "Asesoría legal", None, None, None, None, None),
    ]
    assert rows[0]["membership_id"] == world.membership.pk
    assert rows[0]["invoice_id"] == world.a1.pk and rows[0]["source"] == "finance"
    assert rows[1]["credit_note_id"] == world.nc1.pk
    assert rows[4]["payment_id"] == world.p1.pk
    assert rows[6]["delivery_id"] == world.delivery.pk


def test_totals_and_figures_count_no_cancelled_invoice(world: SimpleNamespace) -> None:
    result = run(world)
    total = result.data.total or {}
    # A-2 and its credit note net to nothing.
    assert (total["invoiced"], total["paid"], total["balance"], total["received"]) == (
        D("4640.00"),
        D("3980.00"),
        D("660.00"),
        D("3980.00"),
    )
    assert sum(r["invoiced"] for r in result.data.rows if r.get("invoiced")) == D("4640.00")
    assert {f.key: f.value for f in result.data.summary} == {
        "services": 1,
        "hours": D("2.00"),
        "invoiced": D("4640.00"),
        "paid": D("3980.00"),
        "balance": D("660.00"),
        "invoiced_per_service": D("4640.00"),
    }
    # The second half of 2025: the unallocated payment only, nothing invoiced, no service.
    assert result.previous_figure("paid") == D("100.00")
    assert result.previous_figure("invoiced") == D("0.00")
    assert result.previous_figure("invoiced_per_service") is None


def test_the_page_links_each_row_to_its_record(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    response = client.get(url(world), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    for invoice in (world.a1, world.a2, world.nc1, world.a3):
        assert f'href="/stm/finance/invoices/{invoice.pk}/"' in html
    for payment in (world.p1, world.p2):
        assert f'href="/stm/finance/payments/{payment.pk}/"' in html
    assert f'href="/stm/members/deliveries/{world.delivery.pk}/"' in html
    assert f'href="/stm/finance/invoices/{world.nc1.pk}/">Cancelled by credit note NC-1' in html
    assert "4,640.00" in html and "660.00" in html
    assert "Dues in the period" not in html  # nothing prorated


def test_the_page_renders_in_spanish(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es-mx"
    response = client.get(url(world), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es-mx">' in html
    assert "Estado de cuenta del afiliado" in html and "Servicios recibidos" in html
    # Dates in the Mexican short format, in a concept already translated.
    assert "Cuota de afiliación Plan Industria, del 01/01/2026 al 31/03/2026" in html
    assert "Transferencia bancaria" in html and "Pagada" in html
    assert "4,640.00" in html


@pytest.mark.parametrize("export", ["csv", "xlsx", "pdf"])
def test_exports_hold_the_invoices_and_payments(
    world: SimpleNamespace, client: Any, export: str
) -> None:
    client.force_login(world.admin)
    response = client.get(url(world), {**PERIOD, "export": export})
    assert response.status_code == 200
    if export == "pdf":
        assert response.content.startswith(b"%PDF-")
        return
    if export == "csv":
        table = list(csv.reader(io.StringIO(response.content.decode())))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert list(table[0]) == [
        "Date",
        "Kind",
        "Reference",
        "Concept",
        "Hours",
        "Satisfaction",
        "Invoiced",
        "Paid",
        "Balance due",
        "Received",
        "State",
    ]
    by_reference = {row[2]: row for row in table[1:]}

    def money(value: Any) -> Decimal:
        return D(str(value)).quantize(D("0.01"))

    assert money(by_reference["A-1"][6]) == D("3480.00")
    assert by_reference["A-2"][10] == "Cancelled by credit note NC-1"
    assert money(by_reference["NC-1"][6]) == D("-3480.00")
    assert money(by_reference["TR-002"][9]) == D("500.00")
    total = table[-1]
    assert total[3] == "Total"
    assert [money(v) for v in total[6:10]] == [
        D("4640.00"),
        D("3980.00"),
        D("660.00"),
        D("3980.00"),
    ]


def test_api_answers_the_rows_and_figures(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    body = client.get(f"/api/v1/stm/reports/members.statement/{world.a.pk}/", PERIOD).json()
    assert body["summary"]["invoiced"] == "4640.00"
    assert body["summary"]["balance"] == "660.00"
    assert [row.get("reference") for row in body["rows"]][:4] == ["A-1", "A-2", "NC-1", "A-3"]


def test_another_organisations_company_is_404(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    assert client.get(url(world, world.foreign), PERIOD).status_code == 404
    api = f"/api/v1/stm/reports/members.statement/{world.foreign.pk}/"
    assert client.get(api, PERIOD).status_code == 404
    # And Beta's statement holds none of Alfa's records.
    rows = run(world, company=world.b).data.rows
    assert [row["reference"] for row in rows] == ["A-5"]


def test_the_page_asks_as_many_queries_for_more_records(
    world: SimpleNamespace, client: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.admin)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(world), PERIOD).status_code == 200
    for month in (1, 2, 3, 4, 5, 6):
        invoice = issued_invoice(
            world.org,
            company=world.a,
            date=dt.date(2026, month, 15),
            lines=(("Capacitación", "100.00", "16"), ("Renta de sala", "50.00", "16")),
        )
        services.payment_receive(
            organisation=world.org,
            company=world.a,
            date=dt.date(2026, month, 20),
            amount=D("174.00"),
            allocations=[(invoice, D("174.00"))],
        )
        cancelled = issued_invoice(world.org, company=world.a, date=dt.date(2026, month, 16))
        services.invoice_cancel(invoice=cancelled, date=dt.date(2026, month, 17))
        ServiceDeliveryFactory.create(
            organisation=world.org, company=world.a, date=dt.date(2026, month, 3)
        )
    with django_assert_max_num_queries(len(small)):
        response = client.get(url(world), PERIOD)
    assert len(response.context["run"].data.rows) == 7 + 6 * 5
