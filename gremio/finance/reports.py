"""The finance module's reports: their forms, figures, drill-down links, charts and declarations.

The reads are in ``selectors.py``. The ledger reports (trial balance,
income statement, balance sheet, income and outgoings, budget against actual)
read the maintained balances, which are kept per month: their periods are
whole months, and a period that starts or ends inside a month is widened to
the whole month (the page shows the dates counted). The receivables ageing
is taken on a day; payment times count any days.

Every figure is compared with the previous period (``core.reports``), and
the figures link to the journal lines, invoices or payments behind them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gremio.core.charts import PREVIOUS_COLOUR, Series, bar_chart
from gremio.core.models import Organisation, Pillar
from gremio.core.money import round_money
from gremio.core.reports import (
    DATE,
    DECIMAL,
    EARLIEST,
    INT,
    LATEST,
    MONEY,
    PERCENT,
    TEXT,
    Column,
    Figure,
    Period,
    Report,
    ReportData,
    ReportForm,
    ReportRun,
    add_months,
    month_end,
    register,
)
from gremio.members.models import Chamber, Company, Sector

from . import selectors
from .models import ZERO, AccountType
from .selectors import AGE_BUCKETS, PROFIT_AND_LOSS_TYPES, ChartAccount, Ledger
from .setup import fiscal_year_start

DAY = dt.timedelta(days=1)
CENT, TENTH = Decimal("0.01"), Decimal("0.1")
INCOME_COLOUR, EXPENSE_COLOUR, PROFIT_COLOUR = "#2f6f4f", "#b83232", "#1f5fa8"


def _share(part: Decimal | int, whole: Decimal | int | None) -> Decimal | None:
    """``part`` as a percentage of ``whole``, half-up to one decimal."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _ratio(part: Decimal | int, whole: Decimal | int | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP)


def _url(organisation: Any, name: str, query: Mapping[str, Any] | None = None) -> str | None:
    """A finance page's address with a query; None when that page is not installed."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    address = _address(urlconf, get_script_prefix(), name, organisation.slug)
    if address is None:
        return None
    return f"{address}?{urlencode(query, doseq=True)}" if query else address


@functools.lru_cache(maxsize=512)
def _address(urlconf: str, prefix: str, name: str, slug: str) -> str | None:
    """``reverse()`` once per page and organisation: a report links every figure (the
    income statement of a year, some 500), and reversing each took half its page's time."""
    try:
        return reverse(f"finance:{name}", kwargs={"org": slug}, urlconf=urlconf)
    except NoReverseMatch:
        return None


def _lines_url(organisation: Any, **query: Any) -> str | None:
    """The journal lines behind a figure (``account``, ``account_type``, dates, ``pillar``)."""
    clean = {
        name: value.isoformat() if isinstance(value, dt.date) else value
        for name, value in query.items()
        if value is not None
    }
    return _url(organisation, "journalline_list", clean)


def _links(**urls: str | None) -> dict[str, str]:
    return {key: url for key, url in urls.items() if url}


def _pillar_query(pillar: Any) -> Any:
    """The lines filter's value for a pillar: its id, or "null" for lines without one."""
    if pillar is None:
        return None
    return pillar.pk if isinstance(pillar, Pillar) else pillar


def _in_currency(selector: Callable[..., ReportData]) -> Callable[..., ReportData]:
    """Amounts of the money columns and figures rounded to the currency's minor unit.

    Sums from the database keep the scale they come with (SQLite drops it);
    this shows every amount as the organisation's currency does, 0.00 included.
    """

    @functools.wraps(selector)
    def run(*, organisation: Organisation, **kwargs: Any) -> ReportData:
        data = selector(organisation=organisation, **kwargs)
        currency = organisation.currency
        money = [c.key for c in data.columns if c.kind == MONEY]
        for row in [*data.rows, *([data.total] if data.total else [])]:
            for key in money:
                if isinstance(row.get(key), Decimal | int):
                    row[key] = round_money(row[key], currency)
        data.summary = [
            Figure(f.key, f.label, round_money(f.value, currency), f.kind)
            if f.kind == MONEY and isinstance(f.value, Decimal | int)
            else f
            for f in data.summary
        ]
        return data

    return run


# Parameters ----------------------------------------------------------------------------------


