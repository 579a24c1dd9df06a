"""The report registry: a module declares each report once; pages, API and CLI run it.

A ``Report`` names a selector (a plain function that reads the operational
tables with a few aggregate queries and returns ``ReportData``), the
permission that shows it, and the form of its parameters. Every report takes
a period (``from``/``to`` or a preset) and is compared with the previous
period of the same length. Core imports no module: each module registers its
reports in its ``AppConfig.ready()``, as it does its panels, so an insights
module can list whatever is installed with ``reports_for(user, organisation)``.

A report about one record (a member's statement) names the record's model as
its ``subject``; its page and API path then carry the record's id.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import tablib
from django import forms
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .permissions import can

# Column kinds: how a value is shown, exported and compared.
TEXT, INT, DECIMAL, PERCENT, MONEY, DATE = "text", "int", "decimal", "percent", "money", "date"
NUMERIC = frozenset({INT, DECIMAL, PERCENT, MONEY})


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    kind: str = TEXT
    compare: bool = False  # shown beside its value in the previous period


@dataclass(frozen=True)
class Figure:
    """A headline figure shown above the table (and compared like a column)."""

    key: str
    label: str | Promise
    value: Any
    kind: str = INT


@dataclass
class ReportData:
    """What a selector returns: plain values, no formatting, no links.

    A row may carry ``key``: the row of the previous period with the same key
    is its comparison (a service's id; a month's position in the period).
    Other entries (ids, dates) are kept for links and the API.
    """

    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    summary: list[Figure] = field(default_factory=list)


# Periods -----------------------------------------------------------------------

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
MAX_DAYS = 3653  # ten years

PRESETS: list[tuple[str, Any]] = [
    ("this_year", _("This year")),
    ("last_year", _("Last year")),
    ("last_12_months", _("Last 12 months")),
    ("this_quarter", _("This quarter")),
    ("last_quarter", _("Last quarter")),
]
DEFAULT_PRESET = "this_year"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, kept inside the target month (31 Jan + 1 → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> int | None:
        """The length in months when the period is a whole number of months, else None."""
        if self.start.day == 1 and self.end == month_end(self.end):
            return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        span = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        for months in (span, span + 1):
            if months > 0 and add_months(self.start, months) - dt.timedelta(days=1) == self.end:
                return months
        return None

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts.

        Lengths in whole months are kept in months (a quarter is compared with
        the quarter before, a year with the year before); others in days.
        """
        end = self.start - dt.timedelta(days=1)
        months = self.months
        if months:
            return Period(add_months(self.start, -months), end)
        return Period(end - dt.timedelta(days=self.days - 1), end)


def preset_period(name: str, today: dt.date) -> Period:
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    if name == "this_year":
        return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
    if name == "last_year":
        return Period(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31))
    if name == "last_12_months":
        return Period(add_months(today, -12) + dt.timedelta(days=1), today)
    if name == "this_quarter":
        return Period(quarter_start, add_months(quarter_start, 3) - dt.timedelta(days=1))
    if name == "last_quarter":
        return Period(add_months(quarter_start, -3), quarter_start - dt.timedelta(days=1))
    raise ValueError(name)


# Parameters ------------------------------------------------------------------------


