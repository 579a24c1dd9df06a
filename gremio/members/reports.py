"""The members module's reports: their selectors and their declarations.

Each selector reads the operational tables with one or a few aggregate
queries (never a query per row), on the indexes of ServiceDelivery
``(organisation, date)``, ``(service, date)`` and ``(company, date)``,
so it stays fast at a million deliveries. Selectors
return plain values; the drill-down links and charts are built beside them
from the same rows, and point at the list filters of the records counted.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from typing import Any

from django import forms
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gremio.core.charts import PREVIOUS_COLOUR, Series, bar_chart
from gremio.core.functions import MonthStart
from gremio.core.money import round_money
from gremio.core.reports import (
    DATE,
    DECIMAL,
    INT,
    MONEY,
    PERCENT,
    Column,
    Figure,
    Report,
    ReportData,
    ReportForm,
    ReportRun,
    add_months,
    month_end,
    register,
)

from . import repeats
from .models import (
    Chamber,
    Company,
    Membership,
    MembershipStatus,
    Sector,
    Service,
    ServiceDelivery,
)
from .movements import Left
from .statement import StatementSource, StatementTotals, get_statement_source, statement_sources

CURRENT = (MembershipStatus.ACTIVE, MembershipStatus.GRACE)
CENT, TENTH = Decimal("0.01"), Decimal("0.1")
DAY = dt.timedelta(days=1)


def _average(score: Any, count: int) -> Decimal | None:
    """Exact mean of integer scores, half-up to two decimals (no float on the way)."""
    if not count:
        return None
    return (Decimal(score) / Decimal(count)).quantize(CENT, rounding=ROUND_HALF_UP)


def _share(part: int, whole: int | None) -> Decimal | None:
    """``part`` as a percentage of ``whole``, half-up to one decimal."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _hours(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _url(organisation: Any, name: str, query: dict[str, Any]) -> str:
    address = reverse(f"members:{name}", kwargs={"org": organisation.slug})
    return f"{address}?{urlencode(query, doseq=True)}"


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def _clip(first: dt.date, last: dt.date, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    return max(first, start), min(last, end)


# a. Services delivered ---------------------------------------------------------------

GROUPINGS = [
    ("service", gettext_lazy("Service")),
    ("sector", gettext_lazy("SCIAN sector")),
    ("chamber", gettext_lazy("Chamber")),
    ("month", gettext_lazy("Month")),
]


class ServicesDeliveredForm(ReportForm):
    by = forms.ChoiceField(label=gettext_lazy("Group by"), choices=GROUPINGS, required=False)

    def clean_by(self) -> str:
        return self.cleaned_data.get("by") or "service"


def _delivery_measures(
    start: dt.date, *, via: str = "", companies: str = "company_before"
) -> dict[str, Any]:
    """What the services reports add up per group, one pass over the period's deliveries.

    ``companies`` counts each company served once, by its first delivery in
    the period (``company_before``; per service, ``service_before``: see
    repeats.py); ``firsts`` counts the companies served in the whole period,
    one row each, so the groups add up to the total. ``via``: the relation
    the deliveries are reached through (from the services).
    """
    path = f"{via}__" if via else ""
    return {
        "deliveries": Count(f"{path}id"),
        "companies": Count(f"{path}id", filter=repeats.before(start, f"{path}{companies}")),
        "firsts": Count(f"{path}id", filter=repeats.before(start, f"{path}company_before")),
        "hours": Sum(f"{path}hours"),
        "rated": Count(f"{path}satisfaction"),
        "score": Sum(f"{path}satisfaction"),
    }


def _delivery_figures(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "deliveries": values["deliveries"],
        "companies": values["companies"],
        "hours": _hours(values["hours"]),
        "satisfaction": _average(values["score"], values["rated"]),
    }


NO_DELIVERIES = {"deliveries": 0, "companies": 0, "hours": None, "rated": 0, "score": None}
MEASURES = ("deliveries", "companies", "firsts", "hours", "rated", "score")


def _per_service(
    *, organisation: Any, start: dt.date, end: dt.date, measures: dict[str, Any]
) -> list[dict[str, Any]]:
    """``measures`` (reaching the deliveries ``via="delivered"``) per service of the period.

    Read service by service, each one's date range on the ``(service, date,
    …)`` index, in the services' order: the period's deliveries are never
    sorted to be grouped. Rows of ``service_id`` and the measures, for the
    services delivered in the period.
    """
    in_period = Q(deliveries__date__gte=start, deliveries__date__lte=end)
    grouped: Any = (  # rows of .values().annotate(): plain dicts
        Service.objects.filter(organisation=organisation)
        .alias(delivered=FilteredRelation("deliveries", condition=in_period))
        .filter(delivered__isnull=False)
        .values("pk")
        .annotate(**measures)
        .order_by()
    )
    return [{"service_id": row.pop("pk"), **row} for row in grouped]


# What a company is grouped by: its SCIAN sector (its subsector's parent) or its chamber.
COMPANY_GROUPS = {
    "sector": "COALESCE(sector.parent_id, company.sector_id)",
    "chamber": "company.chamber_id",
}
COMPANY_GROUP_FIELDS = {
    "sector": Coalesce("company__sector__parent_id", "company__sector_id"),
    "chamber": F("company__chamber_id"),
}


def _by_company_group(deliveries: QuerySet[Any], by: str, start: dt.date) -> list[dict[str, Any]]:
    """The deliveries' measures per sector or chamber of the company served.

    PostgreSQL joins each delivery to its company (one hash join) and counts
    the companies by their first deliveries in the period. SQLite, which
    joins row by row, sums per company first (on the covering index of the
    deliveries, no join) and joins each company once: a group's companies
    are then its rows.
    """
    database = connections[deliveries.db]
    if database.vendor == "postgresql":
        return list(
            deliveries.annotate(group_id=COMPANY_GROUP_FIELDS[by])
            .values("group_id")
            .annotate(**_delivery_measures(start))
            .order_by()
        )
    per_company = (
        deliveries.values("company_id")
        .annotate(
            deliveries=Count("pk"),
            hours=Sum("hours"),
            rated=Count("satisfaction"),
            score=Sum("satisfaction"),
        )
        .order_by()
    )
    inner, params = per_company.query.get_compiler(using=per_company.db).as_sql()
    quote = database.ops.quote_name
    sql = (
        f"SELECT {COMPANY_GROUPS[by]} AS group_id, SUM(served.deliveries), COUNT(*), "
        "SUM(served.hours), SUM(served.rated), SUM(served.score) "
        f"FROM ({inner}) served "
        f"JOIN {quote(Company._meta.db_table)} company ON company.id = served.company_id "
        f"LEFT JOIN {quote(Sector._meta.db_table)} sector ON sector.id = company.sector_id "
        "GROUP BY 1"
    )
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return [
        {
            "group_id": group,
            "deliveries": deliveries,
            "companies": companies,
            "firsts": companies,
            "hours": hours,
            "rated": rated or 0,
            "score": score if rated else None,
        }
        for group, deliveries, companies, hours, rated, score in fetched
    ]


def _served(start: dt.date, end: dt.date) -> Q:
    """Companies served in the period, mostly from their kept last-service date.

    Served when the last service falls in the period; not served when it is
    before (or none); only a company last served after the period is looked
    up in the (company, date) index of its deliveries.
    """
    delivered = ServiceDelivery.objects.filter(
        company=OuterRef("pk"), date__gte=start, date__lte=end
    )
    # The date first: SQLite evaluates the conditions in the order written.
    return Q(last_service_on__gte=start, last_service_on__lte=end) | (
        Q(last_service_on__gt=end) & Q(Exists(delivered))
    )


def _service_names(groups: list[dict[str, Any]]) -> dict[int, str]:
    ids = [g["service_id"] for g in groups]
    return dict(Service.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _sum(groups: Iterable[dict[str, Any]], *names: str) -> dict[str, Any]:
    """Additive measures of the groups, summed (the total line without another pass)."""
    groups = list(groups)
    return {name: sum(g[name] or 0 for g in groups) for name in names}


def services_delivered(
    *, organisation: Any, start: dt.date, end: dt.date, by: str = "service"
) -> ReportData:
    """Services delivered in the period, grouped by service, SCIAN sector, chamber or month.

    Per group: deliveries, distinct companies served, hours and the average
    satisfaction of the rated deliveries. The sector is the parent of the
    company's subsector. One pass over the period's deliveries, grouped,
    which also counts the companies served in the period (by their first
    delivery in it, see repeats.py), so the total adds the groups up. (One
    more query names the services, sectors or chambers.)
    """
    deliveries = ServiceDelivery.objects.filter(
        organisation=organisation, date__gte=start, date__lte=end
    )
    rows: list[dict[str, Any]] = []
    grouped: Any  # rows of .values().annotate(): plain dicts
    if by == "service":
        grouped = _per_service(
            organisation=organisation,
            start=start,
            end=end,
            measures=_delivery_measures(start, via="delivered", companies="service_before"),
        )
        names = _service_names(grouped)
        rows = [
            {
                "key": g["service_id"],
                "service_id": g["service_id"],
                "label": names[g["service_id"]],
                **_delivery_figures(g),
            }
            for g in grouped
        ]
        rows.sort(key=lambda r: (-r["deliveries"], r["label"]))
    elif by == "sector":
        grouped = _by_company_group(deliveries, "sector", start)
        rows = _sector_rows(grouped, _delivery_figures)
    elif by == "chamber":
        grouped = _by_company_group(deliveries, "chamber", start)
        chambers = {
            pk: acronym or name
            for pk, name, acronym in Chamber.objects.filter(
                pk__in=[g["group_id"] for g in grouped if g["group_id"]]
            ).values_list("pk", "name", "acronym")
        }
        rows = [
            {
                "key": g["group_id"],
                "chamber_id": g["group_id"],
                "label": chambers.get(g["group_id"]) or _("No chamber"),
                **_delivery_figures(g),
            }
            for g in grouped
        ]
        rows.sort(key=lambda r: (-r["deliveries"], r["chamber_id"] is None, str(r["label"])))
    elif by == "month":
        # Grouped by day, in the order of the (organisation, date, …) index (no sort), and
        # added up per month here; a month's companies are its companies' first deliveries
        # in that month.
        measures = _delivery_measures(start)
        # (The first month may begin before the period.)
        in_month = repeats.before(start) | repeats.before(MonthStart("date"))
        measures["companies"] = Count("id", filter=in_month)
        grouped = list(deliveries.values("date").annotate(**measures).order_by())
        months: dict[dt.date, dict[str, Any]] = {}
        for day in grouped:
            sums = months.setdefault(day["date"].replace(day=1), dict.fromkeys(MEASURES, 0))
            for name in MEASURES:
                sums[name] += day[name] or 0
        for index, month in enumerate(_months(start, end)):
            rows.append(
                {
                    "key": index,
                    "month": month,
                    "label": date_format(month, "YEAR_MONTH_FORMAT"),
                    **_delivery_figures(months.get(month, NO_DELIVERIES)),
                }
            )
    else:
        raise ValueError(by)
    overall = _sum(grouped, *MEASURES)
    overall["companies"] = overall["firsts"]
    total = {"label": _("Total"), **_delivery_figures(overall)}
    heading = dict(GROUPINGS)[by]
    return ReportData(
        columns=[
            Column("label", heading),
            Column("deliveries", _("Services delivered"), INT, compare=True),
            Column("companies", _("Companies served"), INT, compare=True),
            Column("hours", _("Hours"), DECIMAL, compare=True),
            Column("satisfaction", _("Average satisfaction"), DECIMAL, compare=True),
        ],
        rows=rows,
        total=total,
    )


def services_delivered_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """Deliveries behind a count; companies served behind a number of companies."""
    organisation, period = run.organisation, run.period
    first, last = period.start, period.end
    group: dict[str, Any] = {}
    if "month" in row:
        first, last = _clip(row["month"], month_end(row["month"]), first, last)
    elif "service_id" in row:
        group = {"service": row["service_id"]}
    elif "sector_id" in row:
        group = {"sector": row["sector_id"]}
    elif "chamber_id" in row:
        group = {"chamber": row["chamber_id"]}
    if group and None in group.values():
        return {}  # "no sector" or "no chamber" has no filter
    links = {
        "deliveries": _url(
            organisation,
            "servicedelivery_list",
            {**group, "date_from": first.isoformat(), "date_to": last.isoformat()},
        )
    }
    if "service" not in group:
        links["companies"] = _url(
            organisation,
            "company_list",
            {
                **group,
                "served": "true",
                "served_from": first.isoformat(),
                "served_to": last.isoformat(),
            },
        )
    return links


def services_delivered_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    rows = run.data.rows
    series = [
        Series(
            _("Services delivered"),
            [r["deliveries"] for r in rows],
            [link.get("deliveries") for link in links],
        )
    ]
    if run.previous is not None:
        before = [(run.previous_row(r) or {}).get("deliveries", 0) for r in rows]
        series.append(Series(_("Previous period"), before, colour=PREVIOUS_COLOUR))
    by = run.params.get("by", "service")
    return bar_chart([r["label"] for r in rows], series, horizontal=by != "month")


# b. Share of members served -------------------------------------------------------------

SERVED_GROUPINGS = [
    ("all", gettext_lazy("All members")),
    ("chamber", gettext_lazy("Chamber")),
    ("sector", gettext_lazy("SCIAN sector")),
]


class MembersServedForm(ReportForm):
    by = forms.ChoiceField(label=gettext_lazy("Group by"), choices=SERVED_GROUPINGS, required=False)

    def clean_by(self) -> str:
        return self.cleaned_data.get("by") or "all"


def _served_figures(members: int, served: int) -> dict[str, Any]:
    return {
        "members": members,
        "served": served,
        "unserved": members - served,
        "share": _share(served, members),
    }


def members_served(
    *, organisation: Any, start: dt.date, end: dt.date, by: str = "all"
) -> ReportData:
    """Of the members (membership active or in grace today), how many were served in the period.

    A member is served when it received at least one service in the period.
    Its kept last-service date answers for most members without reading a
    delivery: served when it falls in the period, not served when it is
    before; only members last served after the period are looked up in the
    (company, date) index. One query (and the sector names by sector): a
    member is in one group, so the total adds the groups up.
    """
    members = Company.objects.filter(organisation=organisation, membership_status__in=CURRENT)
    measures = {"members": Count("pk"), "served": Count("pk", filter=_served(start, end))}
    rows: list[dict[str, Any]] = []
    grouped: Any  # rows of .values().annotate(): plain dicts
    if by == "all":
        grouped = [members.aggregate(**measures)]
        figures = _served_figures(grouped[0]["members"], grouped[0]["served"])
        rows = [{"key": "all", **figures, "label": _("All members")}]
    elif by == "chamber":
        grouped = (
            members.values("chamber_id", "chamber__name", "chamber__acronym")
            .annotate(**measures)
            .order_by(F("chamber__name").asc(nulls_last=True))
        )
        rows = [
            {
                "key": g["chamber_id"],
                "chamber_id": g["chamber_id"],
                "label": g["chamber__acronym"] or g["chamber__name"] or _("No chamber"),
                **_served_figures(g["members"], g["served"]),
            }
            for g in grouped
        ]
    elif by == "sector":
        grouped = list(
            members.annotate(group_id=Coalesce("sector__parent_id", "sector_id"))
            .values("group_id")
            .annotate(**measures)
            .order_by()
        )
        rows = _sector_rows(grouped, lambda g: _served_figures(g["members"], g["served"]))
    else:
        raise ValueError(by)
    overall = _sum(grouped, "members", "served")
    figures = _served_figures(overall["members"], overall["served"])
    total = None if by == "all" else {"label": _("Total"), **figures}
    return ReportData(
        columns=[
            Column("label", dict(SERVED_GROUPINGS)[by] if by != "all" else _("Members")),
            Column("members", _("Members"), INT),
            Column("served", _("Served"), INT, compare=True),
            Column("unserved", _("Not served"), INT, compare=True),
            Column("share", _("Share served"), PERCENT, compare=True),
        ],
        rows=rows,
        total=total,
        summary=[
            Figure("share", _("Share of members served"), figures["share"], PERCENT),
            Figure("served", _("Members served"), figures["served"]),
            Figure("unserved", _("Members not served"), figures["unserved"]),
            Figure("members", _("Members"), figures["members"]),
        ],
    )


def members_served_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """The member companies behind each figure; "not served" is the list of unserved members."""
    group: dict[str, Any] = {}
    if "chamber_id" in row:
        group = {"chamber": row["chamber_id"]}
    elif "sector_id" in row:
        group = {"sector": row["sector_id"]}
    if group and None in group.values():
        return {}
    members = {"membership_status": list(CURRENT), **group}
    dates = {
        "served_from": run.period.start.isoformat(),
        "served_to": run.period.end.isoformat(),
    }
    return {
        "members": _url(run.organisation, "company_list", members),
        "served": _url(run.organisation, "company_list", {**members, "served": "true", **dates}),
        "unserved": _url(run.organisation, "company_list", {**members, "served": "false", **dates}),
    }


def members_served_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    rows = run.data.rows
    return bar_chart(
        [r["label"] for r in rows],
        [
            Series(
                _("Served"),
                [r["served"] for r in rows],
                [link.get("served") for link in links],
                colour="#2f6f4f",
            ),
            Series(
                _("Not served"),
                [r["unserved"] for r in rows],
                [link.get("unserved") for link in links],
                colour="#c0c7cf",
            ),
        ],
        horizontal=True,
        stacked=True,
    )


# c. Satisfaction ------------------------------------------------------------------------

SCORES = (1, 2, 3, 4, 5)
SCORE_COLOURS = ("#b83232", "#d9822b", "#c9b037", "#7fae52", "#2f6f4f")


def _satisfaction_figures(values: dict[str, Any]) -> dict[str, Any]:
    rated = values["rated"]
    return {
        **{f"s{n}": values[f"s{n}"] for n in SCORES},
        "rated": rated,
        "unrated": values["deliveries"] - rated,
        "average": _average(values["score"], rated),
        "satisfied": _share(values["s4"] + values["s5"], rated),
    }


def satisfaction(*, organisation: Any, start: dt.date, end: dt.date) -> ReportData:
    """How the deliveries of each service were rated: the count of each score 1–5 and the mean.

    Deliveries without a rating count as "not rated" and stay out of the mean.
    One query, service by service (and one for their names); the total adds
    the services up.
    """
    measures: dict[str, Any] = {
        **{f"s{n}": Count("delivered__id", filter=Q(delivered__satisfaction=n)) for n in SCORES},
        "deliveries": Count("delivered__id"),
        "rated": Count("delivered__satisfaction"),
        "score": Sum("delivered__satisfaction"),
    }
    grouped = _per_service(organisation=organisation, start=start, end=end, measures=measures)
    names = _service_names(grouped)
    rows = [
        {
            "key": g["service_id"],
            "service_id": g["service_id"],
            "label": names[g["service_id"]],
            **_satisfaction_figures(g),
        }
        for g in grouped
    ]
    rows.sort(key=lambda r: (r["label"], r["key"]))
    overall = _satisfaction_figures(_sum(grouped, *measures))
    return ReportData(
        columns=[
            Column("label", _("Service")),
            *(Column(f"s{n}", _("Rated {score}").format(score=n), INT) for n in SCORES),
            Column("rated", _("Rated"), INT, compare=True),
            Column("unrated", _("Not rated"), INT),
            Column("average", _("Average (1–5)"), DECIMAL, compare=True),
            Column("satisfied", _("Rated 4 or 5"), PERCENT, compare=True),
        ],
        rows=rows,
        total={"label": _("Total"), **overall},
        summary=[
            Figure("average", _("Average satisfaction"), overall["average"], DECIMAL),
            Figure("satisfied", _("Rated 4 or 5"), overall["satisfied"], PERCENT),
            Figure("rated", _("Rated deliveries"), overall["rated"]),
            Figure("unrated", _("Deliveries not rated"), overall["unrated"]),
        ],
    )


def satisfaction_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """Each score's count links to the deliveries of that service rated so."""
    base: dict[str, Any] = {
        "date_from": run.period.start.isoformat(),
        "date_to": run.period.end.isoformat(),
    }
    if "service_id" in row:
        base["service"] = row["service_id"]
    return {
        f"s{n}": _url(run.organisation, "servicedelivery_list", {**base, "satisfaction": n})
        for n in SCORES
    }


def satisfaction_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    rows = run.data.rows
    return bar_chart(
        [r["label"] for r in rows],
        [
            Series(
                str(n),
                [r[f"s{n}"] for r in rows],
                [link.get(f"s{n}") for link in links],
                colour=SCORE_COLOURS[n - 1],
            )
            for n in SCORES
        ],
        horizontal=True,
        stacked=True,
    )


# d. Members gained, renewed, lapsed and resigned ---------------------------------------------
#
# Each membership keeps how it moved (``movements.py``): whether it renews an
# earlier one (else it is a member gained), whether and when it left (lapsed
# at the end of its grace unless renewed, or resigned while still a member),
# and, on the first of each unbroken run of a company's memberships, the last
# day the run makes it a member. A manual status override does not move them.
# Nothing is counted after today (a lapse, once its grace has ended).
#
# The report counts companies per month or quarter from three covering
# indexes, in SQL; the memberships list's "movement" filter applies the same
# conditions (``movement_condition``), so each count opens its rows.

INTERVALS = [("month", gettext_lazy("Month")), ("quarter", gettext_lazy("Quarter"))]
MOVEMENTS = [
    ("gained", gettext_lazy("Gained")),
    ("renewed", gettext_lazy("Renewed")),
    ("lapsed", gettext_lazy("Lapsed")),
    ("resigned", gettext_lazy("Resigned")),
]


class MovementsForm(ReportForm):
    interval = forms.ChoiceField(label=gettext_lazy("By"), choices=INTERVALS, required=False)

    def clean_interval(self) -> str:
        return self.cleaned_data.get("interval") or "month"


def movement_condition(movement: str, *, first: dt.date, last: dt.date) -> Q:
    """The memberships behind a movement between ``first`` and ``last`` (both included)."""
    if movement in ("gained", "renewed"):
        return Q(start__gte=first, start__lte=last, renews=movement == "renewed")
    if movement in ("lapsed", "resigned"):
        return Q(left_on__gte=first, left_on__lte=last, left_as=movement)
    raise ValueError(movement)


def memberships_moved(
    queryset: QuerySet[Any], *, movement: str, first: dt.date, last: dt.date, organisation: Any
) -> QuerySet[Any]:
    """For the memberships list's filter: the rows the report counts for ``movement``."""
    return queryset.filter(movement_condition(movement, first=first, last=last))


def _buckets(start: dt.date, end: dt.date, interval: str) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(calendar start, first day, last day) of each month or quarter, clipped to the period."""
    step = 3 if interval == "quarter" else 1
    bucket = start.replace(day=1, month=(start.month - 1) // step * step + 1)
    buckets = []
    while bucket <= end:
        following = add_months(bucket, step)
        first, last = _clip(bucket, following - DAY, start, end)
        buckets.append((bucket, first, last))
        bucket = following
    return buckets


def _bucket_label(bucket: dt.date, interval: str) -> str:
    if interval == "quarter":
        return _("Q{quarter} {year}").format(quarter=(bucket.month - 1) // 3 + 1, year=bucket.year)
    return date_format(bucket, "YEAR_MONTH_FORMAT")


def _bucket_of(field: str, firsts: list[dt.date]) -> Any:
    """The index of the bucket a date falls in (buckets are given by their first days)."""
    if len(firsts) == 1:
        return Value(0, output_field=IntegerField())
    return Case(
        *(
            When(**{f"{field}__lt": following}, then=Value(index))
            for index, following in enumerate(firsts[1:])
        ),
        default=Value(len(firsts) - 1),
        output_field=IntegerField(),
    )


def _moved_companies(
    memberships: QuerySet[Any], field: str, kind: str, firsts: list[dt.date]
) -> list[dict[str, Any]]:
    """Companies per bucket and ``kind`` of movement, each company once per bucket."""
    return list(
        memberships.annotate(bucket=_bucket_of(field, firsts))
        .values("bucket", kind)
        .annotate(companies=Count("company", distinct=True))
        .order_by()
    )


def _members_on(
    *, organisation: Any, days: list[dt.date], first: dt.date, last: dt.date
) -> dict[dt.date, int]:
    """The members on each of ``days`` (between ``first`` and ``last``): the runs covering it.

    A run covers a day when it started by then and ends on it or later; of the
    runs that reach the period, that is those started by the day less those
    ended before it: two grouped reads of the runs index.
    """
    if not days:
        return {}
    database = connections[Membership.objects.db]
    quote = database.ops.quote_name
    table = quote(Membership._meta.db_table)
    # On run_until alone, from the runs index (a run starting after ``last`` counts on no
    # day of ``days``: bisecting its start leaves it out). SQLite would rather read the
    # starts index for its order, and every membership's row with it: it is told.
    hint = " INDEXED BY members_membership_runs" if database.vendor == "sqlite" else ""
    run_until, begins = quote("run_until"), quote("start")
    where = f"{quote('organisation_id')} = %s AND {run_until} >= %s"
    params = [organisation.pk, database.ops.adapt_datefield_value(first)]

    def histogram(column: str, condition: str = "", *extra: Any) -> list[tuple[dt.date, int]]:
        with database.cursor() as cursor:
            cursor.execute(
                f"SELECT {column}, COUNT(*) FROM {table}{hint} WHERE {where}{condition} "
                f"GROUP BY {column}",
                [*params, *extra],
            )
            return sorted(
                (day if isinstance(day, dt.date) else dt.date.fromisoformat(day), int(n))
                for day, n in cursor.fetchall()
            )

    starts = [(max(day, first), n) for day, n in histogram(begins)]
    ends = histogram(run_until, f" AND {run_until} < %s", database.ops.adapt_datefield_value(last))
    start_days, started = [d for d, _n in starts], list(accumulate(n for _d, n in starts))
    end_days, ended = [d for d, _n in ends], list(accumulate(n for _d, n in ends))

    def count(day: dt.date) -> int:
        begun = bisect_right(start_days, day)
        over = bisect_left(end_days, day)
        return (started[begun - 1] if begun else 0) - (ended[over - 1] if over else 0)

    return {day: count(day) for day in days}


def membership_movements(
    *,
    organisation: Any,
    start: dt.date,
    end: dt.date,
    interval: str = "month",
    today: dt.date | None = None,
) -> ReportData:
    """Members gained, renewed, lapsed and resigned per month or quarter, with retention and churn.

    Members at the start and at the end are those on the first and on the
    last day of each month or quarter. Retention rate = renewed / (renewed +
    lapsed + resigned): of the memberships that came to an end, the share
    renewed. Churn rate = (lapsed + resigned) / members at the start.
    Four queries on covering indexes of the memberships, whatever the
    number of months: the starts, the departures and the runs (twice).
    """
    today = today or timezone.localdate()
    buckets = _buckets(start, end, interval)
    firsts = [first for _bucket, first, _last in buckets]
    last_event, last_lapse = min(end, today), min(end, today - DAY)
    moved: dict[str, list[int]] = {name: [0] * len(buckets) for name, _label in MOVEMENTS}
    if start <= last_event:
        memberships = Membership.objects.filter(organisation=organisation)
        joined = memberships.filter(start__gte=start, start__lte=last_event)
        for group in _moved_companies(joined, "start", "renews", firsts):
            moved["renewed" if group["renews"] else "gained"][group["bucket"]] = group["companies"]
        left = memberships.filter(left_on__gte=start, left_on__lte=last_event).filter(
            Q(left_as=Left.RESIGNED) | Q(left_as=Left.LAPSED, left_on__lte=last_lapse)
        )
        for group in _moved_companies(left, "left_on", "left_as", firsts):
            moved[group["left_as"]][group["bucket"]] = group["companies"]
    # The days members are counted on: each bucket's first and last day, up to today.
    days = sorted(
        {day for _b, first, last in buckets for day in (first, min(last, today)) if first <= today}
    )
    members_on = _members_on(organisation=organisation, days=days, first=start, last=last_event)

    rows = []
    for index, (calendar_start, first, last) in enumerate(buckets):
        row: dict[str, Any] = {
            "key": index,
            "period_start": first,
            "period_end": last,
            "label": _bucket_label(calendar_start, interval),
            "members_start": members_on.get(first),
            **{name: moved[name][index] for name, _label in MOVEMENTS},
            "members_end": members_on.get(min(last, today)) if first <= today else None,
        }
        rows.append(_with_rates(row))
    total = _with_rates(
        {
            "label": _("Total"),
            "members_start": rows[0]["members_start"] if rows else None,
            "members_end": next(
                (r["members_end"] for r in reversed(rows) if r["members_end"] is not None), None
            ),
            **{name: sum(r[name] for r in rows) for name, _label in MOVEMENTS},
        }
    )
    return ReportData(
        columns=[
            Column("label", dict(INTERVALS)[interval]),
            Column("members_start", _("Members at the start"), INT),
            Column("gained", _("Gained"), INT, compare=True),
            Column("renewed", _("Renewed"), INT, compare=True),
            Column("lapsed", _("Lapsed"), INT, compare=True),
            Column("resigned", _("Resigned"), INT, compare=True),
            Column("members_end", _("Members at the end"), INT),
            Column("retention", _("Retention rate"), PERCENT, compare=True),
            Column("churn", _("Churn rate"), PERCENT, compare=True),
        ],
        rows=rows,
        total=total,
        summary=[
            Figure("gained", _("Members gained"), total["gained"]),
            Figure("renewed", _("Renewals"), total["renewed"]),
            Figure("retention", _("Retention rate"), total["retention"], PERCENT),
            Figure("churn", _("Churn rate"), total["churn"], PERCENT),
        ],
    )


def _with_rates(row: dict[str, Any]) -> dict[str, Any]:
    lost = row["lapsed"] + row["resigned"]
    row["retention"] = _share(row["renewed"], row["renewed"] + lost)
    row["churn"] = _share(lost, row["members_start"])
    return row


def movements_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """Each movement's count links to the memberships behind it, through the same conditions."""
    first = row.get("period_start", run.period.start)
    last = row.get("period_end", run.period.end)
    today = timezone.localdate()
    links = {}
    for movement, _label in MOVEMENTS:
        until = min(last, today - DAY if movement == "lapsed" else today)
        if first <= until:
            links[movement] = _url(
                run.organisation,
                "membership_list",
                {
                    "movement": movement,
                    "movement_from": first.isoformat(),
                    "movement_to": until.isoformat(),
                },
            )
    return links


MOVEMENT_COLOURS = {
    "gained": "#2f6f4f",
    "renewed": "#1f5fa8",
    "lapsed": "#b83232",
    "resigned": "#6b6b6b",
}


def movements_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    rows = run.data.rows
    return bar_chart(
        [r["label"] for r in rows],
        [
            Series(
                label,
                [r[movement] for r in rows],
                [link.get(movement) for link in links],
                colour=MOVEMENT_COLOURS[movement],
            )
            for movement, label in MOVEMENTS
        ],
    )


# e. A member's statement --------------------------------------------------------------------


def member_statement(
    *, organisation: Any, start: dt.date, end: dt.date, company: Company
) -> ReportData:
    """One company's services received in the period against what was billed for it.

    When a module that bills registers a statement source (the finance
    module does, see ``members/statement.py``), the billed side is what it
    really billed: the source's rows (the company's invoices of the period,
    with what is paid and owed of each, and the payments received in the
    period) and its totals. Without one, a membership's dues in the period are
    its fee (negotiated, else the plan's) prorated by the days of its term that
    fall in the period, rounded half-up to the centavo; the total is the sum of
    the rounded lines. One query for the services, plus the sources' own (a
    fixed number) or one for the memberships.
    """
    deliveries = list(
        ServiceDelivery.objects.filter(
            organisation=organisation, company=company, date__gte=start, date__lte=end
        )
        .select_related("service")
        .order_by("date", "pk")
    )
    service_rows: list[dict[str, Any]] = []
    hours = Decimal("0.00")
    rated, score = 0, 0
    for delivery in deliveries:
        hours += delivery.hours
        if delivery.satisfaction is not None:
            rated, score = rated + 1, score + delivery.satisfaction
        service_rows.append(
            {
                "kind": _("Service"),
                "date": delivery.date,
                "delivery_id": delivery.pk,
                "concept": delivery.service.name,
                "hours": delivery.hours,
                "satisfaction": delivery.satisfaction,
            }
        )
    average = _average(score, rated)
    services = len(deliveries)
    sources = statement_sources()
    if sources:
        return _billed_statement(
            organisation=organisation,
            company=company,
            start=start,
            end=end,
            sources=sources,
            service_rows=service_rows,
            hours=_hours(hours),
            average=average,
        )
    memberships = list(
        Membership.objects.filter(
            organisation=organisation, company=company, start__lte=end, end__gte=start
        )
        .select_related("plan")
        .order_by("start", "pk")
    )
    rows: list[dict[str, Any]] = []
    dues_total = Decimal("0.00")
    for membership in memberships:
        first, last = _clip(membership.start, membership.end, start, end)
        days = (last - first).days + 1
        term = (membership.end - membership.start).days + 1
        fee = membership.effective_fee
        dues = round_money(fee * days / term, organisation.currency)
        dues_total += dues
        rows.append(
            {
                "kind": _("Dues"),
                "date": first,
                "membership_id": membership.pk,
                "concept": _("{plan}, term {start} to {end}").format(
                    plan=membership.plan.name,
                    start=date_format(membership.start, "SHORT_DATE_FORMAT"),
                    end=date_format(membership.end, "SHORT_DATE_FORMAT"),
                ),
                "days": days,
                "term_days": term,
                "fee": fee,
                "dues": dues,
            }
        )
    rows += service_rows
    return ReportData(
        columns=[
            Column("date", _("Date"), DATE),
            Column("kind", _("Kind")),
            Column("concept", _("Concept")),
            Column("hours", _("Hours"), DECIMAL),
            Column("satisfaction", _("Satisfaction"), INT),
            Column("days", _("Days in the period"), INT),
            Column("fee", _("Fee for the term"), MONEY),
            Column("dues", _("Dues in the period"), MONEY),
        ],
        rows=rows,
        total={
            "concept": _("Total"),
            "hours": _hours(hours),
            "satisfaction": average,
            "dues": dues_total,
        },
        summary=[
            Figure("services", _("Services received"), services),
            Figure("hours", _("Hours of service"), _hours(hours), DECIMAL),
            Figure("dues", _("Dues billed"), dues_total, MONEY),
            Figure(
                "dues_per_service",
                _("Dues per service received"),
                round_money(dues_total / services, organisation.currency) if services else None,
                MONEY,
            ),
        ],
    )


def _billed_statement(
    *,
    organisation: Any,
    company: Company,
    start: dt.date,
    end: dt.date,
    sources: list[StatementSource],
    service_rows: list[dict[str, Any]],
    hours: Decimal,
    average: Decimal | None,
) -> ReportData:
    """The statement with the sources' invoices and payments first, then the services."""
    rows: list[dict[str, Any]] = []
    totals = StatementTotals()
    for source in sources:
        part = source.lines(organisation=organisation, company=company, start=start, end=end)
        rows += [{**row, "source": source.key} for row in part.rows]
        totals += part.totals
    rows += service_rows
    services = len(service_rows)
    return ReportData(
        columns=[
            Column("date", _("Date"), DATE),
            Column("kind", _("Kind")),
            Column("reference", _("Reference")),
            Column("concept", _("Concept")),
            Column("hours", _("Hours"), DECIMAL),
            Column("satisfaction", _("Satisfaction"), INT),
            Column("invoiced", _("Invoiced"), MONEY),
            Column("paid", _("Paid"), MONEY),
            Column("balance", _("Balance due"), MONEY),
            Column("received", _("Received"), MONEY),
            Column("state", _("State")),
        ],
        rows=rows,
        total={
            "concept": _("Total"),
            "hours": hours,
            "satisfaction": average,
            "invoiced": totals.invoiced,
            "paid": totals.invoices_paid,
            "balance": totals.balance,
            "received": totals.received,
        },
        summary=[
            Figure("services", _("Services received"), services),
            Figure("hours", _("Hours of service"), hours, DECIMAL),
            Figure("invoiced", _("Invoiced in the period"), totals.invoiced, MONEY),
            Figure("paid", _("Paid in the period"), totals.received, MONEY),
            Figure("balance", _("Balance owed"), totals.balance, MONEY),
            Figure(
                "invoiced_per_service",
                _("Invoiced per service received"),
                round_money(totals.invoiced / services, organisation.currency)
                if services
                else None,
                MONEY,
            ),
        ],
    )


def statement_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """A service or membership opens its page; a source's row, what its source links it to."""
    if "source" in row:
        source = get_statement_source(row["source"])
        return source.links(run.organisation, row) if source and source.links else {}
    slug = run.organisation.slug
    if "delivery_id" in row:
        return {
            "concept": reverse(
                "members:servicedelivery_detail", kwargs={"org": slug, "pk": row["delivery_id"]}
            )
        }
    if "membership_id" in row:
        return {
            "concept": reverse(
                "members:membership_detail", kwargs={"org": slug, "pk": row["membership_id"]}
            )
        }
    company = run.params["company"]
    return {
        "hours": _url(
            run.organisation,
            "servicedelivery_list",
            {
                "company": company.pk,
                "date_from": run.period.start.isoformat(),
                "date_to": run.period.end.isoformat(),
            },
        )
    }


# Declarations ------------------------------------------------------------------------------


def register_all() -> None:
    register(
        Report(
            key="members.services_delivered",
            title=gettext_lazy("Services delivered"),
            description=gettext_lazy(
                "Services delivered in the period by service, SCIAN sector, chamber or month: "
                "how many, to how many companies, hours and average satisfaction."
            ),
            module="members",
            permission="members.view_servicedelivery",
            selector=services_delivered,
            form=ServicesDeliveredForm,
            links=services_delivered_links,
            chart=services_delivered_chart,
            order=10,
        )
    )
    register(
        Report(
            key="members.members_served",
            title=gettext_lazy("Members served"),
            description=gettext_lazy(
                "The share of active members (active or in grace) that received at least one "
                "service in the period, and the list of those that did not."
            ),
            module="members",
            permission="members.view_servicedelivery",
            selector=members_served,
            form=MembersServedForm,
            links=members_served_links,
            chart=members_served_chart,
            order=20,
        )
    )
    register(
        Report(
            key="members.satisfaction",
            title=gettext_lazy("Satisfaction"),
            description=gettext_lazy(
                "How members rated the services delivered in the period: the number of each "
                "score from 1 to 5 and the average, by service."
            ),
            module="members",
            permission="members.view_servicedelivery",
            selector=satisfaction,
            links=satisfaction_links,
            chart=satisfaction_chart,
            order=30,
        )
    )
    register(
        Report(
            key="members.membership_movements",
            title=gettext_lazy("Members gained and lost"),
            description=gettext_lazy(
                "Members gained, renewed, lapsed and resigned per month or quarter, with the "
                "retention and churn rates."
            ),
            module="members",
            permission="members.view_membership",
            selector=membership_movements,
            form=MovementsForm,
            links=movements_links,
            chart=movements_chart,
            order=40,
        )
    )
    register(
        Report(
            key="members.statement",
            title=gettext_lazy("Member statement"),
            description=gettext_lazy(
                "For one company: the services it received in the period against what it was "
                "billed and what it paid (its invoices and payments; without the finance "
                "module, its membership fees prorated by days)."
            ),
            module="members",
            permission="members.view_membership",
            selector=member_statement,
            subject=Company,
            route="companies/<int:pk>/statement/",
            links=statement_links,
            order=50,
        )
    )


def _sector_rows(grouped: list[dict[str, Any]], figures: Any) -> list[dict[str, Any]]:
    """Rows of a report grouped by SCIAN sector (``group_id``), in code order."""
    sectors = Sector.objects.in_bulk([g["group_id"] for g in grouped if g["group_id"]])
    rows = []
    for g in grouped:
        sector = sectors.get(g["group_id"])
        rows.append(
            {
                "key": g["group_id"],
                "sector_id": g["group_id"],
                "sector_code": sector.code if sector else None,
                "label": str(sector) if sector else _("No sector"),
                **figures(g),
            }
        )
    rows.sort(key=lambda r: (r["sector_code"] is None, r["sector_code"] or ""))
    return rows