class FlagInput(forms.CheckboxInput):
    """A check box that also reads "1"/"0", "true"/"false", "yes"/"no" (API, command line)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name, "")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class Flag(forms.BooleanField):
    widget = FlagInput(check_test=_truthy)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> bool:
        return _truthy(value)


class MonthsForm(ReportForm):
    """A period of whole months: a partial month counts whole.

    The balances are kept per month, so the period is widened to the first
    day of its first month and the last day of its last; "the last 12 months"
    are the twelve months ending with the current one.
    """

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        period = data.get("period")
        if period is None:
            return data
        if data.get("preset") == "last_12_months":
            first = add_months(self.today.replace(day=1), -11)
            data["period"] = Period(first, month_end(self.today))
        else:
            data["period"] = Period(period.start.replace(day=1), month_end(period.end))
        return data


def _pillar_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=gettext_lazy("Strategic pillar"), queryset=Pillar.objects.none(), required=False
    )


def _scope_pillars(form: ReportForm) -> None:
    if form.organisation is not None:
        field = form.fields["pillar"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Pillar.objects.filter(organisation=form.organisation)


class HierarchyForm(MonthsForm):
    hierarchy = Flag(label=gettext_lazy("Show parent accounts"))


INTERVALS = [
    ("month", gettext_lazy("Month")),
    ("quarter", gettext_lazy("Quarter")),
    ("year", gettext_lazy("Year")),
]


class IncomeStatementForm(MonthsForm):
    interval = forms.ChoiceField(label=gettext_lazy("By"), choices=INTERVALS, required=False)
    pillar = _pillar_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scope_pillars(self)

    def clean_interval(self) -> str:
        return self.cleaned_data.get("interval") or "month"


class CashForm(MonthsForm):
    cash = Flag(label=gettext_lazy("Also cash in and out"))


class BudgetForm(MonthsForm):
    pillar = _pillar_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scope_pillars(self)


COMPANY_LIMITS = [
    ("100", gettext_lazy("The first 100")),
    ("25", gettext_lazy("The first 25")),
    ("500", gettext_lazy("The first 500")),
    ("all", gettext_lazy("All")),
]


def _limit(value: str) -> int | None:
    return None if value == "all" else int(value)


AGE_BASES = [
    ("due_date", gettext_lazy("Due date")),
    ("date", gettext_lazy("Invoice date")),
]


class AgeingForm(ReportForm):
    """The ageing is taken on a day.

    *As of* (default today) is that day, compared with the same day a month
    earlier. A period button takes it at the end of that period (today, for
    the current year or quarter) and compares it with the end of the period
    before.
    """

    as_of = forms.DateField(
        label=gettext_lazy("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    basis = forms.ChoiceField(label=gettext_lazy("Age by"), choices=AGE_BASES, required=False)
    companies = forms.ChoiceField(
        label=gettext_lazy("Companies shown"), choices=COMPANY_LIMITS, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("from", "to"):
            self.fields[name].widget = forms.HiddenInput()

    def clean_basis(self) -> str:
        return self.cleaned_data.get("basis") or "due_date"

    def clean_companies(self) -> str:
        return self.cleaned_data.get("companies") or "100"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "as_of" in self.errors:
            data.pop("period", None)
            return data
        period = data.get("period")
        as_of = data.get("as_of")
        if period is None:
            return data
        if as_of is not None and not data.get("preset"):
            if not EARLIEST + dt.timedelta(days=31) <= as_of <= LATEST:
                self.add_error("as_of", _("Give a date between the years 1900 and 2999."))
                data.pop("period", None)
                return data
            data["period"] = Period(add_months(as_of, -1) + DAY, as_of)
        elif period.start <= self.today < period.end:
            data["period"] = Period(period.start, self.today)
        return data

    def params(self) -> dict[str, Any]:
        params = super().params()
        params.pop("as_of", None)  # the period's end is the day of the ageing
        return params


PAYMENT_GROUPINGS = [
    ("company", gettext_lazy("Company")),
    ("sector", gettext_lazy("SCIAN sector")),
    ("chamber", gettext_lazy("Chamber")),
    ("month", gettext_lazy("Month")),
]


class PaymentTimesForm(ReportForm):
    by = forms.ChoiceField(
        label=gettext_lazy("Group by"), choices=PAYMENT_GROUPINGS, required=False
    )
    companies = forms.ChoiceField(
        label=gettext_lazy("Companies shown"), choices=COMPANY_LIMITS, required=False
    )

    def clean_by(self) -> str:
        return self.cleaned_data.get("by") or "company"

    def clean_companies(self) -> str:
        return self.cleaned_data.get("companies") or "100"


# Accounts, trees and sub-periods -------------------------------------------------------------


def _tree(accounts: Mapping[int, ChartAccount], leaves: Iterable[int]) -> list[tuple[int, int]]:
    """(account, depth) of the leaves and all their parents, depth first, in code order."""
    wanted: set[int] = set()
    for pk in leaves:
        node: int | None = pk
        while node is not None and node not in wanted and node in accounts:
            wanted.add(node)
            node = accounts[node].parent_id
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, account in accounts.items():  # in code order
        if pk in wanted:
            parent = account.parent_id if account.parent_id in wanted else None
            children[parent].append(pk)
    ordered: list[tuple[int, int]] = []
    stack: list[tuple[int, int]] = [(pk, 0) for pk in reversed(children[None])]
    while stack:
        pk, depth = stack.pop()
        ordered.append((pk, depth))
        stack.extend((child, depth + 1) for child in reversed(children[pk]))
    return ordered


def _account_rows(
    accounts: Mapping[int, ChartAccount],
    figures: Mapping[int, dict[str, Decimal]],
    *,
    hierarchy: bool,
) -> list[tuple[ChartAccount, int, dict[str, Decimal], bool]]:
    """(account, depth, figures, is a parent) per row: the accounts with figures in code order,
    and with ``hierarchy`` their parents, each with the sum of the accounts under it."""
    if not hierarchy:
        return [(accounts[pk], 0, figures[pk], False) for pk in accounts if pk in figures]
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for pk, values in figures.items():
        node: int | None = accounts[pk].parent_id
        while node is not None and node in accounts:
            for name, value in values.items():
                sums[node][name] += value
            node = accounts[node].parent_id
    rows = []
    for pk, depth in _tree(accounts, figures):
        if pk in figures:
            rows.append((accounts[pk], depth, figures[pk], False))
        else:
            rows.append((accounts[pk], depth, dict(sums[pk]), True))
    return rows


def _account_cells(account: ChartAccount, depth: int, parent: bool) -> dict[str, Any]:
    return {
        "key": account.pk,
        "account_id": account.pk,
        "code": account.code,
        "name": account.name,
        "level": depth,
        "group": parent,
    }


def _debit_credit(net: Decimal) -> tuple[Decimal, Decimal]:
    """A debit-less-credit balance on its side: (debit balance, credit balance)."""
    return (net, ZERO) if net >= 0 else (ZERO, -net)


# a. Trial balance ----------------------------------------------------------------------------


def trial_balance(
    *, organisation: Organisation, start: dt.date, end: dt.date, hierarchy: bool = False
) -> ReportData:
    """Balanza de comprobación: per postable account with a balance or movement, the opening
    balance, debits, credits and closing balance of the period.

    Opening balances add every earlier month for balance-sheet accounts and
    only the earlier months of the fiscal year for income and expense
    accounts, which start each fiscal year at zero. What they held at the end
    of earlier fiscal years is shown on one line, "result of previous fiscal
    years", until an entry closes it to equity; so the opening and closing
    debit and credit columns each total the same. Three queries (periods,
    chart, balances).
    """
    ledger = Ledger(organisation=organisation)
    accounts = selectors.chart(organisation=organisation)
    year_start = ledger.year_start(start)
    earlier = ledger.before(start)
    sums = selectors.balance_sums(
        organisation=organisation,
        buckets={
            "earlier": selectors.ids(earlier),
            "this_year": selectors.ids(m for m in earlier if m.start >= year_start),
            "within": selectors.ids(ledger.within(start, end)),
        },
    )
    figures: dict[int, dict[str, Decimal]] = {}
    previous_years = ZERO
    for pk, sides in sums.items():
        account = accounts[pk]
        earlier_net = sides["earlier"][0] - sides["earlier"][1]
        if account.on_balance_sheet:
            opening = earlier_net
        else:
            opening = sides["this_year"][0] - sides["this_year"][1]
            previous_years += earlier_net - opening
        debits, credits = sides["within"]
        if opening or debits or credits:
            figures[pk] = {"opening": opening, "debits": debits, "credits": credits}
    rows = []
    for account, depth, values, parent in _account_rows(accounts, figures, hierarchy=hierarchy):
        row = {**_account_cells(account, depth, parent), **_trial_figures(values)}
        if not account.on_balance_sheet:
            row["opening_from"] = year_start  # income and expenses start with the fiscal year
        rows.append(row)
    if previous_years:
        rows.append(
            {
                "key": "previous_years",
                "code": "",
                "name": _("Result of previous fiscal years, not closed to equity"),
                "level": 0,
                **_trial_figures({"opening": previous_years, "debits": ZERO, "credits": ZERO}),
            }
        )
    leaves = [row for row in rows if not row.get("group")]
    names = (
        "opening_debit",
        "opening_credit",
        "debits",
        "credits",
        "closing_debit",
        "closing_credit",
    )
    total: dict[str, Any] = {
        "name": _("Total"),
        **{name: sum((row[name] for row in leaves), ZERO) for name in names},
    }
    return ReportData(
        columns=[
            Column("code", _("Code")),
            Column("name", _("Account")),
            Column("opening_debit", _("Opening debit balance"), MONEY),
            Column("opening_credit", _("Opening credit balance"), MONEY),
            Column("debits", _("Debits"), MONEY, compare=True),
            Column("credits", _("Credits"), MONEY, compare=True),
            Column("closing_debit", _("Closing debit balance"), MONEY),
            Column("closing_credit", _("Closing credit balance"), MONEY),
        ],
        rows=rows,
        total=total,
        summary=[
            Figure("debits", _("Debits"), total["debits"], MONEY),
            Figure("credits", _("Credits"), total["credits"], MONEY),
            Figure("accounts", _("Accounts with a balance or movement"), len(figures)),
        ],
    )


def _trial_figures(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    opening = values["opening"]
    closing = opening + values["debits"] - values["credits"]
    opening_debit, opening_credit = _debit_credit(opening)
    closing_debit, closing_credit = _debit_credit(closing)
    return {
        "opening_debit": opening_debit,
        "opening_credit": opening_credit,
        "debits": values["debits"],
        "credits": values["credits"],
        "closing_debit": closing_debit,
        "closing_credit": closing_credit,
    }


def trial_balance_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """An account's lines of the period; its opening balance, the lines before it."""
    if "account_id" not in row or row.get("group"):
        return {}
    organisation, start, end = run.organisation, run.period.start, run.period.end
    account = row["account_id"]
    period_lines = _lines_url(organisation, account=account, date_from=start, date_to=end)
    opening = _lines_url(
        organisation, account=account, date_from=row.get("opening_from"), date_to=start - DAY
    )
    closing = _lines_url(
        organisation, account=account, date_from=row.get("opening_from"), date_to=end
    )
    return _links(
        name=period_lines,
        debits=period_lines,
        credits=period_lines,
        opening_debit=opening,
        opening_credit=opening,
        closing_debit=closing,
        closing_credit=closing,
    )


