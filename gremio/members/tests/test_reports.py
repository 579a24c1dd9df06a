"""The members reports: exact figures on small hand-built data, and every way to reach them.

The data is written out below; each expected figure can be checked by hand
against it. The period is 2025 (today's date does not matter: it is past).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gremio.core.reports import Period, get_report, run_report
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members import reports, services
from gremio.members import statement as statement_sources
from gremio.members.models import Membership, Sector

from .factories import (
    ChamberFactory,
    CompanyFactory,
    MembershipFactory,
    MembershipPlanFactory,
    ServiceDeliveryFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
Y2025 = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def world() -> SimpleNamespace:
    """Two services, two chambers, five companies, and their deliveries and memberships.

    company  sector  chamber     status   deliveries in 2025 (service, date, hours, score)
    A        334     CANIETI     active   legal 01-10 2.00 5; legal 02-15 1.50 4
    B        332     CANIETI     grace    legal 02-20 3.00 –; training 12-31 0.50 5
    C        236     –           active   training 03-05 4.25 3
    D        –       CANACINTRA  lapsed   training 03-06 1.00 1
    E        334     –           active   (none)
    Also: A legal 2024-06-01 1.00 2 (previous period), A legal 2026-01-01 (after),
    and another organisation's delivery in 2025.
    """
    org = OrganisationFactory.create(slug="rep", language="en")
    other = OrganisationFactory.create(slug="rep-other")
    w = SimpleNamespace(org=org, other=other)
    w.admin = member_of(org, "admin", email="admin@rep.example")
    w.viewer = member_of(org, "viewer", email="viewer@rep.example")
    w.outsider = member_of(other, "admin", email="admin@rep-other.example")
    w.legal = ServiceFactory.create(organisation=org, name="Asesoría legal")
    w.training = ServiceFactory.create(organisation=org, name="Capacitación", category="training")
    w.canieti = ChamberFactory.create(
        organisation=org, name="Cámara de la Electrónica", acronym="CANIETI"
    )
    w.canacintra = ChamberFactory.create(
        organisation=org, name="Cámara de la Transformación", acronym="CANACINTRA"
    )
    s334, s332, s236 = (Sector.objects.get(code=c) for c in ("334", "332", "236"))
    w.manufacturing, w.construction = s334.parent, s236.parent

    def company(name: str, **kwargs: Any) -> Any:
        return CompanyFactory.create(organisation=org, legal_name=name, trade_name=name, **kwargs)

    w.a = company("A", sector=s334, chamber=w.canieti, membership_status="active")
    w.b = company("B", sector=s332, chamber=w.canieti, membership_status="grace")
    w.c = company("C", sector=s236, membership_status="active")
    w.d = company("D", chamber=w.canacintra, membership_status="lapsed")
    w.e = company("E", sector=s334, membership_status="active")

    def deliver(company: Any, service: Any, on: str, hours: str, score: int | None) -> Any:
        return ServiceDeliveryFactory.create(
            organisation=org,
            company=company,
            service=service,
            date=day(on),
            hours=D(hours),
            satisfaction=score,
        )

    deliver(w.a, w.legal, "2025-01-10", "2.00", 5)
    deliver(w.a, w.legal, "2025-02-15", "1.50", 4)
    deliver(w.b, w.legal, "2025-02-20", "3.00", None)
    deliver(w.c, w.training, "2025-03-05", "4.25", 3)
    deliver(w.d, w.training, "2025-03-06", "1.00", 1)
    deliver(w.b, w.training, "2025-12-31", "0.50", 5)
    deliver(w.a, w.legal, "2024-06-01", "1.00", 2)
    deliver(w.a, w.legal, "2026-01-01", "9.00", 1)
    ServiceDeliveryFactory.create(organisation=other, date=day("2025-05-05"), hours=D("7.00"))
    return w


def run(key: str, organisation: Any, period: Period = Y2025, **params: Any) -> Any:
    report = get_report(key)
    assert report is not None
    return run_report(report, organisation=organisation, period=period, params=params)


def pick(rows: list[Any], *names: str) -> list[tuple[Any, ...]]:
    return [tuple(row[n] for n in names) for row in rows]


FIGURES = ("label", "deliveries", "companies", "hours", "satisfaction")


# a. Services delivered -------------------------------------------------------------------


def test_services_delivered_by_service(world: SimpleNamespace) -> None:
    result = run("members.services_delivered", world.org, by="service")
    assert pick(result.data.rows, *FIGURES) == [
        ("Asesoría legal", 3, 2, D("6.50"), D("4.50")),
        ("Capacitación", 3, 3, D("5.75"), D("3.00")),
    ]
    assert pick([result.data.total], *FIGURES) == [("Total", 6, 4, D("12.25"), D("3.60"))]


def test_services_delivered_is_compared_with_the_previous_year(world: SimpleNamespace) -> None:
    result = run("members.services_delivered", world.org, by="service")
    assert result.previous_period == Period(day("2024-01-01"), day("2024-12-31"))
    legal, training = result.data.rows
    assert pick([result.previous_row(legal)], *FIGURES) == [
        ("Asesoría legal", 1, 1, D("1.00"), D("2.00"))
    ]
    assert result.previous_row(training) is None  # no training in 2024
    assert (result.previous_row(result.data.total) or {})["deliveries"] == 1


def test_services_delivered_by_sector_groups_subsectors_under_their_sector(
    world: SimpleNamespace,
) -> None:
    result = run("members.services_delivered", world.org, by="sector")
    assert pick(result.data.rows, *FIGURES) == [
        (str(world.construction), 1, 1, D("4.25"), D("3.00")),
        (str(world.manufacturing), 4, 2, D("7.00"), D("4.67")),  # A and B: 14/3 rounded up
        ("No sector", 1, 1, D("1.00"), D("1.00")),
    ]


def test_services_delivered_by_chamber(world: SimpleNamespace) -> None:
    result = run("members.services_delivered", world.org, by="chamber")
    assert pick(result.data.rows, *FIGURES) == [
        ("CANIETI", 4, 2, D("7.00"), D("4.67")),
        ("CANACINTRA", 1, 1, D("1.00"), D("1.00")),
        ("No chamber", 1, 1, D("4.25"), D("3.00")),
    ]


def test_services_delivered_by_month_has_every_month(world: SimpleNamespace) -> None:
    result = run("members.services_delivered", world.org, by="month")
    counts = [row["deliveries"] for row in result.data.rows]
    assert counts == [1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert result.data.rows[1]["label"] == "February 2025"
    assert result.data.rows[1]["hours"] == D("4.50")
    assert result.data.rows[3]["satisfaction"] is None
    # Months are compared by position: January with January of the year before.
    assert (result.previous_row(result.data.rows[5]) or {})["deliveries"] == 1  # June 2024


def test_drill_down_links_open_the_records_behind_the_figure(
    world: SimpleNamespace, client: Any
) -> None:
    client.force_login(world.admin)
    for by, row_index, expected in (
        ("service", 0, 3),  # legal: A, A, B
        ("sector", 1, 4),  # manufacturing
        ("chamber", 1, 1),  # CANACINTRA
        ("month", 1, 2),  # February
    ):
        result = run("members.services_delivered", world.org, by=by)
        links = result.row_links(result.data.rows[row_index])
        response = client.get(links["deliveries"])
        assert response.status_code == 200, (by, links["deliveries"])
        assert len(response.context["table"].rows) == expected, by
    companies = run("members.services_delivered", world.org, by="sector")
    link = companies.row_links(companies.data.rows[1])["companies"]
    response = client.get(link)
    assert {r.record.legal_name for r in response.context["table"].rows} == {"A", "B"}


# b. Members served -----------------------------------------------------------------------


def test_share_of_members_served(world: SimpleNamespace) -> None:
    result = run("members.members_served", world.org)
    # Members: A, B (grace), C, E; D has lapsed. Served in 2025: A, B, C.
    assert pick(result.data.rows, "members", "served", "unserved", "share") == [
        (4, 3, 1, D("75.0"))
    ]
    assert (result.previous_row(result.data.rows[0]) or {})["share"] == D("25.0")  # only A in 2024
    assert {f.key: f.value for f in result.data.summary}["share"] == D("75.0")


def test_members_served_by_chamber(world: SimpleNamespace) -> None:
    result = run("members.members_served", world.org, by="chamber")
    assert pick(result.data.rows, "label", "members", "served", "unserved") == [
        ("CANIETI", 2, 2, 0),
        ("No chamber", 2, 1, 1),
    ]
    assert pick([result.data.total], "members", "served", "share") == [(4, 3, D("75.0"))]


def test_unserved_members_drill_down_lists_them(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    result = run("members.members_served", world.org)
    links = result.row_links(result.data.rows[0])
    unserved = client.get(links["unserved"])
    assert [r.record.legal_name for r in unserved.context["table"].rows] == ["E"]
    served = client.get(links["served"])
    assert {r.record.legal_name for r in served.context["table"].rows} == {"A", "B", "C"}


# c. Satisfaction --------------------------------------------------------------------------


def test_satisfaction_distribution_and_average(world: SimpleNamespace) -> None:
    result = run("members.satisfaction", world.org)
    names = ("label", "s1", "s2", "s3", "s4", "s5", "rated", "unrated", "average", "satisfied")
    assert pick(result.data.rows, *names) == [
        ("Asesoría legal", 0, 0, 0, 1, 1, 2, 1, D("4.50"), D("100.0")),
        ("Capacitación", 1, 0, 1, 0, 1, 3, 0, D("3.00"), D("33.3")),
    ]
    assert pick([result.data.total], *names[1:]) == [(1, 0, 1, 1, 2, 5, 1, D("3.60"), D("60.0"))]


def test_satisfaction_links_to_the_deliveries_rated_so(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    result = run("members.satisfaction", world.org)
    link = result.row_links(result.data.rows[1])["s5"]  # training rated 5: B on 31 Dec
    assert parse_qs(urlsplit(link).query)["satisfaction"] == ["5"]
    rows = client.get(link).context["table"].rows
    assert [r.record.date for r in rows] == [day("2025-12-31")]


# d. Members gained, renewed, lapsed, resigned ------------------------------------------------


@pytest.fixture
def movements() -> SimpleNamespace:
    """Memberships around the first half of 2025; plans with 30 and with 0 grace days.

    P  30  2024-01-01..2024-12-31, then 2025-01-15..       renewed in January
    Q  30  2024-02-01..2025-01-31, nothing after           lapsed 2025-03-02 (March)
    R  30  2025-02-10..                                    gained in February (first one)
    S  30  2023-01-01..2023-12-31, then 2025-03-01..       gained in March (after a gap)
    T  30  2024-06-01..2025-05-31, resigned 2025-04-10     resigned in April
    U   0  2024-05-01..2025-04-30, nothing after           lapsed 2025-04-30 (April)
    V   0  2024-03-01..2025-02-28, then 2025-03-01..       renewed in March
    W   0  2024-03-01..2025-02-28, then 2025-03-02..       lapsed in February, gained in March
    """
    org = OrganisationFactory.create(slug="moves", language="en")
    w = SimpleNamespace(org=org, admin=member_of(org, "admin", email="admin@moves.example"))
    plan30 = MembershipPlanFactory.create(organisation=org, grace_days=30)
    plan0 = MembershipPlanFactory.create(organisation=org, grace_days=0)

    def membership(company: Any, plan: Any, start: str, end: str, **kwargs: Any) -> Any:
        return MembershipFactory.create(
            organisation=org, company=company, plan=plan, start=day(start), end=day(end), **kwargs
        )

    p, q, r, s, t, u, v, x = (CompanyFactory.create(organisation=org) for _ in range(8))
    membership(p, plan30, "2024-01-01", "2024-12-31")
    membership(p, plan30, "2025-01-15", "2026-01-14")
    membership(q, plan30, "2024-02-01", "2025-01-31")
    membership(r, plan30, "2025-02-10", "2026-02-09")
    membership(s, plan30, "2023-01-01", "2023-12-31")
    membership(s, plan30, "2025-03-01", "2026-02-28")
    membership(t, plan30, "2024-06-01", "2025-05-31", resigned_on=day("2025-04-10"))
    membership(u, plan0, "2024-05-01", "2025-04-30")
    membership(v, plan0, "2024-03-01", "2025-02-28")
    membership(v, plan0, "2025-03-01", "2026-02-28")
    membership(x, plan0, "2024-03-01", "2025-02-28")
    membership(x, plan0, "2025-03-02", "2026-03-01")
    # Another organisation's lapse in the same months must not count.
    MembershipFactory.create(start=day("2024-02-01"), end=day("2025-01-31"))
    return w


H1 = Period(day("2025-01-01"), day("2025-06-30"))
MOVEMENT_FIGURES = (
    "members_start",
    "gained",
    "renewed",
    "lapsed",
    "resigned",
    "members_end",
    "retention",
    "churn",
)


def test_members_gained_renewed_lapsed_resigned_per_month(movements: SimpleNamespace) -> None:
    data = reports.membership_movements(
        organisation=movements.org, start=H1.start, end=H1.end, today=day("2025-12-01")
    )
    assert [row["label"] for row in data.rows][:2] == ["January 2025", "February 2025"]
    assert pick(data.rows, *MOVEMENT_FIGURES) == [
        (6, 0, 1, 0, 0, 6, D("100.0"), D("0.0")),
        (6, 1, 0, 1, 0, 7, D("0.0"), D("16.7")),
        (7, 2, 1, 1, 0, 7, D("50.0"), D("14.3")),
        (7, 0, 0, 1, 1, 6, D("0.0"), D("28.6")),
        (5, 0, 0, 0, 0, 5, None, D("0.0")),
        (5, 0, 0, 0, 0, 5, None, D("0.0")),
    ]
    assert pick([data.total], *MOVEMENT_FIGURES) == [(6, 3, 2, 3, 1, 5, D("33.3"), D("66.7"))]


def test_movements_per_quarter(movements: SimpleNamespace) -> None:
    data = reports.membership_movements(
        organisation=movements.org,
        start=H1.start,
        end=H1.end,
        interval="quarter",
        today=day("2025-12-01"),
    )
    assert pick(data.rows, "label", "gained", "renewed", "lapsed", "resigned") == [
        ("Q1 2025", 3, 2, 2, 0),
        ("Q2 2025", 0, 0, 1, 1),
    ]


def test_nothing_is_counted_after_today(movements: SimpleNamespace) -> None:
    data = reports.membership_movements(
        organisation=movements.org, start=H1.start, end=H1.end, today=day("2025-03-01")
    )
    # On 1 March: S and V's renewal started today; Q's grace ends tomorrow.
    march = data.rows[2]
    assert (march["gained"], march["renewed"], march["lapsed"]) == (1, 1, 0)
    assert data.rows[3]["members_start"] is None and data.rows[3]["gained"] == 0


def test_movement_drill_down_lists_the_memberships_counted(
    movements: SimpleNamespace, client: Any
) -> None:
    client.force_login(movements.admin)
    result = run("members.membership_movements", movements.org, H1)
    march = result.data.rows[2]
    links = result.row_links(march)
    for movement, expected in (("gained", 2), ("renewed", 1), ("lapsed", 1)):
        response = client.get(links[movement])
        assert response.status_code == 200
        assert len(response.context["table"].rows) == expected, movement
    april = result.row_links(result.data.rows[3])
    assert len(client.get(april["resigned"]).context["table"].rows) == 1


def add_edge_cases(org: Any) -> None:
    plan = MembershipPlanFactory.create(organisation=org, grace_days=30)
    late, early = CompanyFactory.create(organisation=org), CompanyFactory.create(organisation=org)
    # Resigned after its grace had ended: it had lapsed (grace end 2025-01-30), not resigned.
    MembershipFactory.create(
        organisation=org,
        company=late,
        plan=plan,
        start=day("2024-01-01"),
        end=day("2024-12-31"),
        resigned_on=day("2025-03-15"),
    )
    # Renewed early, overlapping: renewed in January, never lapsed, one member a day.
    MembershipFactory.create(
        organisation=org, company=early, plan=plan, start=day("2024-02-01"), end=day("2025-01-31")
    )
    MembershipFactory.create(
        organisation=org, company=early, plan=plan, start=day("2025-01-20"), end=day("2026-01-19")
    )


def test_edge_cases_of_resignation_overlap_and_renewal(movements: SimpleNamespace) -> None:
    org = movements.org
    add_edge_cases(org)
    data = reports.membership_movements(
        organisation=org, start=H1.start, end=H1.end, today=day("2025-12-01")
    )
    january, march = data.rows[0], data.rows[2]
    assert (january["renewed"], january["lapsed"], january["members_end"]) == (2, 1, 7)
    assert (march["resigned"], march["lapsed"]) == (0, 1)


def test_each_count_is_the_list_its_link_opens(movements: SimpleNamespace) -> None:
    add_edge_cases(movements.org)
    today = day("2025-12-01")
    data = reports.membership_movements(
        organisation=movements.org, start=H1.start, end=H1.end, today=today
    )
    for row in data.rows:
        for movement, _label in reports.MOVEMENTS:
            condition = reports.movement_condition(
                movement, first=row["period_start"], last=row["period_end"]
            )
            companies = (
                Membership.objects.filter(organisation=movements.org)
                .filter(condition)
                .values("company")
                .distinct()
                .count()
            )
            assert companies == row[movement], (row["label"], movement)


def test_movement_fields_follow_every_change_through_the_services(world: SimpleNamespace) -> None:
    org = world.org
    plan = MembershipPlanFactory.create(organisation=org, grace_days=30)
    company = CompanyFactory.create(organisation=org)
    first = services.membership_save(
        membership=Membership(
            organisation=org, company=company, plan=plan, start=day("2024-01-01")
        ),
        day=day("2025-06-01"),
    )
    first.refresh_from_db()
    assert (first.renews, first.left_as, first.left_on, first.run_until) == (
        False,
        "lapsed",
        day("2025-01-30"),
        day("2025-01-30"),
    )
    renewal = services.membership_renew(membership=first, day=day("2025-06-01"))
    first.refresh_from_db()
    renewal.refresh_from_db()
    assert (first.left_as, first.left_on, first.run_until) == ("", None, day("2026-01-30"))
    assert (renewal.renews, renewal.run_until) == (True, None)
    services.membership_delete(membership=renewal)
    first.refresh_from_db()
    assert (first.left_as, first.left_on) == ("lapsed", day("2025-01-30"))
    other = CompanyFactory.create(organisation=org)
    first.company = other
    services.membership_save(membership=first, day=day("2025-06-01"))
    company.refresh_from_db()
    assert company.membership_status == ""
    first.company = company
    services.membership_save(membership=first, day=day("2025-06-01"))
    plan.grace_days = 0
    services.plan_save(plan=plan)
    first.refresh_from_db()
    assert (first.left_on, first.run_until) == (day("2024-12-31"), day("2024-12-31"))


def test_rebuilding_the_movement_fields_gives_the_same_report(movements: SimpleNamespace) -> None:
    add_edge_cases(movements.org)
    before = reports.membership_movements(
        organisation=movements.org, start=H1.start, end=H1.end, today=day("2025-12-01")
    )
    Membership.objects.update(renews=False, left_as="", left_on=None, run_until=None)
    out = io.StringIO()
    call_command("members_rebuild", "--org", movements.org.slug, stdout=out)
    assert int(out.getvalue().split()[0]) > 0
    after = reports.membership_movements(
        organisation=movements.org, start=H1.start, end=H1.end, today=day("2025-12-01")
    )
    assert pick(after.rows, *MOVEMENT_FIGURES) == pick(before.rows, *MOVEMENT_FIGURES)


# e. Member statement ---------------------------------------------------------------------------


@pytest.fixture
def no_statement_sources() -> Iterator[None]:
    """The statement as without the finance module: no source registered, dues prorated."""
    removed = [
        statement_sources.unregister_statement_source(s.key)
        for s in statement_sources.statement_sources()
    ]
    yield
    for source in removed:
        if source is not None:
            statement_sources.register_statement_source(source)


@pytest.fixture
def statement(world: SimpleNamespace, no_statement_sources: None) -> SimpleNamespace:
    """A's two memberships overlap 2025: 181 days of one, 184 of the next."""
    plan = MembershipPlanFactory.create(organisation=world.org, fee=D("10000.00"))
    world.m1 = MembershipFactory.create(
        organisation=world.org,
        company=world.a,
        plan=plan,
        start=day("2024-07-01"),
        end=day("2025-06-30"),
    )
    world.m2 = MembershipFactory.create(
        organisation=world.org,
        company=world.a,
        plan=plan,
        start=day("2025-07-01"),
        end=day("2026-06-30"),
        fee=D("12345.67"),
    )
    return world