class ReportForm(forms.Form):
    """The period, from dates or a preset; a report's own parameters are subclass fields.

    Pages, the API and the command line all validate through it, so a bad
    date is the same field error everywhere and never a server error.
    """

    PERIOD_FIELDS = ("from", "to", "preset")

    preset = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False)

    def __init__(
        self, data: Any = None, *, organisation: Any, today: dt.date | None = None, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        self.organisation = organisation
        self.today = today or timezone.localdate()
        date_input = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        # "from" is a Python keyword, so these two cannot be declared as attributes.
        period_fields = {
            "from": forms.DateField(label=_("From"), required=False, widget=date_input),
            "to": forms.DateField(label=_("To"), required=False, widget=date_input),
        }
        self.fields = {**period_fields, **self.fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "from" in self.errors or "to" in self.errors:
            return data
        start, end = data.get("from"), data.get("to")
        if data.get("preset"):
            period = preset_period(data["preset"], self.today)
        elif start is None and end is None:
            period = preset_period(DEFAULT_PRESET, self.today)
        elif start is None:
            self.add_error("from", _("Give the first day of the period, or choose a period."))
            return data
        elif end is None:
            self.add_error("to", _("Give the last day of the period, or choose a period."))
            return data
        else:
            period = Period(start, end)
        for name, day in (("from", period.start), ("to", period.end)):
            if not EARLIEST <= day <= LATEST:
                self.add_error(name, _("Give a date between the years 1900 and 2999."))
                return data
        if period.end < period.start:
            self.add_error("to", _("The end of the period cannot be before its start."))
        elif period.days > MAX_DAYS:
            self.add_error("to", _("A period can be at most ten years long."))
        else:
            data["period"] = period
        return data

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]

    def params(self) -> dict[str, Any]:
        """The report's own parameters, as its selector takes them."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.PERIOD_FIELDS and name != "period"
        }

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Name, label, type, choices and whether required, for the API and the CLI."""
        form = cls(organisation=None)
        described = []
        for name, form_field in form.fields.items():
            entry: dict[str, Any] = {
                "name": name,
                "label": str(form_field.label or name),
                "type": _field_type(form_field),
                "required": form_field.required,
            }
            choices = getattr(form_field, "choices", None)
            if choices is not None and not isinstance(form_field, forms.ModelChoiceField):
                entry["choices"] = [str(value) for value, _label in choices if value != ""]
            described.append(entry)
        return described


def _field_type(form_field: forms.Field) -> str:
    if isinstance(form_field, forms.DateField):
        return "date"
    if isinstance(form_field, forms.ModelChoiceField | forms.IntegerField):
        return "integer"
    if isinstance(form_field, forms.BooleanField):
        return "boolean"
    return "string"


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """A form's errors as plain strings, field by field (``non_field_errors`` for the rest)."""
    return {
        ("non_field_errors" if name == "__all__" else name): [str(e) for e in errors]
        for name, errors in form.errors.items()
    }


# The registry ------------------------------------------------------------------------

LinkBuilder = Callable[["ReportRun", dict[str, Any]], dict[str, str]]
ChartBuilder = Callable[["ReportRun", list[dict[str, str]]], dict[str, Any] | None]


@dataclass(frozen=True)
class Report:
    """One report, declared once by the module that owns its data.

    ``selector(organisation=, start=, end=, **params)`` returns ``ReportData``;
    ``params`` are the cleaned fields of ``form`` beyond the period, plus the
    subject record under its model name (``company=``) when there is one.
    ``links(run, row)`` maps column keys to the list that shows the records
    behind that figure; ``chart(run, row_links)`` returns an ECharts option.
    """

    key: str  # "<module>.<name>"
    title: str | Promise
    description: str | Promise
    module: str
    permission: str
    selector: Callable[..., ReportData]
    form: type[ReportForm] = ReportForm
    subject: type[models.Model] | None = None
    route: str = ""  # page path inside the module's URLs; default "reports/<name>/"
    links: LinkBuilder | None = None
    chart: ChartBuilder | None = None
    order: int = 100

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def url_name(self) -> str:
        return f"{self.module}:report_{self.name}"

    @property
    def page_route(self) -> str:
        return self.route or f"reports/{self.name.replace('_', '-')}/"

    @property
    def export_permission(self) -> str:
        app_label, codename = self.permission.split(".", 1)
        action, _sep, model = codename.partition("_")
        return f"{app_label}.export_{model}" if action == "view" else self.permission

    def parameters(self) -> list[dict[str, Any]]:
        return self.form.describe()


_registry: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add (or replace, when a module is reloaded) a report in the registry."""
    module, _sep, name = report.key.partition(".")
    if not name or module != report.module:
        raise ValueError(f"A report key is '<module>.<name>': {report.key!r}")
    _registry[report.key] = report
    return report


def _module_position(module: str) -> int:
    """Modules in the order of INSTALLED_APPS (members before finance, as they depend)."""
    from django.apps import apps

    labels = [config.label for config in apps.get_app_configs()]
    return labels.index(module) if module in labels else len(labels)


def all_reports() -> list[Report]:
    return sorted(
        _registry.values(), key=lambda r: (_module_position(r.module), r.module, r.order, r.key)
    )


def get_report(key: str) -> Report | None:
    return _registry.get(key)


def reports_for(user: Any, organisation: Any, module: str | None = None) -> list[Report]:
    """The reports ``user`` may see in ``organisation`` (optionally of one module), in order."""
    return [
        report
        for report in all_reports()
        if (module is None or report.module == module)
        and can(user, report.permission, organisation)
    ]


# Running ------------------------------------------------------------------------------


@dataclass
class ReportRun:
    """A report run on one period, and on the previous one when compared."""

    report: Report
    organisation: Any
    period: Period
    params: dict[str, Any]
    data: ReportData
    previous_period: Period | None = None
    previous: ReportData | None = None

    @cached_property
    def _previous_rows(self) -> dict[Any, dict[str, Any]]:
        if self.previous is None:
            return {}
        return {row["key"]: row for row in self.previous.rows if "key" in row}

    def previous_row(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if row is self.data.total:
            return self.previous.total if self.previous else None
        return self._previous_rows.get(row["key"]) if "key" in row else None

    def previous_figure(self, key: str) -> Any:
        if self.previous is None:
            return None
        return next((f.value for f in self.previous.summary if f.key == key), None)

    def row_links(self, row: dict[str, Any]) -> dict[str, str]:
        return self.report.links(self, row) if self.report.links else {}

    def chart(self) -> dict[str, Any] | None:
        if self.report.chart is None or not self.data.rows:
            return None
        return self.report.chart(self, [self.row_links(row) for row in self.data.rows])


def run_report(
    report: Report,
    *,
    organisation: Any,
    period: Period,
    params: dict[str, Any] | None = None,
    compare: bool = True,
) -> ReportRun:
    """Run ``report`` on ``period`` and, if ``compare``, on the previous period too."""
    params = dict(params or {})

    def select(on: Period) -> ReportData:
        return report.selector(organisation=organisation, start=on.start, end=on.end, **params)

    run = ReportRun(report, organisation, period, params, select(period))
    if compare:
        run.previous_period = period.previous()
        run.previous = select(run.previous_period)
    return run


def change(current: Any, previous: Any, kind: str) -> Decimal | None:
    """Percentage change (points for percentages) from ``previous`` to ``current``."""
    if kind not in NUMERIC or current is None or previous is None:
        return None
    current, previous = Decimal(current), Decimal(previous)
    if kind == PERCENT:
        return (current - previous).quantize(Decimal("0.1"))
    if previous == 0:
        return None
    return ((current - previous) * 100 / abs(previous)).quantize(Decimal("0.1"))


# Output: JSON rows (API, CLI) and spreadsheets (page export, CLI) ------------------------


def plain(value: Any) -> Any:
    """A JSON-safe value: Decimal as a string (exact), dates in ISO, records as their id."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _data_as_dict(data: ReportData, period: Period) -> dict[str, Any]:
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "rows": plain(data.rows),
        "total": plain(data.total),
        "summary": {figure.key: plain(figure.value) for figure in data.summary},
    }