# b. Income statement -------------------------------------------------------------------------


def _fiscal_name(year_start: dt.date) -> str:
    end = add_months(year_start, 12) - DAY
    return (
        str(year_start.year) if year_start.month == 1 else f"{year_start.year}-{end.year % 100:02d}"
    )


def sub_periods(
    organisation: Organisation, start: dt.date, end: dt.date, interval: str
) -> list[tuple[str, dt.date, dt.date]]:
    """(label, first day, last day) of each month, quarter or year of the period.

    Quarters and years follow the organisation's fiscal year; the first and
    last are clipped to the period.
    """
    step = {"month": 1, "quarter": 3, "year": 12}[interval]
    year_month = organisation.fiscal_year_start_month
    offset = (start.year * 12 + start.month - year_month) % step
    bucket = add_months(start.replace(day=1), -offset)
    buckets = []
    while bucket <= end:
        following = add_months(bucket, step)
        year_start = fiscal_year_start(organisation, bucket)
        if interval == "month":
            label = date_format(bucket, "YEAR_MONTH_FORMAT")
        elif interval == "quarter":
            quarter = ((bucket.month - year_month) % 12) // 3 + 1
            label = _("Q{quarter} {year}").format(quarter=quarter, year=_fiscal_name(year_start))
        else:
            label = _fiscal_name(year_start)
        buckets.append((label, max(bucket, start), min(following - DAY, end)))
        bucket = following
    return buckets


def income_statement(
    *,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    interval: str = "month",
    pillar: Pillar | None = None,
) -> ReportData:
    """Estado de resultados: income and expense accounts by month, quarter or year, and the
    profit (income less expenses) of each. Income counts credits less debits, expenses debits
    less credits. With ``pillar``, only the lines tagged with it. Three queries."""
    ledger = Ledger(organisation=organisation)
    accounts = selectors.chart(organisation=organisation)
    buckets = sub_periods(organisation, start, end, interval)
    bucket_of: dict[int, int] = {}
    for index, (_label, first, last) in enumerate(buckets):
        for month in ledger.within(first, last):
            bucket_of.setdefault(month.pk, index)
    results = [pk for pk, a in accounts.items() if a.type in PROFIT_AND_LOSS_TYPES and a.postable]
    balances = selectors.balances_by_month(
        organisation=organisation, months=list(bucket_of), accounts=results, pillar=pillar
    )
    width = len(buckets)
    amounts: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO] * width)
    for row in balances:
        account = accounts[row["account_id"]]
        amounts[account.pk][bucket_of[row["period_id"]]] += account.signed(
            row["debit"] or ZERO, row["credit"] or ZERO
        )
    rows: list[dict[str, Any]] = []
    section_totals: dict[str, list[Decimal]] = {}
    for kind, heading in (
        (AccountType.INCOME, _("Total income")),
        (AccountType.EXPENSE, _("Total expenses")),
    ):
        sums = [ZERO] * width
        for pk, account in accounts.items():
            if account.type != kind or pk not in amounts:
                continue
            values = amounts[pk]
            sums = [a + b for a, b in zip(sums, values, strict=True)]
            rows.append(
                {
                    **_account_cells(account, 1, False),
                    "section": kind.value,
                    **_columns(values),
                }
            )
        section_totals[kind.value] = sums
        rows.append(
            {
                "key": kind.value,
                "code": "",
                "name": heading,
                "section": kind.value,
                "subtotal": True,
                "level": 0,
                **_columns(sums),
            }
        )
    income, expense = section_totals["income"], section_totals["expense"]
    profit = [a - b for a, b in zip(income, expense, strict=True)]
    total_income, total_expense = sum(income, ZERO), sum(expense, ZERO)
    return ReportData(
        columns=[
            Column("code", _("Code")),
            Column("name", _("Account")),
            *(Column(f"p{index}", label, MONEY) for index, (label, _f, _l) in enumerate(buckets)),
            Column("total", _("Total"), MONEY, compare=True),
        ],
        rows=rows,
        total={"name": _("Profit (income less expenses)"), **_columns(profit)},
        summary=[
            Figure("income", _("Income"), total_income, MONEY),
            Figure("expense", _("Expenses"), total_expense, MONEY),
            Figure("profit", _("Profit"), total_income - total_expense, MONEY),
            Figure(
                "margin",
                _("Profit margin"),
                _share(total_income - total_expense, total_income),
                PERCENT,
            ),
        ],
    )


def _columns(values: Sequence[Decimal]) -> dict[str, Decimal]:
    return {**{f"p{i}": value for i, value in enumerate(values)}, "total": sum(values, ZERO)}