def test_statement_prorates_dues_by_days_to_the_centavo(statement: SimpleNamespace) -> None:
    result = run("members.statement", statement.org, company=statement.a)
    dues = [r for r in result.data.rows if "membership_id" in r]
    # 10,000.00 × 181/365 = 4,958.904… and 12,345.67 × 184/365 = 6,223.570…
    assert pick(dues, "days", "term_days", "fee", "dues") == [
        (181, 365, D("10000.00"), D("4958.90")),
        (184, 365, D("12345.67"), D("6223.57")),
    ]
    services = [r for r in result.data.rows if "delivery_id" in r]
    assert pick(services, "date", "concept", "hours") == [
        (day("2025-01-10"), "Asesoría legal", D("2.00")),
        (day("2025-02-15"), "Asesoría legal", D("1.50")),
    ]
    summary = {f.key: f.value for f in result.data.summary}
    assert summary == {
        "services": 2,
        "hours": D("3.50"),
        "dues": D("11182.47"),
        "dues_per_service": D("5591.24"),  # 5,591.235 rounded half-up
    }
    assert (result.data.total or {})["dues"] == D("11182.47")
    # 2024: 184 days of the first membership, one service.
    assert result.previous_figure("dues") == D("5041.10")
    assert result.previous_figure("services") == 1


