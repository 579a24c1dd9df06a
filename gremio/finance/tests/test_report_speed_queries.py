"""The finance reports ask as many queries for ten times the data, and the ledger reports
read the maintained balances, never the journal lines (3 million of them at scale)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gremio.core.models import Pillar
from gremio.core.reports import Period, get_report, run_report
from gremio.core.tests.factories import member_of
from gremio.finance import services
from gremio.finance.models import Budget
from gremio.members.models import Sector
from gremio.members.tests.factories import ChamberFactory, CompanyFactory

from .factories import account, draft_bill, issued_invoice, organisation_period, posted_entry
from .test_reports import PAGES, QUARTER, build_books, ensure_registered

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _registered() -> None:
    ensure_registered()


@pytest.fixture
def world() -> SimpleNamespace:
    w = build_books()
    w.admin = member_of(w.org, "admin", email="admin@fin.example")
    return w


def grow(w: SimpleNamespace, times: int = 30) -> None:
    """Thirty more invoices to new companies (sectors, chambers), paid, some late, some open,
    with bills, budgets and entries spread over the quarter and pillars."""
    sectors = list(Sector.objects.filter(parent__isnull=False).order_by("code")[:10])
    pillars = [
        w.pillar,
        Pillar.objects.create(organisation=w.org, name_es="Comunicación", name_en="Communication"),
    ]
    codes = ("5101", "5103", "5201", "5106")
    for i in range(times):
        month = 1 + i % 3
        company = CompanyFactory.create(
            organisation=w.org,
            sector=sectors[i % len(sectors)],
            chamber=ChamberFactory.create(organisation=w.org),
        )
        invoice = issued_invoice(
            w.org,
            company=company,
            date=dt.date(2026, month, 1 + i % 20),
            lines=((f"Cuota {i}", f"{100 + i}.00", "16"),),
            pillar=pillars[i % 2],
        )
        if i % 3:
            services.payment_receive(
                organisation=w.org,
                company=company,
                date=invoice.date + dt.timedelta(days=5 + 9 * (i % 7)),
                amount=invoice.total,
                allocations=[(invoice, invoice.total)],
            )
        services.bill_post(
            bill=draft_bill(
                w.org,
                date=dt.date(2026, month, 2 + i % 20),
                amount=f"{50 + i}.00",
                code=codes[i % len(codes)],
                pillar=pillars[i % 2],
            )
        )
        posted_entry(w.org, date=dt.date(2026, month, 3 + i % 20), amount=f"{10 + i}.00")
        Budget.objects.get_or_create(
            organisation=w.org,
            account=account(w.org, codes[i % len(codes)]),
            period=organisation_period(w.org, dt.date(2026, month, 1)),
            pillar=pillars[i % 2],
            defaults={"amount": D("300.00")},
        )


# (page, query) for every report and its groupings.
VARIANTS: list[tuple[str, dict[str, str]]] = [
    (PAGES["finance.trial_balance"], QUARTER),
    (PAGES["finance.trial_balance"], {**QUARTER, "hierarchy": "1"}),
    (PAGES["finance.income_statement"], QUARTER),
    (PAGES["finance.income_statement"], {**QUARTER, "interval": "quarter"}),
    (PAGES["finance.balance_sheet"], {**QUARTER, "hierarchy": "1"}),
    (PAGES["finance.income_and_outgoings"], {**QUARTER, "cash": "1"}),
    (PAGES["finance.receivables_ageing"], {"as_of": "2026-03-15"}),
    (PAGES["finance.receivables_ageing"], {"as_of": "2026-03-15", "basis": "date"}),
    (PAGES["finance.payment_times"], {**QUARTER, "by": "company", "companies": "25"}),
    (PAGES["finance.payment_times"], {**QUARTER, "by": "sector"}),
    (PAGES["finance.payment_times"], {**QUARTER, "by": "chamber"}),
    (PAGES["finance.payment_times"], {**QUARTER, "by": "month"}),
    (PAGES["finance.budget_vs_actual"], QUARTER),
    ("/api/v1/fin/reports/finance.trial_balance/", {**QUARTER, "compare": "1"}),
    ("/api/v1/fin/reports/finance.payment_times/", {**QUARTER, "compare": "1"}),
]


def test_report_pages_ask_as_many_queries_for_ten_times_the_data(
    world: SimpleNamespace, client: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.admin)
    counted = []
    for path, query in VARIANTS:
        with CaptureQueriesContext(connection) as small:
            assert client.get(path, query).status_code == 200, (path, query)
        counted.append(len(small))
    grow(world)
    for (path, query), small_count in zip(VARIANTS, counted, strict=True):
        with django_assert_max_num_queries(small_count):
            response = client.get(path, query)
        assert response.status_code == 200
    # The larger data is really there.
    page = client.get(*VARIANTS[8])
    assert len(page.context["run"].data.rows) > 10


@pytest.mark.parametrize(
    "key",
    [
        "finance.trial_balance",
        "finance.income_statement",
        "finance.balance_sheet",
        "finance.income_and_outgoings",
        "finance.budget_vs_actual",
    ],
)
def test_ledger_reports_read_balances_not_lines(world: SimpleNamespace, key: str) -> None:
    report = get_report(key)
    assert report is not None
    with CaptureQueriesContext(connection) as queries:
        run_report(
            report,
            organisation=world.org,
            period=Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        )
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "finance_accountbalance" in sql
    assert "finance_journalline" not in sql
    # Periods, chart, balances (and budgets or pillar names) per period: a handful.
    assert len(queries.captured_queries) <= 12


def test_ageing_reads_lines_only_for_a_days_partial_month(world: SimpleNamespace) -> None:
    report = get_report("finance.receivables_ageing")
    assert report is not None
    for as_of, reads_lines in ((dt.date(2026, 3, 31), False), (dt.date(2026, 3, 15), True)):
        with CaptureQueriesContext(connection) as queries:
            run_report(
                report,
                organisation=world.org,
                period=Period(as_of.replace(day=1), as_of),
                compare=False,
            )
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert ("finance_journalline" in sql) is reads_lines