def _run_sub_periods(run: ReportRun) -> list[tuple[str, dt.date, dt.date]]:
    return sub_periods(
        run.organisation, run.period.start, run.period.end, run.params.get("interval", "month")
    )


def income_statement_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """Each amount opens the lines of its account (or of all income or expense accounts)."""
    if "section" not in row:
        return {}
    organisation = run.organisation
    pillar = _pillar_query(run.params.get("pillar"))
    which = (
        {"account": row["account_id"]} if "account_id" in row else {"account_type": row["section"]}
    )
    links = {
        f"p{index}": _lines_url(organisation, **which, date_from=first, date_to=last, pillar=pillar)
        for index, (_label, first, last) in enumerate(_run_sub_periods(run))
    }
    links["total"] = _lines_url(
        organisation, **which, date_from=run.period.start, date_to=run.period.end, pillar=pillar
    )
    if "account_id" in row:
        links["name"] = links["total"]
    return _links(**links)


def income_statement_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any] | None:
    buckets = _run_sub_periods(run)
    rows = {row["key"]: (row, link) for row, link in zip(run.data.rows, links, strict=True)}
    income, income_links = rows["income"]
    expense, expense_links = rows["expense"]
    keys = [f"p{index}" for index in range(len(buckets))]
    total = run.data.total or {}
    series = [
        Series(
            _("Income"),
            [income[k] for k in keys],
            [income_links.get(k) for k in keys],
            colour=INCOME_COLOUR,
        ),
        Series(
            _("Expenses"),
            [expense[k] for k in keys],
            [expense_links.get(k) for k in keys],
            colour=EXPENSE_COLOUR,
        ),
        Series(_("Profit"), [total.get(k) for k in keys], colour=PROFIT_COLOUR, kind="line"),
    ]
    if run.previous is not None and run.previous.total is not None:
        before = run.previous.total
        series.append(
            Series(
                _("Profit, previous period"),
                [before.get(k) for k in keys],
                colour=PREVIOUS_COLOUR,
                kind="line",
            )
        )
    return bar_chart([label for label, _f, _l in buckets], series)


# c. Balance sheet ----------------------------------------------------------------------------

SECTIONS = (
    (AccountType.ASSET, gettext_lazy("Total assets")),
    (AccountType.LIABILITY, gettext_lazy("Total liabilities")),
    (AccountType.EQUITY, gettext_lazy("Total equity")),
)


def balance_sheet(
    *, organisation: Organisation, start: dt.date, end: dt.date, hierarchy: bool = False
) -> ReportData:
    """Estado de situación financiera at the end of the period: assets, liabilities and equity.

    Equity also holds the result of the current fiscal year (income less
    expenses from its start to the end of the period) and that of earlier
    fiscal years not yet closed to an equity account, so that assets equal
    liabilities plus equity. Three queries.
    """
    ledger = Ledger(organisation=organisation)
    accounts = selectors.chart(organisation=organisation)
    year_start = ledger.year_start(end)
    sums = selectors.balance_sums(
        organisation=organisation,
        buckets={
            "all": selectors.ids(ledger.up_to(end)),
            "earlier_years": selectors.ids(ledger.before(year_start)),
        },
    )
    balances: dict[str, dict[int, dict[str, Decimal]]] = defaultdict(dict)
    earlier_years = this_year = ZERO
    for pk, sides in sums.items():
        account = accounts[pk]
        if account.on_balance_sheet:
            balances[account.type][pk] = {"balance": account.signed(*sides["all"])}
        else:
            result = sides["all"][1] - sides["all"][0]
            before = sides["earlier_years"][1] - sides["earlier_years"][0]
            earlier_years += before
            this_year += result - before
    rows: list[dict[str, Any]] = []
    totals: dict[str, Decimal] = {}
    for kind, heading in SECTIONS:
        section = balances.get(kind, {})
        for account, depth, values, parent in _account_rows(accounts, section, hierarchy=hierarchy):
            rows.append({**_account_cells(account, depth + 1, parent), **values})
        total = sum((values["balance"] for values in section.values()), ZERO)
        if kind == AccountType.EQUITY:
            rows.append(
                {
                    "key": "earlier_years",
                    "code": "",
                    "name": _("Result of previous fiscal years"),
                    "level": 1,
                    "balance": earlier_years,
                }
            )
            rows.append(
                {
                    "key": "this_year",
                    "code": "",
                    "name": _("Result of the current fiscal year"),
                    "level": 1,
                    "year_start": year_start,
                    "balance": this_year,
                }
            )
            total += earlier_years + this_year
        totals[kind.value] = total
        rows.append(
            {
                "key": kind.value,
                "code": "",
                "name": str(heading),
                "subtotal": True,
                "level": 0,
                "balance": total,
            }
        )
    liabilities_equity = totals["liability"] + totals["equity"]
    return ReportData(
        columns=[
            Column("code", _("Code")),
            Column("name", _("Account")),
            Column("balance", _("Balance"), MONEY, compare=True),
        ],
        rows=rows,
        total={"name": _("Total liabilities and equity"), "balance": liabilities_equity},
        summary=[
            Figure("assets", _("Assets"), totals["asset"], MONEY),
            Figure("liabilities", _("Liabilities"), totals["liability"], MONEY),
            Figure("equity", _("Equity"), totals["equity"], MONEY),
            Figure("this_year", _("Result of the current fiscal year"), this_year, MONEY),
        ],
    )


def balance_sheet_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """An account's lines up to the end; a fiscal year's result, its income statement."""
    end = run.period.end
    if "account_id" in row and not row.get("group"):
        url = _lines_url(run.organisation, account=row["account_id"], date_to=end)
        return _links(name=url, balance=url)
    if row.get("key") == "this_year":
        url = _url(
            run.organisation,
            "report_income_statement",
            {"from": row["year_start"].isoformat(), "to": end.isoformat()},
        )
        return _links(name=url, balance=url)
    return {}


def balance_sheet_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    figures = [("assets", _("Assets")), ("liabilities", _("Liabilities")), ("equity", _("Equity"))]
    values = {f.key: f.value for f in run.data.summary}
    series = [Series(_("At the end of the period"), [values[key] for key, _l in figures])]
    if run.previous is not None:
        series.append(
            Series(
                _("At the end of the previous period"),
                [run.previous_figure(key) for key, _l in figures],
                colour=PREVIOUS_COLOUR,
            )
        )
    return bar_chart([label for _k, label in figures], series)


# d. Income and outgoings ---------------------------------------------------------------------