def run_as_dict(run: ReportRun) -> dict[str, Any]:
    """The run as the API and ``manage.py report --format json`` give it."""
    answer = {
        "report": run.report.key,
        "title": str(run.report.title),
        "organisation": run.organisation.slug,
        "parameters": plain(run.params),
        "columns": [
            {"key": c.key, "label": str(c.label), "kind": c.kind} for c in run.data.columns
        ],
        **_data_as_dict(run.data, run.period),
    }
    if run.previous is not None and run.previous_period is not None:
        answer["previous"] = _data_as_dict(run.previous, run.previous_period)
    return answer


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Promise):
        return str(value)
    return value


def run_as_dataset(run: ReportRun) -> tablib.Dataset:
    """The table as shown (rows, then the total), with previous-period columns."""
    columns = list(run.data.columns)
    compared = [c for c in columns if c.compare] if run.previous is not None else []
    headers = [str(c.label) for c in columns] + [
        gettext("{column} (previous period)").format(column=c.label) for c in compared
    ]
    dataset = tablib.Dataset(headers=headers, title=str(run.report.title)[:31])
    rows = list(run.data.rows) + ([run.data.total] if run.data.total else [])
    for row in rows:
        previous = run.previous_row(row) or {}
        dataset.append(
            [_cell(row.get(c.key)) for c in columns]
            + [_cell(previous.get(c.key)) for c in compared]
        )
    return dataset
