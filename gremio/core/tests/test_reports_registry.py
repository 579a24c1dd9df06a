"""The report registry in core: periods, presets, parameters, permissions, outputs.

A report of core's own (counting strategic pillars) stands in for a module's.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django import forms

from gremio.core import reports
from gremio.core.charts import Series, bar_chart
from gremio.core.models import Pillar
from gremio.core.money import round_money
from gremio.core.reports import (
    INT,
    PERCENT,
    Column,
    Figure,
    Period,
    Report,
    ReportData,
    ReportForm,
    add_months,
    change,
    preset_period,
    run_as_dataset,
    run_as_dict,
    run_report,
)
from gremio.core.tests.factories import OrganisationFactory, PillarFactory, member_of

D = Decimal


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# Periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "previous_start", "previous_end"),
    [
        ("2026-01-01", "2026-12-31", "2025-01-01", "2025-12-31"),  # a year
        ("2024-01-01", "2024-12-31", "2023-01-01", "2023-12-31"),  # a leap year, still a year
        ("2026-04-01", "2026-06-30", "2026-01-01", "2026-03-31"),  # a quarter
        ("2026-03-01", "2026-03-31", "2026-02-01", "2026-02-28"),  # a month, shorter before
        ("2025-12-05", "2026-12-04", "2024-12-05", "2025-12-04"),  # twelve months to a day
        ("2026-03-10", "2026-03-20", "2026-02-27", "2026-03-09"),  # eleven days
        ("2026-05-07", "2026-05-07", "2026-05-06", "2026-05-06"),  # one day
    ],
)
def test_previous_period_has_the_same_length(
    start: str, end: str, previous_start: str, previous_end: str
) -> None:
    period = Period(day(start), day(end))
    assert period.previous() == Period(day(previous_start), day(previous_end))


def test_months_are_clamped_to_the_month_end() -> None:
    assert add_months(day("2026-01-31"), 1) == day("2026-02-28")
    assert add_months(day("2024-03-31"), -1) == day("2024-02-29")
    assert add_months(day("2026-11-15"), 3) == day("2027-02-15")


def test_presets() -> None:
    today = day("2026-08-14")
    assert preset_period("this_year", today) == Period(day("2026-01-01"), day("2026-12-31"))
    assert preset_period("last_year", today) == Period(day("2025-01-01"), day("2025-12-31"))
    assert preset_period("last_12_months", today) == Period(day("2025-08-15"), today)
    assert preset_period("this_quarter", today) == Period(day("2026-07-01"), day("2026-09-30"))
    assert preset_period("last_quarter", today) == Period(day("2026-04-01"), day("2026-06-30"))
    assert preset_period("last_quarter", day("2026-02-01")) == Period(
        day("2025-10-01"), day("2025-12-31")
    )


# Parameters ----------------------------------------------------------------------------------


class ColourForm(ReportForm):
    colour = forms.ChoiceField(choices=[("red", "Red"), ("blue", "Blue")], required=False)


def bind(data: dict[str, str]) -> ColourForm:
    return ColourForm(data, organisation=None, today=day("2026-08-14"))


def test_the_period_defaults_to_this_year_and_a_preset_wins_over_dates() -> None:
    form = bind({})
    assert form.is_valid()
    assert form.period == Period(day("2026-01-01"), day("2026-12-31"))
    form = bind({"preset": "last_year", "from": "2026-03-01", "to": "2026-03-02"})
    assert form.is_valid() and form.period.start == day("2025-01-01")
    form = bind({"from": "2026-03-01", "to": "2026-03-02", "colour": "red"})
    assert form.is_valid() and form.params() == {"colour": "red"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "cannot be before its start"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from", "valid date"),
        ({"to": "2026-03-01"}, "from", "first day"),
        ({"from": "2026-03-01"}, "to", "last day"),
        ({"from": "1899-12-31", "to": "1900-01-31"}, "from", "1900 and 2999"),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "to", "ten years"),
        ({"colour": "green"}, "colour", "valid choice"),
    ],
)
def test_bad_parameters_are_field_errors(data: dict[str, str], field: str, message: str) -> None:
    form = bind(data)
    assert not form.is_valid()
    assert message in " ".join(str(e) for e in form.errors[field])
    assert reports.form_errors(form)[field]


def test_parameters_are_described_for_the_api_and_cli() -> None:
    described = {p["name"]: p for p in ColourForm.describe()}
    assert list(described) == ["from", "to", "preset", "colour"]
    assert described["from"]["type"] == "date"
    assert described["colour"]["choices"] == ["red", "blue"]


# The registry ----------------------------------------------------------------------------------


def count_pillars(*, organisation: Any, start: dt.date, end: dt.date) -> ReportData:
    """Pillars by activity; created dates do not matter for this stand-in."""
    pillars = Pillar.objects.filter(organisation=organisation)
    active = pillars.filter(active=True).count()
    total = pillars.count()
    return ReportData(
        columns=[
            Column("label", "Pillars"),
            Column("count", "Count", INT, compare=True),
            Column("share", "Share", PERCENT),
        ],
        rows=[
            {"key": "active", "label": "Active", "count": active, "share": D("66.7")},
            {"key": "inactive", "label": "Inactive", "count": total - active},
        ],
        total={"label": "Total", "count": total},
        summary=[Figure("count", "Pillars", total)],
    )


@pytest.fixture
def pillar_report() -> Iterator[Report]:
    saved = dict(reports._registry)
    report = reports.register(
        Report(
            key="core.pillars",
            title="Pillars",
            description="How many pillars there are.",
            module="core",
            permission="core.view_pillar",
            selector=count_pillars,
        )
    )
    yield report
    reports._registry.clear()
    reports._registry.update(saved)


def test_a_key_names_its_module() -> None:
    with pytest.raises(ValueError, match="module"):
        reports.register(
            Report("pillars", "P", "", "core", "core.view_pillar", selector=count_pillars)
        )
    with pytest.raises(ValueError, match="module"):
        reports.register(
            Report("members.x", "P", "", "core", "core.view_pillar", selector=count_pillars)
        )


def test_the_members_reports_are_registered() -> None:
    keys = [r.key for r in reports.all_reports() if r.module == "members"]
    assert keys == [
        "members.services_delivered",
        "members.members_served",
        "members.satisfaction",
        "members.membership_movements",
        "members.statement",
    ]


@pytest.mark.django_db
def test_reports_for_asks_each_reports_permission(pillar_report: Report) -> None:
    organisation = OrganisationFactory.create()
    representative = member_of(organisation, "representative")
    staff = member_of(organisation, "staff")
    outsider = member_of(OrganisationFactory.create(), "admin")
    assert pillar_report in reports.reports_for(representative, organisation)
    assert not any(r.module == "members" for r in reports.reports_for(representative, organisation))
    assert {r.key for r in reports.reports_for(staff, organisation, module="members")} >= {
        "members.services_delivered",
        "members.statement",
    }
    assert reports.reports_for(outsider, organisation) == []
    assert pillar_report.export_permission == "core.export_pillar"


@pytest.mark.django_db
def test_run_compares_and_serialises(pillar_report: Report) -> None:
    organisation = OrganisationFactory.create(slug="runs")
    PillarFactory.create_batch(2, organisation=organisation)
    PillarFactory.create(organisation=organisation, active=False)
    run = run_report(
        pillar_report,
        organisation=organisation,
        period=Period(day("2026-01-01"), day("2026-12-31")),
    )
    assert run.previous_period == Period(day("2025-01-01"), day("2025-12-31"))
    assert (run.previous_row(run.data.rows[0]) or {})["count"] == 2
    assert run.previous_figure("count") == 3
    body = run_as_dict(run)
    assert body["rows"][0] == {"key": "active", "label": "Active", "count": 2, "share": "66.7"}
    assert body["summary"] == {"count": 3}
    assert body["previous"]["from"] == "2025-01-01"
    dataset = run_as_dataset(run)
    assert dataset.headers == ["Pillars", "Count", "Share", "Count (previous period)"]
    assert list(dataset[2]) == ["Total", 3, "", 3]


@pytest.mark.django_db
def test_report_list_shows_only_what_the_user_may_see(client: Any, pillar_report: Report) -> None:
    organisation = OrganisationFactory.create(slug="lists", language="en")
    client.force_login(member_of(organisation, "representative"))
    html = client.get("/lists/reports/").content.decode()
    assert 'data-report="core.pillars"' in html
    assert "members.services_delivered" not in html
    client.force_login(member_of(organisation, "viewer"))
    response = client.get("/lists/members/reports/")
    html = response.content.decode()
    assert 'href="/lists/members/reports/services-delivered/"' in html
    assert "core.pillars" not in html  # the members list shows only members' reports
    assert "Open it from the page of each company." in html
    assert 'href="/lists/members/companies/"' in html


@pytest.mark.django_db
def test_report_list_of_another_organisation_is_404(client: Any) -> None:
    OrganisationFactory.create(slug="theirs")
    client.force_login(member_of(OrganisationFactory.create(), "admin"))
    assert client.get("/theirs/reports/").status_code == 404


def test_core_imports_no_module() -> None:
    core = Path(reports.__file__).parent
    for source in core.rglob("*.py"):
        if "tests" in source.parts:
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(
                    ("gremio.members", "gremio.finance", "gremio.insights")
                ), f"{source} imports {name}"


# Small helpers ----------------------------------------------------------------------------------


def test_changes_are_percentages_or_points() -> None:
    assert change(12, 10, INT) == D("20.0")
    assert change(5, 0, INT) is None
    assert change(D("75.0"), D("25.0"), PERCENT) == D("50.0")
    assert change(None, 3, INT) is None
    assert change("A", "B", "text") is None


def test_money_rounds_half_up_once() -> None:
    assert round_money(D("50.005")) == D("50.01")
    assert round_money(D("50.004999")) == D("50.00")
    assert round_money(D("-0.005")) == D("-0.01")
    assert round_money(D("1234.5"), "JPY") == D("1235")


def test_bar_chart_carries_drill_down_urls() -> None:
    chart = bar_chart(
        ["Legal", "Training"],
        [Series("Services", [3, D("1.5")], ["/a/", None])],
        horizontal=True,
    )
    data = chart["option"]["series"][0]["data"]
    assert data == [{"value": 3, "url": "/a/"}, {"value": 1.5}]
    assert chart["option"]["yAxis"]["data"] == ["Legal", "Training"]
    assert chart["height"] >= 260