def income_and_outgoings(
    *, organisation: Organisation, start: dt.date, end: dt.date, cash: bool = False
) -> ReportData:
    """Money in and out per month: income and expenses (as in the income statement), and with
    ``cash`` the debits (in) and credits (out) of the cash and bank accounts — SAT codes 101
    and 102 and the default bank account. Three queries, four with cash."""
    ledger = Ledger(organisation=organisation)
    accounts = selectors.chart(organisation=organisation)
    results = [pk for pk, a in accounts.items() if a.type in PROFIT_AND_LOSS_TYPES and a.postable]
    money = selectors.cash_accounts(organisation=organisation, accounts=accounts) if cash else []
    months = sub_periods(organisation, start, end, "month")
    month_of = {
        m.pk: index
        for index, (_label, first, last) in enumerate(months)
        for m in ledger.within(first, last)
    }
    figures: list[dict[str, Decimal]] = [defaultdict(lambda: ZERO) for _month in months]
    for row in selectors.balances_by_month(
        organisation=organisation, months=list(month_of), accounts=results + money
    ):
        account = accounts[row["account_id"]]
        debit, credit = row["debit"] or ZERO, row["credit"] or ZERO
        values = figures[month_of[row["period_id"]]]
        if account.type == AccountType.INCOME:
            values["income"] += credit - debit
        elif account.type == AccountType.EXPENSE:
            values["expense"] += debit - credit
        else:
            values["cash_in"] += debit
            values["cash_out"] += credit
    names = ["income", "expense", "net"] + (["cash_in", "cash_out", "cash_net"] if cash else [])
    rows: list[dict[str, Any]] = []
    for index, ((label, first, last), values) in enumerate(zip(months, figures, strict=True)):
        values["net"] = values["income"] - values["expense"]
        values["cash_net"] = values["cash_in"] - values["cash_out"]
        rows.append(
            {
                "key": index,
                "month": first,
                "month_end": last,
                "label": label,
                **{name: values[name] for name in names},
            }
        )
    total = {"label": _("Total"), **{n: sum((r[n] for r in rows), ZERO) for n in names}}
    columns = [
        Column("label", _("Month")),
        Column("income", _("Income"), MONEY, compare=True),
        Column("expense", _("Expenses"), MONEY, compare=True),
        Column("net", _("Income less expenses"), MONEY, compare=True),
    ]
    if cash:
        columns += [
            Column("cash_in", _("Cash in"), MONEY, compare=True),
            Column("cash_out", _("Cash out"), MONEY, compare=True),
            Column("cash_net", _("Net cash"), MONEY),
        ]
    summary = [
        Figure("income", _("Income"), total["income"], MONEY),
        Figure("expense", _("Expenses"), total["expense"], MONEY),
        Figure("net", _("Income less expenses"), total["net"], MONEY),
    ]
    if cash:
        summary.append(Figure("cash_net", _("Net cash"), total["cash_net"], MONEY))
    return ReportData(columns=columns, rows=rows, total=total, summary=summary)


def income_and_outgoings_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """Income and expenses open the lines of that type; cash in and out the entries of income
    and expense (pólizas de ingresos y egresos) of the month."""
    organisation = run.organisation
    first = row.get("month", run.period.start)
    last = row.get("month_end", run.period.end)
    dates = {"date_from": first.isoformat(), "date_to": last.isoformat()}
    return _links(
        income=_lines_url(organisation, account_type="income", date_from=first, date_to=last),
        expense=_lines_url(organisation, account_type="expense", date_from=first, date_to=last),
        cash_in=_url(organisation, "journalentry_list", {"kind": "income", **dates}),
        cash_out=_url(organisation, "journalentry_list", {"kind": "expense", **dates}),
    )


def income_and_outgoings_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    rows = run.data.rows
    series = [
        Series(
            _("Income"),
            [r["income"] for r in rows],
            [link.get("income") for link in links],
            colour=INCOME_COLOUR,
        ),
        Series(
            _("Expenses"),
            [r["expense"] for r in rows],
            [link.get("expense") for link in links],
            colour=EXPENSE_COLOUR,
        ),
    ]
    if run.params.get("cash"):
        series += [
            Series(_("Cash in"), [r["cash_in"] for r in rows], colour="#7fae52", kind="line"),
            Series(_("Cash out"), [r["cash_out"] for r in rows], colour="#d9822b", kind="line"),
        ]
    return bar_chart([r["label"] for r in rows], series)


# e. Receivables ageing -----------------------------------------------------------------------

AGE_LABELS = {
    "current": gettext_lazy("Current"),
    "d1_30": gettext_lazy("1–30 days"),
    "d31_60": gettext_lazy("31–60 days"),
    "d61_90": gettext_lazy("61–90 days"),
    "d90": gettext_lazy("Over 90 days"),
}


def _company_names(pks: Iterable[int]) -> dict[int, str]:
    wanted = list(pks)
    if not wanted:
        return {}
    return {
        pk: trade or legal
        for pk, legal, trade in Company.objects.filter(pk__in=wanted).values_list(
            "pk", "legal_name", "trade_name"
        )
    }


def receivables_ageing(
    *,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    basis: str = "due_date",
    companies: str = "100",
) -> ReportData:
    """Antigüedad de saldos on the period's last day, per company, by due date (days overdue)
    or invoice date (days since the invoice).

    An invoice is owed on the day when it was dated by then and not paid in
    full or cancelled by then; it owes its total less the allocations in
    effect then (dated by then, and not cancelled with their payment by
    then). The companies that owe most come first; past ``companies`` the
    rest are added up on one line. The total is checked against the balance
    of the receivables account on the same day. Six queries or seven.
    """
    as_of = end
    shown, overall = selectors.receivables_by_company(
        organisation=organisation, as_of=as_of, basis=basis, limit=_limit(companies)
    )
    names = _company_names(row["company_id"] for row in shown)
    figures = ("invoices", *AGE_BUCKETS, "total")
    rows: list[dict[str, Any]] = [
        {
            "key": row["company_id"],
            "company": row["company_id"],
            "label": names.get(row["company_id"], str(row["company_id"])),
            **{name: row[name] for name in figures},
        }
        for row in shown
    ]
    rest = overall["companies"] - len(shown)
    if rest > 0:
        rows.append(
            {
                "key": "others",
                "label": _("Other {count} companies").format(count=rest),
                **{name: overall[name] - sum(r[name] for r in shown) for name in figures},
            }
        )
    total: dict[str, Any] = {"label": _("Total"), **{name: overall[name] for name in figures}}
    control = ZERO
    account_id = selectors.receivable_account_id(organisation=organisation)
    if account_id is not None:
        control = selectors.account_balance_as_of(
            organisation=organisation,
            account_id=account_id,
            day=as_of,
            ledger=Ledger(organisation=organisation),
        )
    return ReportData(
        columns=[
            Column("label", _("Company")),
            Column("invoices", _("Open invoices"), INT),
            *(Column(name, AGE_LABELS[name], MONEY) for name in AGE_BUCKETS),
            Column("total", _("Owed"), MONEY, compare=True),
        ],
        rows=rows,
        total=total,
        summary=[
            Figure("as_of", _("As of"), as_of, DATE),
            Figure("total", _("Owed"), total["total"], MONEY),
            Figure("overdue", _("Overdue"), total["total"] - total["current"], MONEY),
            Figure("receivable_account", _("Receivables account balance"), control, MONEY),
            Figure("difference", _("Difference from the account"), total["total"] - control, MONEY),
        ],
    )


