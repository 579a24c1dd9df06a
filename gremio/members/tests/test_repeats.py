"""Each delivery keeps its company's previous one (repeats.py), and the services reports count
the companies served from them: the same figures as counting distinct companies.

Random sequences of recording, editing (date, company, service) and
deleting deliveries, through the services the pages and the API use; after
them, every delivery's kept dates equal those recomputed from scratch, and
every count of companies in the services report equals a count of distinct
companies made here in Python, for periods that do not start on a month.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gremio.core.tests.factories import OrganisationFactory
from gremio.members import reports, services
from gremio.members.models import ServiceDelivery

from .factories import ChamberFactory, CompanyFactory, ServiceFactory

pytestmark = pytest.mark.django_db

FIRST = dt.date(2025, 1, 1)
DAYS = 120  # deliveries fall in four months, several on one day
counter = itertools.count()


def expected_before(rows: list[ServiceDelivery]) -> dict[int, tuple[Any, Any]]:
    """(company_before, service_before) of every delivery, from all of them."""
    found = {}
    ordered = sorted(rows, key=lambda d: (d.date, d.pk))
    for delivery in ordered:
        earlier = [d for d in ordered if (d.date, d.pk) < (delivery.date, delivery.pk)]
        same = [d for d in earlier if d.company_id == delivery.company_id]
        service = [d for d in same if d.service_id == delivery.service_id]
        found[delivery.pk] = (
            same[-1].date if same else None,
            service[-1].date if service else None,
        )
    return found


def distinct(rows: list[ServiceDelivery], start: dt.date, end: dt.date, key: Any) -> dict:
    companies: dict[Any, set[int]] = {}
    for delivery in rows:
        if start <= delivery.date <= end:
            companies.setdefault(key(delivery), set()).add(delivery.company_id)
    return {group: len(members) for group, members in companies.items()}


# (what, which company or delivery, which company or service, day): two companies and two
# services, so that deliveries share a company or a service often.
def total(report: Any) -> int:
    assert report.total is not None
    return int(report.total["companies"])


operation = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 1), st.integers(0, 1), st.integers(0, DAYS)),
    st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, 1), st.integers(0, DAYS)),
    st.tuples(st.just("service"), st.integers(0, 9), st.integers(0, 1), st.just(0)),
    st.tuples(st.just("delete"), st.integers(0, 9), st.just(0), st.just(0)),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    operations=st.lists(operation, min_size=3, max_size=14),
    start=st.integers(0, DAYS),
    length=st.integers(0, DAYS),
)
# The first delivery of a company deleted: the next one becomes its first.
@example(operations=[("add", 0, 0, 5), ("add", 0, 0, 9), ("delete", 0, 0, 0)], start=0, length=9)
# Moved to another company, before that company's deliveries.
@example(operations=[("add", 0, 0, 5), ("add", 1, 1, 9), ("move", 0, 1, 1)], start=2, length=30)
def test_kept_dates_and_company_counts_follow_every_change(
    operations: list[tuple[str, int, int, int]], start: int, length: int
) -> None:
    org = OrganisationFactory.create(slug=f"rep{next(counter)}")
    chamber = ChamberFactory.create(organisation=org)
    companies = [
        CompanyFactory.create(organisation=org, chamber=chamber if i else None) for i in range(2)
    ]
    offered = [ServiceFactory.create(organisation=org) for _ in range(2)]
    for kind, which, other, days in operations:
        existing = list(ServiceDelivery.objects.filter(organisation=org).order_by("pk"))
        if kind == "add":
            services.delivery_save(
                delivery=ServiceDelivery(
                    organisation=org,
                    company=companies[which],
                    service=offered[other],
                    date=FIRST + dt.timedelta(days=days),
                )
            )
        elif existing:
            delivery = existing[which % len(existing)]
            if kind == "delete":
                services.delivery_delete(delivery=delivery)
            elif kind == "move":
                delivery.company = companies[other]
                delivery.date = FIRST + dt.timedelta(days=days)
                services.delivery_save(delivery=delivery)
            else:
                delivery.service = offered[other]
                services.delivery_save(delivery=delivery)
        rows = list(ServiceDelivery.objects.filter(organisation=org))
        kept = {d.pk: (d.company_before, d.service_before) for d in rows}
        assert kept == expected_before(rows), (kind, which, other, days)

    first = FIRST + dt.timedelta(days=start)
    last = first + dt.timedelta(days=length)
    by_service = reports.services_delivered(organisation=org, start=first, end=last, by="service")
    assert {r["service_id"]: r["companies"] for r in by_service.rows} == distinct(
        rows, first, last, lambda d: d.service_id
    )
    served = distinct(rows, first, last, lambda d: "all").get("all", 0)
    assert total(by_service) == served
    by_chamber = reports.services_delivered(organisation=org, start=first, end=last, by="chamber")
    assert {r["chamber_id"]: r["companies"] for r in by_chamber.rows} == distinct(
        rows, first, last, lambda d: d.company.chamber_id
    )
    assert total(by_chamber) == served
    by_month = reports.services_delivered(organisation=org, start=first, end=last, by="month")
    assert {r["month"]: r["companies"] for r in by_month.rows if r["companies"]} == distinct(
        rows, first, last, lambda d: d.date.replace(day=1)
    )
    assert total(by_month) == served


def test_rebuild_recomputes_what_was_written_by_hand() -> None:
    """Deliveries written without the services (a bulk load) get their dates from a rebuild."""
    org = OrganisationFactory.create(slug="rebuilt")
    company = CompanyFactory.create(organisation=org)
    legal, training = ServiceFactory.create_batch(2, organisation=org)
    days = ("2025-03-01", "2025-01-01", "2025-02-01", "2025-02-01")
    ServiceDelivery.objects.bulk_create(
        ServiceDelivery(
            organisation=org,
            company=company,
            service=legal if n % 2 else training,
            date=dt.date.fromisoformat(on),
        )
        for n, on in enumerate(days)
    )
    out = io.StringIO()
    call_command("members_rebuild", "--org", org.slug, stdout=out)
    assert "3 services delivered updated" in out.getvalue()
    rows = list(ServiceDelivery.objects.filter(organisation=org).order_by("date", "pk"))
    assert [(str(d.date), d.company_before, d.service_before) for d in rows] == [
        ("2025-01-01", None, None),
        ("2025-02-01", dt.date(2025, 1, 1), None),
        ("2025-02-01", dt.date(2025, 2, 1), dt.date(2025, 1, 1)),
        ("2025-03-01", dt.date(2025, 2, 1), dt.date(2025, 2, 1)),
    ]
    report = reports.services_delivered(
        organisation=org, start=dt.date(2025, 2, 1), end=dt.date(2025, 3, 31), by="service"
    )
    assert sorted(r["companies"] for r in report.rows) == [1, 1]
    assert total(report) == 1