def test_statement_rounds_half_up(world: SimpleNamespace, no_statement_sources: None) -> None:
    plan = MembershipPlanFactory.create(organisation=world.org, fee=D("100.01"))
    MembershipFactory.create(
        organisation=world.org,
        company=world.e,
        plan=plan,
        start=day("2025-03-01"),
        end=day("2025-03-02"),
    )
    data = reports.member_statement(
        organisation=world.org, start=day("2025-03-01"), end=day("2025-03-01"), company=world.e
    )
    assert (data.total or {})["dues"] == D("50.01")  # 50.005: half-up, not to even


def test_statement_page_and_panel(statement: SimpleNamespace, client: Any) -> None:
    client.force_login(statement.admin)
    company_page = client.get(f"/rep/members/companies/{statement.a.pk}/")
    url = f"/rep/members/companies/{statement.a.pk}/statement/"
    assert f'href="{url}?preset=this_year"' in company_page.content.decode()
    response = client.get(url, YEAR)
    assert response.status_code == 200
    html = response.content.decode()
    assert "11,182.47" in html and "4,958.90" in html
    assert f"/rep/members/memberships/{statement.m1.pk}/" in html


def test_statement_of_another_organisations_company_is_404(
    statement: SimpleNamespace, client: Any
) -> None:
    foreign = CompanyFactory.create(organisation=statement.other)
    client.force_login(statement.admin)
    assert client.get(f"/rep/members/companies/{foreign.pk}/statement/").status_code == 404
    api = f"/api/v1/rep/reports/members.statement/{foreign.pk}/"
    assert client.get(api).status_code == 404
    own = client.get(f"/api/v1/rep/reports/members.statement/{statement.a.pk}/", YEAR)
    assert own.status_code == 200
    assert own.json()["summary"]["dues"] == "11182.47"