def receivables_ageing_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """A company's open invoices."""
    if "company" not in row:
        return {}
    url = _url(run.organisation, "invoice_list", {"company": row["company"], "state": "issued"})
    return _links(label=url, total=url)


def receivables_ageing_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    total = run.data.total or {}
    series = [Series(_("Owed"), [total.get(name) for name in AGE_BUCKETS])]
    if run.previous is not None and run.previous.total is not None:
        before = run.previous.total
        series.append(
            Series(
                _("A period earlier"),
                [before.get(name) for name in AGE_BUCKETS],
                colour=PREVIOUS_COLOUR,
            )
        )
    return bar_chart([AGE_LABELS[name] for name in AGE_BUCKETS], series)


# f. Payment times ----------------------------------------------------------------------------

DAY_BUCKETS = (
    ("d0_30", gettext_lazy("Paid in 0–30 days"), 30),
    ("d31_60", gettext_lazy("31–60 days"), 60),
    ("d61_90", gettext_lazy("61–90 days"), 90),
    ("d90", gettext_lazy("Over 90 days"), None),
)

Histogram = Mapping[int, Sequence[int]]  # days -> (invoices, of them on time)


def _median(histogram: Histogram, count: int) -> Decimal | None:
    if not count:
        return None
    wanted = {(count - 1) // 2, count // 2}
    found: list[int] = []
    seen = 0
    for days in sorted(histogram):
        invoices = histogram[days][0]
        found += [days for position in wanted if seen <= position < seen + invoices]
        seen += invoices
    return (Decimal(sum(found)) / len(found)).quantize(CENT, rounding=ROUND_HALF_UP)


def _time_figures(histogram: Histogram, payments: Mapping[str, Any]) -> dict[str, Any]:
    count = sum(values[0] for values in histogram.values())
    on_time = sum(values[1] for values in histogram.values())
    days = sum(d * values[0] for d, values in histogram.items())
    buckets = {}
    floor: int | None = None
    for name, _label, ceiling in DAY_BUCKETS:
        buckets[name] = sum(
            values[0]
            for d, values in histogram.items()
            if (floor is None or d > floor) and (ceiling is None or d <= ceiling)
        )
        floor = ceiling
    number = payments.get("payments") or 0
    return {
        "paid": count,
        "mean_days": _ratio(days, count),
        "median_days": _median(histogram, count),
        **buckets,
        "on_time": _share(on_time, count),
        "payments": number,
        "payment_mean": _ratio(payments.get("amount") or ZERO, number),
    }


def _subtract(whole: Histogram, parts: Iterable[Histogram]) -> dict[int, list[int]]:
    rest = {d: list(values) for d, values in whole.items()}
    for part in parts:
        for d, values in part.items():
            rest[d] = [a - b for a, b in zip(rest[d], values, strict=True)]
    return rest


def _group_labels(by: str, keys: Iterable[Any]) -> dict[Any, str]:
    wanted = [key for key in keys if key is not None]
    if by == "company":
        return _company_names(wanted)
    if by == "sector":
        return {pk: str(sector) for pk, sector in Sector.objects.in_bulk(wanted).items()}
    if by == "chamber":
        return {
            pk: acronym or name
            for pk, name, acronym in Chamber.objects.filter(pk__in=wanted).values_list(
                "pk", "name", "acronym"
            )
        }
    return {}


def payment_times(
    *,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    by: str = "company",
    companies: str = "100",
) -> ReportData:
    """Días de cobro: of the invoices paid in full in the period, the days from the invoice to
    its payment (mean, median and spread), the share paid by the due date; the payments
    received in the period (count and mean); and the days sales outstanding.

    Rows by company (those with the most invoices paid first; past
    ``companies`` the rest on one line), SCIAN sector group, chamber, or
    month of payment. The sector and chamber are the company's as invoiced
    (for an invoice) and as paid (for a payment), kept on each document: a
    company that changed chamber since counts where it was. Days sales
    outstanding = receivables at the end of the period ÷ invoiced in the
    period (the debits of the receivables account, VAT included) × the days
    of the period, both from the ledger. The invoices are read as a
    histogram (group, days) from the ``finance_invoice_paid`` index, which
    holds each paid invoice's kept days to pay, sector and chamber.
    """
    limit = _limit(companies) if by == "company" else None
    top: list[int] | None = None
    if limit is not None:
        top = selectors.top_companies_paid(
            organisation=organisation, start=start, end=end, limit=limit
        )
    histograms = selectors.group_histograms(
        selectors.days_to_pay(organisation=organisation, start=start, end=end, by=by, companies=top)
    )
    payments = {
        row["group"]: row
        for row in selectors.payments_received(
            organisation=organisation, start=start, end=end, by=by, companies=top
        )
    }
    if top is None:
        overall: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for histogram in histograms.values():
            for d, values in histogram.items():
                overall[d] = [a + b for a, b in zip(overall[d], values, strict=True)]
        all_payments = {
            "payments": sum(p["payments"] for p in payments.values()),
            "amount": sum((p["amount"] or ZERO for p in payments.values()), ZERO),
        }
    else:
        overall = selectors.group_histograms(
            selectors.days_to_pay(organisation=organisation, start=start, end=end, by=None)
        ).get(None, {})
        (all_payments,) = selectors.payments_received(
            organisation=organisation, start=start, end=end, by=None
        )
    rows: list[dict[str, Any]] = []
    if by == "month":
        for index, (label, first, last) in enumerate(
            sub_periods(organisation, start, end, "month")
        ):
            month = first.replace(day=1)
            rows.append(
                {
                    "key": index,
                    "month": first,
                    "month_end": last,
                    "label": label,
                    **_time_figures(histograms.get(month, {}), payments.get(month, {})),
                }
            )
    else:
        keys = set(histograms) | set(payments)
        labels = _group_labels(by, keys)
        for key in keys:
            rows.append(
                {
                    "key": key,
                    f"{by}_id": key,
                    "label": labels.get(key) or _no_group(by),
                    **_time_figures(histograms.get(key, {}), payments.get(key, {})),
                }
            )
        rows.sort(key=lambda r: (-r["paid"], -r["payments"], r["key"] is None, str(r["label"])))
        if top is not None:
            # Companies past the first ``limit``, and those that paid without settling one.
            rest = _subtract(overall, histograms.values())
            rest_payments = {
                "payments": all_payments["payments"]
                - sum(p["payments"] for p in payments.values()),
                "amount": (all_payments["amount"] or ZERO)
                - sum((p["amount"] or ZERO for p in payments.values()), ZERO),
            }
            if sum(v[0] for v in rest.values()) or rest_payments["payments"]:
                rows.append(
                    {
                        "key": "others",
                        "label": _("Other companies"),
                        **_time_figures(rest, rest_payments),
                    }
                )
    total = {"label": _("Total"), **_time_figures(overall, all_payments)}
    dso = None
    account_id = selectors.receivable_account_id(organisation=organisation)
    if account_id is not None:
        ledger = Ledger(organisation=organisation)
        invoiced, _credits = selectors.account_movements(
            organisation=organisation, account_id=account_id, first=start, last=end, ledger=ledger
        )
        receivables = selectors.account_balance_as_of(
            organisation=organisation, account_id=account_id, day=end, ledger=ledger
        )
        if invoiced > 0:
            days = (end - start).days + 1
            dso = (receivables * days / invoiced).quantize(CENT, rounding=ROUND_HALF_UP)
    return ReportData(
        columns=[
            Column("label", dict(PAYMENT_GROUPINGS)[by]),
            Column("paid", _("Invoices paid"), INT, compare=True),
            Column("mean_days", _("Mean days to pay"), DECIMAL, compare=True),
            Column("median_days", _("Median days to pay"), DECIMAL, compare=True),
            *(Column(name, label, INT) for name, label, _ceiling in DAY_BUCKETS),
            Column("on_time", _("Paid on time"), PERCENT, compare=True),
            Column("payments", _("Payments received"), INT),
            Column("payment_mean", _("Average payment"), MONEY, compare=True),
        ],
        rows=rows,
        total=total,
        summary=[
            Figure("mean_days", _("Mean days to pay"), total["mean_days"], DECIMAL),
            Figure("median_days", _("Median days to pay"), total["median_days"], DECIMAL),
            Figure("on_time", _("Paid on time"), total["on_time"], PERCENT),
            Figure("payment_mean", _("Average payment"), total["payment_mean"], MONEY),
            Figure("dso", _("Days sales outstanding"), dso, DECIMAL),
            Figure("paid", _("Invoices paid"), total["paid"], INT),
        ],
    )


def _no_group(by: str) -> str:
    return _("No sector") if by == "sector" else _("No chamber") if by == "chamber" else "—"


def payment_times_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """The invoices paid in the period (of the company, month, or sector or chamber as
    invoiced: exactly those the row counts); the company's payments received."""
    first = row.get("month", run.period.start)
    last = row.get("month_end", run.period.end)
    group: dict[str, Any] = {}
    for by in ("company", "sector", "chamber"):
        if f"{by}_id" in row:
            if row[f"{by}_id"] is None:
                return {}
            group = {by: row[f"{by}_id"]}
    if row.get("key") == "others":
        return {}
    invoices = _url(
        run.organisation,
        "invoice_list",
        {"state": "paid", "closed_from": first.isoformat(), "closed_to": last.isoformat(), **group},
    )
    dates = {"date_from": first.isoformat(), "date_to": last.isoformat()}
    payments = _url(run.organisation, "payment_list", {**dates, "cancelled": "false", **group})
    return _links(paid=invoices, label=invoices, payments=payments)


def payment_times_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any]:
    total = run.data.total or {}
    names = [name for name, _label, _ceiling in DAY_BUCKETS]
    series = [Series(_("Invoices paid"), [total.get(name) for name in names])]
    if run.previous is not None and run.previous.total is not None:
        before = run.previous.total
        series.append(
            Series(
                _("Previous period"), [before.get(name) for name in names], colour=PREVIOUS_COLOUR
            )
        )
    labels = [_("0–30 days"), _("31–60 days"), _("61–90 days"), _("Over 90 days")]
    return bar_chart(labels, series)


