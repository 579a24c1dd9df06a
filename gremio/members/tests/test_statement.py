"""The member statement's sources: what the statement asks a module that bills, and without one.

These tests stand in for the finance module with small sources of their own
(the finance source itself is tested in ``gremio/finance/tests/test_statement.py``);
the registered sources are put back after each test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from gremio.core.reports import Period, get_report, run_report
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members import statement
from gremio.members.statement import StatementPart, StatementSource, StatementTotals

from .factories import (
    CompanyFactory,
    MembershipFactory,
    MembershipPlanFactory,
    ServiceDeliveryFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
Y2025 = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


@pytest.fixture
def no_sources() -> Iterator[list[StatementSource]]:
    """No source registered (as without finance); the test may register its own."""
    removed = [statement.unregister_statement_source(s.key) for s in statement.statement_sources()]
    yield [source for source in removed if source is not None]
    for registered in statement.statement_sources():
        statement.unregister_statement_source(registered.key)
    for source in removed:
        if source is not None:
            statement.register_statement_source(source)


@pytest.fixture
def world() -> SimpleNamespace:
    org = OrganisationFactory.create(slug="stmt", language="en")
    w = SimpleNamespace(org=org, admin=member_of(org, "admin", email="admin@stmt.example"))
    w.company = CompanyFactory.create(organisation=org, trade_name="Alfa")
    plan = MembershipPlanFactory.create(organisation=org, fee=D("3650.00"))
    w.membership = MembershipFactory.create(
        organisation=org,
        company=w.company,
        plan=plan,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
    )
    w.delivery = ServiceDeliveryFactory.create(
        organisation=org, company=w.company, date=dt.date(2025, 3, 1), hours=D("1.50")
    )
    ServiceDeliveryFactory.create(
        organisation=org, company=w.company, date=dt.date(2025, 4, 1), hours=D("0.50")
    )
    return w


def run(w: SimpleNamespace) -> Any:
    report = get_report("members.statement")
    assert report is not None
    return run_report(report, organisation=w.org, period=Y2025, params={"company": w.company})


def stub(key: str, amount: str, *, order: int = 100, asked: list[Any] | None = None) -> Any:
    def lines(*, organisation: Any, company: Any, start: dt.date, end: dt.date) -> StatementPart:
        if asked is not None:
            asked.append((organisation.slug, company.pk, start, end))
        value = D(amount)
        return StatementPart(
            rows=[
                {
                    "date": start,
                    "kind": "Invoice",
                    "reference": f"{key}-1",
                    "concept": "Cuota",
                    "invoiced": value,
                    "paid": value,
                    "balance": D("0.00"),
                    "state": "Paid",
                    "document": 7,
                },
                {"date": end, "kind": "Payment", "reference": f"{key}-P", "received": value},
            ],
            totals=StatementTotals(
                invoiced=value, invoices_paid=value, balance=D("0.00"), received=value
            ),
        )

    def links(organisation: Any, row: dict[str, Any]) -> dict[str, str]:
        return {"reference": f"/{organisation.slug}/{key}/{row.get('document', 'p')}/"}

    return StatementSource(key=key, lines=lines, links=links, order=order)


def test_without_a_source_dues_are_prorated(world: SimpleNamespace, no_sources: Any) -> None:
    result = run(world)
    assert [c.key for c in result.data.columns][-1] == "dues"
    dues = [row for row in result.data.rows if "membership_id" in row]
    assert [(row["days"], row["dues"]) for row in dues] == [(365, D("3650.00"))]
    assert {f.key for f in result.data.summary} == {"services", "hours", "dues", "dues_per_service"}
    assert result.data.summary[-1].value == D("1825.00")


def test_a_source_fills_the_billed_side(world: SimpleNamespace, no_sources: Any) -> None:
    asked: list[Any] = []
    statement.register_statement_source(stub("fin", "1160.00", asked=asked))
    result = run(world)
    # Asked for the period and the previous one, for this organisation and company.
    assert asked == [
        ("stmt", world.company.pk, dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("stmt", world.company.pk, dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ]
    rows = result.data.rows
    assert [(row["kind"], row.get("reference"), row.get("source")) for row in rows] == [
        ("Invoice", "fin-1", "fin"),
        ("Payment", "fin-P", "fin"),
        ("Service", None, None),
        ("Service", None, None),
    ]
    assert not any("membership_id" in row for row in rows)  # nothing prorated
    assert [c.key for c in result.data.columns] == [
        "date",
        "kind",
        "reference",
        "concept",
        "hours",
        "satisfaction",
        "invoiced",
        "paid",
        "balance",
        "received",
        "state",
    ]
    total = result.data.total or {}
    assert (total["hours"], total["invoiced"], total["paid"], total["received"]) == (
        D("2.00"),
        D("1160.00"),
        D("1160.00"),
        D("1160.00"),
    )
    assert {f.key: f.value for f in result.data.summary} == {
        "services": 2,
        "hours": D("2.00"),
        "invoiced": D("1160.00"),
        "paid": D("1160.00"),
        "balance": D("0.00"),
        "invoiced_per_service": D("580.00"),
    }
    # Each row's links come from its own source; the services keep theirs.
    assert result.row_links(rows[0]) == {"reference": "/stmt/fin/7/"}
    assert result.row_links(rows[1]) == {"reference": "/stmt/fin/p/"}
    assert result.row_links(rows[2]) == {
        "concept": f"/stmt/members/deliveries/{world.delivery.pk}/"
    }
    assert "hours" in result.row_links(total)


def test_sources_are_asked_in_order_and_add_up(world: SimpleNamespace, no_sources: Any) -> None:
    statement.register_statement_source(stub("second", "10.00", order=20))
    statement.register_statement_source(stub("first", "5.00", order=10))
    result = run(world)
    assert [row.get("reference") for row in result.data.rows][:4] == [
        "first-1",
        "first-P",
        "second-1",
        "second-P",
    ]
    assert (result.data.total or {})["invoiced"] == D("15.00")
    statement.unregister_statement_source("second")
    assert [s.key for s in statement.statement_sources()] == ["first"]


def test_the_page_shows_a_sources_rows_with_their_links(
    world: SimpleNamespace, no_sources: Any, client: Any
) -> None:
    statement.register_statement_source(stub("fin", "1160.00"))
    client.force_login(world.admin)
    url = f"/stmt/members/companies/{world.company.pk}/statement/"
    html = client.get(url, YEAR).content.decode()
    assert 'href="/stmt/fin/7/">fin-1</a>' in html
    assert "Invoiced in the period" in html and "Dues in the period" not in html
    csv = client.get(url, {**YEAR, "export": "csv"}).content.decode().splitlines()
    assert csv[0].startswith("Date,Kind,Reference,Concept,Hours,Satisfaction,Invoiced")
    assert csv[1].startswith("2025-01-01,Invoice,fin-1,Cuota,,,1160.00,1160.00,0.00,,Paid")