# Pages ----------------------------------------------------------------------------------------

PAGES = {
    "members.services_delivered": "/rep/members/reports/services-delivered/",
    "members.members_served": "/rep/members/reports/members-served/",
    "members.satisfaction": "/rep/members/reports/satisfaction/",
    "members.membership_movements": "/rep/members/reports/membership-movements/",
}


def test_report_pages_show_figures_comparison_and_chart(
    world: SimpleNamespace, client: Any
) -> None:
    client.force_login(world.admin)
    response = client.get(PAGES["members.services_delivered"], YEAR)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Asesoría legal" in html and "12.25" in html
    assert "compared with Jan. 1, 2024 to Dec. 31, 2024" in html  # previous period
    chart = response.context["chart"]["option"]
    legal = chart["series"][0]["data"][0]
    assert legal["value"] == 3
    assert legal["url"].startswith("/rep/members/deliveries/?service=")
    assert chart["series"][1]["data"][0]["value"] == 1  # the previous period beside it
    assert 'id="report-chart-option"' in html and "vendor/echarts/echarts.min.js" in html
    for path in PAGES.values():
        assert client.get(path).status_code == 200, path


def test_pages_speak_spanish(world: SimpleNamespace, client: Any) -> None:
    from django.conf import settings

    client.force_login(world.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es-mx"
    response = client.get(PAGES["members.services_delivered"], {**YEAR, "by": "month"})
    assert response.status_code == 200
    assert '<html lang="es-mx">' in response.content.decode()
    assert response.context["run"].data.rows[0]["label"] == "Enero de 2025"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2025-12-31", "to": "2025-01-01"}, "to"),
        ({"from": "2025-02-30", "to": "2025-12-31"}, "from"),
        ({"from": "yesterday", "to": "2025-12-31"}, "from"),
        ({"from": "0001-01-01", "to": "0001-01-31"}, "from"),
        ({"from": "2025-01-01"}, "to"),
        ({"from": "1990-01-01", "to": "2025-01-01"}, "to"),
        ({"preset": "next_century"}, "preset"),
        ({"from": "2025-01-01", "to": "2025-12-31", "by": "colour"}, "by"),
    ],
)
def test_bad_period_is_a_field_error_on_page_api_and_cli(
    world: SimpleNamespace, client: Any, query: dict[str, str], field: str
) -> None:
    client.force_login(world.admin)
    page = client.get(PAGES["members.services_delivered"], query)
    assert page.status_code == 200
    assert page.context["form"].errors[field]
    assert f'data-field="{field}"' in page.content.decode()
    api = client.get("/api/v1/rep/reports/members.services_delivered/", query)
    assert api.status_code == 400
    assert field in api.json()
    options = [
        f"--{k}={v}" if k in ("from", "to", "preset") else f"--param={k}={v}"
        for k, v in query.items()
    ]
    with pytest.raises(CommandError, match=field):
        call_command("report", "members.services_delivered", "--org=rep", *options)