# g. Budget against actual --------------------------------------------------------------------


def budget_vs_actual(
    *, organisation: Organisation, start: dt.date, end: dt.date, pillar: Pillar | None = None
) -> ReportData:
    """Per income or expense account and pillar: the budget of the period's months, the actual
    amount (income: credits less debits; expenses: debits less credits), the difference (actual
    less budget) and the share of the budget used. Five queries."""
    ledger = Ledger(organisation=organisation)
    accounts = selectors.chart(organisation=organisation)
    months = selectors.ids(ledger.within(start, end))
    results = [pk for pk, a in accounts.items() if a.type in PROFIT_AND_LOSS_TYPES and a.postable]
    budgets = selectors.budget_sums(organisation=organisation, months=months, pillar=pillar)
    actual: dict[tuple[int, int | None], Decimal] = defaultdict(lambda: ZERO)
    for row in selectors.balances_by_month(
        organisation=organisation, months=months, accounts=results, pillar=pillar, by_pillar=True
    ):
        account = accounts[row["account_id"]]
        actual[(account.pk, row["pillar_id"])] += account.signed(
            row["debit"] or ZERO, row["credit"] or ZERO
        )
    keys = {
        key for key in set(budgets) | set(actual) if accounts[key[0]].type in PROFIT_AND_LOSS_TYPES
    }
    pillars = {
        pk: pillar_row.name
        for pk, pillar_row in Pillar.objects.filter(organisation=organisation).in_bulk().items()
    }
    order = {pk: index for index, pk in enumerate(accounts)}
    rows: list[dict[str, Any]] = []
    sections: dict[str, dict[str, Decimal]] = {}
    for kind, heading in (
        (AccountType.INCOME, _("Total income")),
        (AccountType.EXPENSE, _("Total expenses")),
    ):
        mine = sorted(
            (key for key in keys if accounts[key[0]].type == kind),
            key=lambda key: (order[key[0]], key[1] is not None, pillars.get(key[1] or 0, "")),
        )
        section_budget = section_actual = ZERO
        for account_id, pillar_id in mine:
            account = accounts[account_id]
            budget, done = (
                budgets.get((account_id, pillar_id), ZERO),
                actual.get((account_id, pillar_id), ZERO),
            )
            section_budget += budget
            section_actual += done
            rows.append(
                {
                    "key": f"{account_id}:{pillar_id or ''}",
                    "account_id": account_id,
                    "pillar_id": pillar_id,
                    "section": kind.value,
                    "code": account.code,
                    "name": account.name,
                    "pillar": pillars.get(pillar_id, "") if pillar_id else _("No pillar"),
                    "level": 1,
                    **_budget_figures(budget, done),
                }
            )
        sections[kind.value] = {"budget": section_budget, "actual": section_actual}
        rows.append(
            {
                "key": kind.value,
                "section": kind.value,
                "code": "",
                "name": heading,
                "subtotal": True,
                "level": 0,
                **_budget_figures(section_budget, section_actual),
            }
        )
    income, expense = sections["income"], sections["expense"]
    result_budget = income["budget"] - expense["budget"]
    result_actual = income["actual"] - expense["actual"]
    return ReportData(
        columns=[
            Column("code", _("Code")),
            Column("name", _("Account")),
            Column("pillar", _("Strategic pillar"), TEXT),
            Column("budget", _("Budget"), MONEY, compare=True),
            Column("actual", _("Actual"), MONEY, compare=True),
            Column("difference", _("Difference"), MONEY),
            Column("used", _("Budget used"), PERCENT, compare=True),
        ],
        rows=rows,
        total={
            "name": _("Result (income less expenses)"),
            "budget": result_budget,
            "actual": result_actual,
            "difference": result_actual - result_budget,
            "used": None,
        },
        summary=[
            Figure(
                "income_used",
                _("Income budget reached"),
                _share(income["actual"], income["budget"]),
                PERCENT,
            ),
            Figure(
                "expense_used",
                _("Expense budget used"),
                _share(expense["actual"], expense["budget"]),
                PERCENT,
            ),
            Figure("result_budget", _("Budgeted result"), result_budget, MONEY),
            Figure("result_actual", _("Actual result"), result_actual, MONEY),
        ],
    )


def _budget_figures(budget: Decimal, actual: Decimal) -> dict[str, Any]:
    return {
        "budget": budget,
        "actual": actual,
        "difference": actual - budget,
        "used": _share(actual, budget),
    }


def budget_vs_actual_links(run: ReportRun, row: dict[str, Any]) -> dict[str, str]:
    """The lines behind the actual amount; the budget rows of the account and pillar."""
    if "section" not in row:
        return {}
    organisation, start, end = run.organisation, run.period.start, run.period.end
    if "account_id" not in row:
        lines = _lines_url(
            organisation,
            account_type=row["section"],
            date_from=start,
            date_to=end,
            pillar=_pillar_query(run.params.get("pillar")),
        )
        return _links(actual=lines)
    pillar = row["pillar_id"] if row["pillar_id"] is not None else "null"
    lines = _lines_url(
        organisation, account=row["account_id"], pillar=pillar, date_from=start, date_to=end
    )
    budget_query: dict[str, Any] = {"account": row["account_id"]}
    if row["pillar_id"] is not None:
        budget_query["pillar"] = row["pillar_id"]
    return _links(actual=lines, name=lines, budget=_url(organisation, "budget_list", budget_query))


def budget_vs_actual_chart(run: ReportRun, links: list[dict[str, str]]) -> dict[str, Any] | None:
    pairs = [
        (row, link) for row, link in zip(run.data.rows, links, strict=True) if "account_id" in row
    ]
    if not pairs:
        return None
    labels = [
        f"{row['code']} {row['name']}" + (f" · {row['pillar']}" if row["pillar_id"] else "")
        for row, _link in pairs
    ]
    return bar_chart(
        labels,
        [
            Series(
                _("Budget"),
                [row["budget"] for row, _l in pairs],
                [link.get("budget") for _r, link in pairs],
                colour="#c3ccd6",
            ),
            Series(
                _("Actual"),
                [row["actual"] for row, _l in pairs],
                [link.get("actual") for _r, link in pairs],
                colour=PROFIT_COLOUR,
            ),
        ],
        horizontal=True,
    )


# Declarations --------------------------------------------------------------------------------

LEDGER_PERMISSION = "finance.view_accountbalance"


def _declare(
    key: str,
    title: Any,
    description: Any,
    selector: Callable[..., ReportData],
    *,
    permission: str = LEDGER_PERMISSION,
    form: type[ReportForm] = MonthsForm,
    links: Any = None,
    chart: Any = None,
    order: int,
) -> Report:
    return Report(
        key=f"finance.{key}",
        title=title,
        description=description,
        module="finance",
        permission=permission,
        selector=_in_currency(selector),
        form=form,
        links=links,
        chart=chart,
        order=order,
    )


def register_all() -> None:
    """Register the finance reports (idempotent: registering again replaces them)."""
    for report in (
        _declare(
            "trial_balance",
            gettext_lazy("Trial balance"),
            gettext_lazy(
                "Per account: the opening balance, debits, credits and closing balance of the "
                "period, with the totals that prove the books balance."
            ),
            trial_balance,
            form=HierarchyForm,
            links=trial_balance_links,
            order=10,
        ),
        _declare(
            "income_statement",
            gettext_lazy("Income statement"),
            gettext_lazy(
                "Income and expenses by month, quarter or year, and the profit of each, "
                "optionally for one strategic pillar."
            ),
            income_statement,
            form=IncomeStatementForm,
            links=income_statement_links,
            chart=income_statement_chart,
            order=20,
        ),
        _declare(
            "balance_sheet",
            gettext_lazy("Balance sheet"),
            gettext_lazy(
                "Assets, liabilities and equity at the end of the period, with the result of "
                "the fiscal year, compared with the end of the previous period."
            ),
            balance_sheet,
            form=HierarchyForm,
            links=balance_sheet_links,
            chart=balance_sheet_chart,
            order=30,
        ),
        _declare(
            "income_and_outgoings",
            gettext_lazy("Income and outgoings"),
            gettext_lazy(
                "Money in and out per month: income and expenses, and optionally the cash "
                "received and paid through the cash and bank accounts."
            ),
            income_and_outgoings,
            form=CashForm,
            links=income_and_outgoings_links,
            chart=income_and_outgoings_chart,
            order=40,
        ),
        _declare(
            "receivables_ageing",
            gettext_lazy("Receivables ageing"),
            gettext_lazy(
                "What each company owes on a day, by how long it is overdue (current, 1–30, "
                "31–60, 61–90 and over 90 days), checked against the receivables account."
            ),
            receivables_ageing,
            permission="finance.view_invoice",
            form=AgeingForm,
            links=receivables_ageing_links,
            chart=receivables_ageing_chart,
            order=50,
        ),
        _declare(
            "payment_times",
            gettext_lazy("Payment times"),
            gettext_lazy(
                "How fast members pay: days from invoice to payment, the share paid on time, "
                "the average payment and the days sales outstanding, by company, sector, "
                "chamber or month."
            ),
            payment_times,
            permission="finance.view_invoice",
            form=PaymentTimesForm,
            links=payment_times_links,
            chart=payment_times_chart,
            order=60,
        ),
        _declare(
            "budget_vs_actual",
            gettext_lazy("Budget against actual"),
            gettext_lazy(
                "Per income and expense account and strategic pillar: the budget of the "
                "period, the actual amount, the difference and the share of the budget used."
            ),
            budget_vs_actual,
            permission="finance.view_budget",
            form=BudgetForm,
            links=budget_vs_actual_links,
            chart=budget_vs_actual_chart,
            order=70,
        ),
    ):
        register(report)