def test_presets_choose_the_period(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    response = client.get(PAGES["members.satisfaction"], {"preset": "last_quarter"})
    run_ = response.context["run"]
    assert run_.period.months == 3
    assert run_.previous_period.months == 3
    assert run_.previous_period.end == run_.period.start - dt.timedelta(days=1)


# Exports ------------------------------------------------------------------------------------


def test_csv_export_holds_the_rows_total_and_previous_period(
    world: SimpleNamespace, client: Any
) -> None:
    client.force_login(world.admin)
    response = client.get(PAGES["members.services_delivered"], {**YEAR, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="rep-services-delivered-20250101-20251231.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "Service",
        "Services delivered",
        "Companies served",
        "Hours",
        "Average satisfaction",
        "Services delivered (previous period)",
        "Companies served (previous period)",
        "Hours (previous period)",
        "Average satisfaction (previous period)",
    ]
    assert rows[1:] == [
        ["Asesoría legal", "3", "2", "6.50", "4.50", "1", "1", "1.00", "2.00"],
        ["Capacitación", "3", "3", "5.75", "3.00", "", "", "", ""],
        ["Total", "6", "4", "12.25", "3.60", "1", "1", "1.00", "2.00"],
    ]


def test_xlsx_export_keeps_numbers_as_numbers(statement: SimpleNamespace, client: Any) -> None:
    client.force_login(statement.admin)
    url = f"/rep/members/companies/{statement.a.pk}/statement/"
    response = client.get(url, {**YEAR, "export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Date", "Kind", "Concept")
    assert values[0][-1] == "Dues in the period"
    dues = [row[-1] for row in values[1:3]]
    assert [Decimal(str(v)) for v in dues] == [D("4958.90"), D("6223.57")]
    assert values[-1][2] == "Total" and Decimal(str(values[-1][-1])) == D("11182.47")


def test_export_needs_the_export_permission(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.viewer)
    page = PAGES["members.services_delivered"]
    assert client.get(page, YEAR).status_code == 200
    assert "data-export" not in client.get(page, YEAR).content.decode()
    assert client.get(page, {**YEAR, "export": "csv"}).status_code == 403


# Organisations ---------------------------------------------------------------------------


def test_reports_never_count_another_organisations_rows(world: SimpleNamespace) -> None:
    mine = run("members.services_delivered", world.org).data.total
    theirs = run("members.services_delivered", world.other).data.total
    assert mine["deliveries"] == 6 and mine["hours"] == D("12.25")
    assert theirs["deliveries"] == 1 and theirs["hours"] == D("7.00")


def test_another_organisations_reports_are_404(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.outsider)
    for path in PAGES.values():
        assert client.get(path).status_code == 404, path
        assert client.get(path, {"export": "csv"}).status_code == 404, path
    for key in PAGES:
        assert client.get(f"/api/v1/rep/reports/{key}/").status_code == 404, key
    assert client.get("/api/v1/rep/reports/").status_code == 404
    assert client.get("/api/v1/rep-other/reports/members.services_delivered/").status_code == 200


# API -----------------------------------------------------------------------------------------


def test_api_returns_json_rows(world: SimpleNamespace, client: Any) -> None:
    from gremio.core import services

    _token, key = services.api_token_create(user=world.admin, name="script")
    response = client.get(
        "/api/v1/rep/reports/members.services_delivered/",
        {**YEAR, "by": "chamber", "compare": "1"},
        headers={"Authorization": f"Token {key}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["report"] == "members.services_delivered"
    assert (body["from"], body["to"], body["parameters"]) == (
        "2025-01-01",
        "2025-12-31",
        {"by": "chamber"},
    )
    first = body["rows"][0]
    assert (first["label"], first["deliveries"], first["hours"], first["satisfaction"]) == (
        "CANIETI",
        4,
        "7.00",
        "4.67",
    )
    assert first["chamber_id"] == world.canieti.pk
    assert body["total"]["hours"] == "12.25"
    assert body["previous"]["from"] == "2024-01-01"
    assert [c["key"] for c in body["columns"]][:2] == ["label", "deliveries"]


def test_api_lists_the_reports_a_user_may_run(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.viewer)
    catalogue = client.get("/api/v1/rep/reports/").json()
    keys = [entry["key"] for entry in catalogue]
    assert keys[:2] == ["members.services_delivered", "members.members_served"]
    statement = next(e for e in catalogue if e["key"] == "members.statement")
    assert statement["url"] == "/api/v1/rep/reports/members.statement/{id}/"
    by = next(p for p in catalogue[0]["parameters"] if p["name"] == "by")
    assert by["choices"] == ["service", "sector", "chamber", "month"]


# Command line ------------------------------------------------------------------------------


def test_cli_writes_csv(world: SimpleNamespace) -> None:
    out = io.StringIO()
    call_command(
        "report",
        "members.satisfaction",
        "--org=rep",
        "--from=2025-01-01",
        "--to=2025-12-31",
        "--language=en",
        stdout=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][:3] == ["Service", "Rated 1", "Rated 2"]
    assert rows[1] == ["Asesoría legal", "0", "0", "0", "1", "1", "2", "1", "4.50", "100.0"]
    assert rows[-1][0] == "Total"


def test_cli_writes_json_with_parameters_and_subject(statement: SimpleNamespace) -> None:
    out = io.StringIO()
    call_command(
        "report",
        "members.statement",
        "--org=rep",
        f"--id={statement.a.pk}",
        "--from=2025-01-01",
        "--to=2025-12-31",
        "--format=json",
        "--compare",
        stdout=out,
    )
    body = json.loads(out.getvalue())
    assert body["summary"]["dues"] == "11182.47"
    assert body["previous"]["summary"]["dues"] == "5041.10"
    assert body["parameters"] == {"company": statement.a.pk}


def test_cli_refuses_another_organisations_record(statement: SimpleNamespace) -> None:
    foreign = CompanyFactory.create(organisation=statement.other)
    with pytest.raises(CommandError, match="--id"):
        call_command("report", "members.statement", "--org=rep", f"--id={foreign.pk}")
    with pytest.raises(CommandError, match="No organisation"):
        call_command("report", "members.satisfaction", "--org=nowhere")
    with pytest.raises(CommandError, match="No report"):
        call_command("report", "members.nothing", "--org=rep")


# Query counts --------------------------------------------------------------------------------


def grow(w: SimpleNamespace, times: int) -> None:
    """Many more companies, services, chambers, memberships and deliveries."""
    plan = MembershipPlanFactory.create(organisation=w.org, grace_days=15)
    sectors = list(Sector.objects.filter(parent__isnull=False)[:10])
    for i in range(times):
        chamber = ChamberFactory.create(organisation=w.org)
        service = ServiceFactory.create(organisation=w.org)
        company = CompanyFactory.create(
            organisation=w.org,
            sector=sectors[i % len(sectors)],
            chamber=chamber,
            membership_status="active",
        )
        MembershipFactory.create(
            organisation=w.org,
            company=company,
            plan=plan,
            start=dt.date(2024, 1 + i % 12, 1),
            end=dt.date(2025, 1 + i % 12, 1) - dt.timedelta(days=1),
        )
        for month in (1, 4, 7, 10):
            ServiceDeliveryFactory.create(
                organisation=w.org,
                company=company,
                service=service,
                date=dt.date(2025, month, 1 + i % 28),
                satisfaction=1 + i % 5,
            )


def test_report_pages_ask_as_many_queries_for_more_data(
    statement: SimpleNamespace, client: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(statement.admin)
    pages = (
        [
            (PAGES["members.services_delivered"], {**YEAR, "by": by})
            for by in ("service", "sector", "chamber", "month")
        ]
        + [
            (PAGES["members.members_served"], {**YEAR, "by": by})
            for by in ("all", "chamber", "sector")
        ]
        + [
            (PAGES["members.satisfaction"], YEAR),
            (PAGES["members.membership_movements"], YEAR),
            (PAGES["members.membership_movements"], {**YEAR, "interval": "quarter"}),
            (f"/rep/members/companies/{statement.a.pk}/statement/", YEAR),
            ("/api/v1/rep/reports/members.services_delivered/", {**YEAR, "compare": "1"}),
        ]
    )
    counted = []
    for path, query in pages:
        with CaptureQueriesContext(connection) as small:
            assert client.get(path, query).status_code == 200
        counted.append(len(small))
    grow(statement, 30)
    for (path, query), small_count in zip(pages, counted, strict=True):
        with django_assert_max_num_queries(small_count):
            response = client.get(path, query)
        assert response.status_code == 200
    # And the larger data is really on the page.
    big = client.get(PAGES["members.services_delivered"], {**YEAR, "by": "service"})
    assert len(big.context["run"].data.rows) == 32
