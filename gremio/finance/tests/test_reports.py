"""The finance reports: exact figures on a small ledger built by hand, and every way to reach them.

The books (fiscal years 2025 and 2026, calendar years) hold, in pesos:

    2025-06-01  manual entry      bank 1102 D 5,000       endowment 3101 C 5,000
    2025-11-10  invoice I0 to A   receivables 1105 D 1,160   dues 4101 C 1,000, VAT 2108 C 160
    2026-01-15  invoice I1 to A   1105 D 2,320   4101 C 2,000   2108 C 320   (due 02-14)
    2026-01-20  payment P1 from A 1102 D 1,160   1105 C 1,160   → I0 paid (71 days, late)
    2026-02-01  manual entry      1102 D 100     3101 C 100
    2026-02-10  invoice I2 to B   1105 D 580     4101 C 500     2108 C 80     (due 03-12)
    2026-02-20  payment P3 from B 1102 D 300     1105 C 300     (part of I2)
    2026-03-01  payment P2 from A 1102 D 2,500   1105 C 2,320   advances 2106 C 180
                                  → I1 paid (45 days, late)
    2026-03-05  invoice I3 to B   1105 D 348     4101 C 300     2108 C 48     (due 04-04)
    2026-03-05  bill (pillar P)   office 5106 D 500, VAT 1118 D 80   suppliers 2101 C 580
    2026-03-10  payment P4 from B 1102 D 280     1105 C 280     → I2 paid (28 days, on time)
    2026-04-20  I3 cancelled      1105 C 348     4101 D 300     2108 D 48

Budgets: 4101 1,000 a month in Q1 2026; 5106 with pillar P 400 in March; 5106 without
a pillar 200 in February. Another organisation has books of its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, clear_url_caches, reverse

from gremio.core.models import Pillar
from gremio.core.reports import Period, get_report, run_report
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.finance import reports, services
from gremio.finance.models import Budget, Invoice
from gremio.members.models import Sector
from gremio.members.tests.factories import ChamberFactory, CompanyFactory

from .factories import account, books, draft_bill, issued_invoice, organisation_period, posted_entry

pytestmark = pytest.mark.django_db

D = Decimal
Q1 = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
Y2026 = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
QUARTER = {"from": "2026-01-01", "to": "2026-03-31"}
KEYS = (
    "finance.trial_balance",
    "finance.income_statement",
    "finance.balance_sheet",
    "finance.income_and_outgoings",
    "finance.receivables_ageing",
    "finance.payment_times",
    "finance.budget_vs_actual",
)
PAGES = {key: f"/fin/finance/reports/{key.split('.')[1].replace('_', '-')}/" for key in KEYS}


def ensure_registered() -> None:
    """Register the reports, and rebuild the URLs and API routes if they were built before.

    (The app's ``ready()`` registers them; this keeps the tests independent of that.)
    """
    reports.register_all()
    try:
        reverse("finance:report_trial_balance", kwargs={"org": "x"})
        return
    except NoReverseMatch:
        pass
    import config.api
    import config.urls
    import gremio.finance.urls

    importlib.reload(config.api)
    importlib.reload(gremio.finance.urls)
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture(autouse=True)
def _registered() -> None:
    ensure_registered()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def build_books(slug: str = "fin") -> SimpleNamespace:
    """The ledger of the module docstring."""
    org = books(OrganisationFactory.create(slug=slug, language="en"))
    w = SimpleNamespace(org=org)
    w.pillar = Pillar.objects.create(organisation=org, name_es="Contenido", name_en="Content")
    s334 = Sector.objects.get(code="334")
    w.manufacturing = s334.parent
    w.chamber = ChamberFactory.create(organisation=org, acronym="CANIETI")
    w.a = CompanyFactory.create(organisation=org, trade_name="Alfa", sector=s334, chamber=w.chamber)
    w.b = CompanyFactory.create(organisation=org, trade_name="Beta")
    posted_entry(org, date=day("2025-06-01"), amount="5000.00")
    w.i0 = issued_invoice(org, company=w.a, date=day("2025-11-10"))
    w.i1 = issued_invoice(
        org, company=w.a, date=day("2026-01-15"), lines=(("Cuota", "2000.00", "16"),)
    )
    services.payment_receive(
        organisation=org,
        company=w.a,
        date=day("2026-01-20"),
        amount=D("1160"),
        allocations=[(w.i0, D("1160"))],
    )
    posted_entry(org, date=day("2026-02-01"), amount="100.00")
    w.i2 = issued_invoice(
        org, company=w.b, date=day("2026-02-10"), lines=(("Curso", "500.00", "16"),)
    )
    services.payment_receive(
        organisation=org,
        company=w.b,
        date=day("2026-02-20"),
        amount=D("300"),
        allocations=[(w.i2, D("300"))],
    )
    services.payment_receive(
        organisation=org,
        company=w.a,
        date=day("2026-03-01"),
        amount=D("2500"),
        allocations=[(w.i1, D("2320"))],
    )
    w.i3 = issued_invoice(
        org, company=w.b, date=day("2026-03-05"), lines=(("Taller", "300.00", "16"),)
    )
    w.bill = services.bill_post(
        bill=draft_bill(org, date=day("2026-03-05"), amount="500.00", code="5106", pillar=w.pillar)
    )
    services.payment_receive(
        organisation=org,
        company=w.b,
        date=day("2026-03-10"),
        amount=D("280"),
        allocations=[(w.i2, D("280"))],
    )
    services.invoice_cancel(invoice=w.i3, date=day("2026-04-20"))
    dues, office = account(org, "4101"), account(org, "5106")
    for month in (1, 2, 3):
        Budget.objects.create(
            organisation=org,
            account=dues,
            amount=D("1000"),
            period=organisation_period(org, dt.date(2026, month, 1)),
        )
    Budget.objects.create(
        organisation=org,
        account=office,
        pillar=w.pillar,
        amount=D("400"),
        period=organisation_period(org, day("2026-03-01")),
    )
    Budget.objects.create(
        organisation=org,
        account=office,
        amount=D("200"),
        period=organisation_period(org, day("2026-02-01")),
    )
    return w


@pytest.fixture
def world() -> SimpleNamespace:
    w = build_books()
    w.admin = member_of(w.org, "admin", email="admin@fin.example")
    w.viewer = member_of(w.org, "viewer", email="viewer@fin.example")
    w.other = books(OrganisationFactory.create(slug="fin-other", language="en"))
    w.outsider = member_of(w.other, "admin", email="admin@fin-other.example")
    # The other organisation's books: an invoice and a payment that must never show here.
    stranger = CompanyFactory.create(organisation=w.other, trade_name="Ajena")
    foreign = issued_invoice(w.other, company=stranger, date=day("2026-02-02"))
    services.payment_receive(
        organisation=w.other,
        company=stranger,
        date=day("2026-02-25"),
        amount=D("1160"),
        allocations=[(foreign, D("1160"))],
    )
    posted_entry(w.other, date=day("2026-01-10"), amount="777.00")
    return w


def run(key: str, organisation: Any, period: Period = Q1, **params: Any) -> Any:
    report = get_report(key)
    assert report is not None
    return run_report(report, organisation=organisation, period=period, params=params)


def by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in rows if row.get("code")}


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# Trial balance -------------------------------------------------------------------------------


def test_trial_balance_of_the_first_quarter(world: SimpleNamespace) -> None:
    data = run("finance.trial_balance", world.org).data
    rows = by_code(data.rows)
    figures = (
        "opening_debit",
        "opening_credit",
        "debits",
        "credits",
        "closing_debit",
        "closing_credit",
    )

    def line(code: str) -> tuple[Decimal, ...]:
        return tuple(rows[code][name] for name in figures)

    assert line("1102") == (D(5000), 0, D(4340), 0, D(9340), 0)
    assert line("1105") == (D(1160), 0, D(3248), D(4060), D(348), 0)
    assert line("2108") == (0, D(160), 0, D(448), 0, D(608))
    assert line("3101") == (0, D(5000), 0, D(100), 0, D(5100))
    # Income restarts with the fiscal year: 2025's dues are not its opening balance …
    assert line("4101") == (0, 0, 0, D(2800), 0, D(2800))
    assert line("5106") == (0, 0, D(500), 0, D(500), 0)
    # … they are the result of previous years, until an entry closes it to equity.
    previous = data.rows[-1]
    assert previous["key"] == "previous_years"
    assert (previous["opening_credit"], previous["closing_credit"]) == (D(1000), D(1000))
    total = data.total
    assert total is not None
    assert total["debits"] == total["credits"] == D(8168)
    assert total["opening_debit"] == total["opening_credit"] == D(6160)
    assert total["closing_debit"] == total["closing_credit"] == D(10268)
    assert set(rows) == {"1102", "1105", "1118", "2101", "2106", "2108", "3101", "4101", "5106"}


def test_trial_balance_groups_accounts_under_their_parents(world: SimpleNamespace) -> None:
    data = run("finance.trial_balance", world.org, hierarchy=True).data
    rows = by_code(data.rows)
    assert rows["1000"]["group"] and rows["1100"]["group"]
    assert rows["1100"]["closing_debit"] == D(9340 + 348 + 80)
    assert rows["1100"]["level"] == 1 and rows["1102"]["level"] == 2
    codes = [row["code"] for row in data.rows if row.get("code")]
    assert codes.index("1000") < codes.index("1100") < codes.index("1102") < codes.index("2000")
    # Parent lines are not counted twice in the totals.
    assert data.total is not None and data.total["debits"] == D(8168)


def test_trial_balance_links_open_the_accounts_lines(world: SimpleNamespace) -> None:
    result = run("finance.trial_balance", world.org)
    bank = by_code(result.data.rows)["1102"]
    links = result.row_links(bank)
    assert urlsplit(links["debits"]).path == reverse(
        "finance:journalline_list", kwargs={"org": "fin"}
    )
    assert query(links["debits"]) == {
        "account": [str(account(world.org, "1102").pk)],
        "date_from": ["2026-01-01"],
        "date_to": ["2026-03-31"],
    }
    assert query(links["opening_debit"])["date_to"] == ["2025-12-31"]
    # Income and expense accounts start with the fiscal year.
    dues = result.row_links(by_code(result.data.rows)["4101"])
    assert query(dues["closing_credit"])["date_from"] == ["2026-01-01"]


def test_ledger_periods_are_whole_months(world: SimpleNamespace) -> None:
    form = reports.MonthsForm(
        {"preset": "last_12_months"}, organisation=world.org, today=day("2026-06-15")
    )
    assert form.is_valid()
    assert form.period == Period(day("2025-07-01"), day("2026-06-30"))
    assert form.period.previous() == Period(day("2024-07-01"), day("2025-06-30"))
    form = reports.MonthsForm({"from": "2026-02-10", "to": "2026-02-11"}, organisation=world.org)
    assert form.is_valid() and form.period == Period(day("2026-02-01"), day("2026-02-28"))


# Income statement ----------------------------------------------------------------------------


def test_income_statement_by_month(world: SimpleNamespace) -> None:
    result = run("finance.income_statement", world.org)
    data = result.data
    assert [c.label for c in data.columns[2:5]] == ["January 2026", "February 2026", "March 2026"]
    rows = {row["key"]: row for row in data.rows}
    dues = rows[account(world.org, "4101").pk]
    assert (dues["p0"], dues["p1"], dues["p2"], dues["total"]) == (D(2000), D(500), D(300), D(2800))
    assert rows["expense"]["total"] == D(500)
    assert data.total is not None
    assert (data.total["p0"], data.total["p1"], data.total["p2"]) == (D(2000), D(500), D(-200))
    assert data.total["total"] == rows["income"]["total"] - rows["expense"]["total"] == D(2300)
    # Compared with the quarter before (2025's last): 1,000 of dues.
    previous = result.previous
    assert previous is not None and previous.total is not None
    assert previous.total["total"] == D(1000)
    chart = result.chart()
    assert chart is not None
    profit = next(s for s in chart["option"]["series"] if s["name"] == "Profit")
    assert [p["value"] for p in profit["data"]] == [2000.0, 500.0, -200.0]
    income_bar = chart["option"]["series"][0]["data"][0]
    assert query(income_bar["url"])["account_type"] == ["income"]


def test_income_statement_by_quarter_and_year(world: SimpleNamespace) -> None:
    data = run("finance.income_statement", world.org, Y2026, interval="quarter").data
    assert [c.label for c in data.columns[2:6]] == ["Q1 2026", "Q2 2026", "Q3 2026", "Q4 2026"]
    assert data.total is not None
    # The cancellation in April takes the 300 of I3 back.
    assert (data.total["p0"], data.total["p1"], data.total["total"]) == (D(2300), D(-300), D(2000))
    yearly = run("finance.income_statement", world.org, Y2026, interval="year").data
    assert [c.label for c in yearly.columns[2:3]] == ["2026"]
    assert yearly.total is not None and yearly.total["p0"] == D(2000)


def test_income_statement_for_one_pillar(world: SimpleNamespace) -> None:
    result = run("finance.income_statement", world.org, pillar=world.pillar)
    assert result.data.total is not None
    assert result.data.total["total"] == D(-500)  # only the bill carries the pillar
    rows = {row["key"]: row for row in result.data.rows}
    assert rows["income"]["total"] == 0
    link = result.row_links(rows[account(world.org, "5106").pk])["p2"]
    assert query(link)["pillar"] == [str(world.pillar.pk)]


# Balance sheet -------------------------------------------------------------------------------


def test_balance_sheet_balances_with_the_results_of_the_years(world: SimpleNamespace) -> None:
    result = run("finance.balance_sheet", world.org)
    data = result.data
    rows = {row["key"]: row for row in data.rows}
    codes = by_code(data.rows)
    assert codes["1102"]["balance"] == D(9340) and codes["1105"]["balance"] == D(348)
    assert codes["2101"]["balance"] == D(580) and codes["2108"]["balance"] == D(608)
    assert rows["earlier_years"]["balance"] == D(1000)
    assert rows["this_year"]["balance"] == D(2300)
    assert rows["asset"]["balance"] == D(9768)
    assert rows["liability"]["balance"] == D(1368)
    assert rows["equity"]["balance"] == D(5100 + 1000 + 2300)
    assert data.total is not None
    assert data.total["balance"] == rows["asset"]["balance"]
    # The end of the previous quarter: 31 December 2025.
    previous = result.previous
    assert previous is not None
    before = {row["key"]: row for row in previous.rows}
    assert before["asset"]["balance"] == D(6160)
    assert before["earlier_years"]["balance"] == 0 and before["this_year"]["balance"] == D(1000)
    assert previous.total is not None and previous.total["balance"] == D(6160)
    link = result.row_links(rows["this_year"])["balance"]
    assert query(link) == {"from": ["2026-01-01"], "to": ["2026-03-31"]}


def test_balance_sheet_in_a_later_year_still_balances(world: SimpleNamespace) -> None:
    data = run("finance.balance_sheet", world.org, Y2026, hierarchy=True).data
    rows = {row["key"]: row for row in data.rows}
    assert rows["this_year"]["balance"] == D(2000)  # 2,300 less the 300 cancelled
    assert data.total is not None and data.total["balance"] == rows["asset"]["balance"]
    assert by_code(data.rows)["1000"]["balance"] == rows["asset"]["balance"]


# Income and outgoings ------------------------------------------------------------------------


def test_income_and_outgoings_per_month_with_cash(world: SimpleNamespace) -> None:
    result = run("finance.income_and_outgoings", world.org, cash=True)
    figures = [
        (r["label"], r["income"], r["expense"], r["net"], r["cash_in"], r["cash_out"])
        for r in result.data.rows
    ]
    assert figures == [
        ("January 2026", D(2000), 0, D(2000), D(1160), 0),
        ("February 2026", D(500), 0, D(500), D(400), 0),
        ("March 2026", D(300), D(500), D(-200), D(2780), 0),
    ]
    assert result.data.total is not None and result.data.total["cash_in"] == D(4340)
    chart = result.chart()
    assert chart is not None
    assert [s["name"] for s in chart["option"]["series"][:2]] == ["Income", "Expenses"]
    links = result.row_links(result.data.rows[1])
    assert query(links["expense"]) == {
        "account_type": ["expense"],
        "date_from": ["2026-02-01"],
        "date_to": ["2026-02-28"],
    }


# Receivables ageing --------------------------------------------------------------------------


def ageing(world: SimpleNamespace, as_of: str, basis: str = "due_date") -> Any:
    on = day(as_of)
    return run(
        "finance.receivables_ageing", world.org, Period(on - dt.timedelta(days=30), on), basis=basis
    ).data


BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90", "total")


def owed(data: Any) -> dict[str, tuple[Decimal, ...]]:
    return {row["label"]: tuple(row[name] for name in BUCKETS) for row in data.rows}


def summary(data: Any) -> dict[str, Any]:
    return {figure.key: figure.value for figure in data.summary}


@pytest.mark.parametrize(
    ("as_of", "expected", "total"),
    [
        # Before A's payment: I0 is 40 days overdue, I1 not yet due.
        ("2026-01-19", {"Alfa": (D(2320), 0, D(1160), 0, 0, D(3480))}, D(3480)),
        ("2026-01-31", {"Alfa": (D(2320), 0, 0, 0, 0, D(2320))}, D(2320)),
        # I2 partly paid (580 − 300); I3 issued that day.
        ("2026-03-05", {"Beta": (D(628), 0, 0, 0, 0, D(628))}, D(628)),
        ("2026-04-10", {"Beta": (0, D(348), 0, 0, 0, D(348))}, D(348)),
        # Cancelled on 20 April: nothing is owed.
        ("2026-04-30", {}, D(0)),
    ],
)
def test_ageing_before_and_after_payments_and_a_cancellation(
    world: SimpleNamespace, as_of: str, expected: dict[str, Any], total: Decimal
) -> None:
    data = ageing(world, as_of)
    assert owed(data) == expected
    figures = summary(data)
    assert data.total["total"] == figures["total"] == total
    # What the invoices say is owed is what the receivables account holds that day.
    assert figures["receivable_account"] == total
    assert figures["difference"] == 0


def test_ageing_by_invoice_date(world: SimpleNamespace) -> None:
    data = ageing(world, "2026-01-19", basis="date")
    # I0 dated 70 days before, I1 4 days before.
    assert owed(data) == {"Alfa": (0, D(2320), 0, D(1160), 0, D(3480))}


def test_ageing_form_takes_the_day_and_compares_a_month_earlier(world: SimpleNamespace) -> None:
    form = reports.AgeingForm({"as_of": "2026-03-05"}, organisation=world.org)
    assert form.is_valid(), form.errors
    assert form.period == Period(day("2026-02-06"), day("2026-03-05"))
    assert form.period.previous().end == day("2026-02-05")
    assert "as_of" not in form.params()
    quarter = reports.AgeingForm(
        {"preset": "last_quarter", "as_of": "2026-03-05"},
        organisation=world.org,
        today=day("2026-05-15"),
    )
    assert quarter.is_valid() and quarter.period.end == day("2026-03-31")
    this_year = reports.AgeingForm({}, organisation=world.org, today=day("2026-05-15"))
    assert this_year.is_valid() and this_year.period == Period(day("2026-01-01"), day("2026-05-15"))
    assert not reports.AgeingForm({"as_of": "yesterday"}, organisation=world.org).is_valid()


def test_ageing_keeps_the_first_companies_and_adds_up_the_rest(world: SimpleNamespace) -> None:
    data = run(
        "finance.receivables_ageing",
        world.org,
        Period(day("2026-01-01"), day("2026-03-05")),
        companies="25",
    ).data
    assert [row["label"] for row in data.rows] == ["Beta"]
    for i in range(26):
        issued_invoice(world.org, date=day("2026-03-01"), lines=(("Cuota", str(10 + i), "0"),))
    data = run(
        "finance.receivables_ageing",
        world.org,
        Period(day("2026-01-01"), day("2026-03-05")),
        companies="25",
    ).data
    assert len(data.rows) == 26
    assert data.rows[0]["label"] == "Beta"
    others = data.rows[-1]
    assert others["key"] == "others" and others["total"] == D(10) + D(11)
    assert data.total["total"] == summary(data)["receivable_account"]


def test_ageing_links_to_the_companys_open_invoices(world: SimpleNamespace) -> None:
    on = day("2026-01-31")
    result = run("finance.receivables_ageing", world.org, Period(on.replace(day=1), on))
    link = result.row_links(result.data.rows[0])["total"]
    assert query(link) == {"company": [str(world.a.pk)], "state": ["issued"]}


# Payment times -------------------------------------------------------------------------------


TIMES = ("paid", "mean_days", "median_days", "d0_30", "d31_60", "d61_90", "d90", "on_time")


def test_payment_times_of_the_quarter(world: SimpleNamespace) -> None:
    data = run("finance.payment_times", world.org, by="company").data
    rows = {row["label"]: row for row in data.rows}
    assert tuple(rows["Alfa"][n] for n in TIMES) == (2, D(58), D(58), 0, 1, 1, 0, D(0))
    assert tuple(rows["Beta"][n] for n in TIMES) == (1, D(28), D(28), 1, 0, 0, 0, D(100))
    assert (rows["Alfa"]["payments"], rows["Alfa"]["payment_mean"]) == (2, D(1830))
    assert (rows["Beta"]["payments"], rows["Beta"]["payment_mean"]) == (2, D(290))
    total = data.total
    assert total is not None
    assert tuple(total[n] for n in TIMES) == (3, D(48), D(45), 1, 1, 1, 0, D("33.3"))
    assert (total["payments"], total["payment_mean"]) == (4, D(1060))
    figures = summary(data)
    # Receivables on 31 March (348) ÷ invoiced in the quarter (3,248) × 90 days.
    assert figures["dso"] == D("9.64")
    assert figures["median_days"] == D(45) and figures["on_time"] == D("33.3")


def test_payment_times_read_the_days_kept_on_the_paid_invoices(world: SimpleNamespace) -> None:
    kept = dict(Invoice.objects.filter(organisation=world.org).values_list("pk", "days_to_pay"))
    # I0, I1 and I2 paid after 71, 45 and 28 days; I3 cancelled, and its credit note.
    assert [kept.pop(i.pk) for i in (world.i0, world.i1, world.i2, world.i3)] == [71, 45, 28, None]
    assert list(kept.values()) == [None]
    # The report reads those days: a tampered one shows in its figures.
    Invoice.objects.filter(pk=world.i2.pk).update(days_to_pay=31)
    total = run("finance.payment_times", world.org, by="company").data.total
    assert (total["mean_days"], total["median_days"], total["d0_30"]) == (D(49), D(45), 0)


def test_payment_times_by_sector_chamber_and_month(world: SimpleNamespace) -> None:
    by_sector = run("finance.payment_times", world.org, by="sector").data.rows
    assert [(r["label"], r["paid"]) for r in by_sector] == [
        (str(world.manufacturing), 2),
        ("No sector", 1),
    ]
    by_chamber = run("finance.payment_times", world.org, by="chamber").data.rows
    assert [(r["label"], r["paid"]) for r in by_chamber] == [("CANIETI", 2), ("No chamber", 1)]
    by_month = run("finance.payment_times", world.org, by="month").data.rows
    assert [(r["label"], r["paid"], r["payments"]) for r in by_month] == [
        ("January 2026", 1, 1),
        ("February 2026", 0, 1),
        ("March 2026", 2, 2),
    ]


def test_payment_times_other_companies_line(world: SimpleNamespace) -> None:
    for _i in range(25):
        invoice = issued_invoice(
            world.org, date=day("2026-02-01"), lines=(("Cuota", "100.00", "0"),)
        )
        services.payment_receive(
            organisation=world.org,
            company=invoice.company,
            date=day("2026-02-11"),
            amount=D("100"),
            allocations=[(invoice, D("100"))],
        )
    data = run("finance.payment_times", world.org, by="company", companies="25").data
    assert len(data.rows) == 26
    assert data.rows[0]["label"] == "Alfa"
    others = data.rows[-1]
    assert others["key"] == "others" and others["paid"] > 0
    assert sum(row["paid"] for row in data.rows) == data.total["paid"] == 28


def test_payment_times_links(world: SimpleNamespace) -> None:
    result = run("finance.payment_times", world.org, by="company")
    alfa = next(row for row in result.data.rows if row["label"] == "Alfa")
    links = result.row_links(alfa)
    assert query(links["paid"]) == {
        "state": ["paid"],
        "closed_from": ["2026-01-01"],
        "closed_to": ["2026-03-31"],
        "company": [str(world.a.pk)],
    }
    assert query(links["payments"])["company"] == [str(world.a.pk)]


# Budget against actual -----------------------------------------------------------------------


def test_budget_against_actual(world: SimpleNamespace) -> None:
    result = run("finance.budget_vs_actual", world.org)
    rows = {(row.get("code"), row.get("pillar")): row for row in result.data.rows}
    figures = ("budget", "actual", "difference", "used")
    assert tuple(rows[("4101", "No pillar")][n] for n in figures) == (
        D(3000),
        D(2800),
        D(-200),
        D("93.3"),
    )
    assert tuple(rows[("5106", "Content")][n] for n in figures) == (
        D(400),
        D(500),
        D(100),
        D(125),
    )
    assert tuple(rows[("5106", "No pillar")][n] for n in figures) == (D(200), 0, D(-200), D(0))
    total = result.data.total
    assert total is not None
    assert (total["budget"], total["actual"], total["difference"]) == (D(2400), D(2300), D(-100))
    links = result.row_links(rows[("5106", "No pillar")])
    assert query(links["actual"])["pillar"] == ["null"]
    chart = result.chart()
    assert chart is not None and [s["name"] for s in chart["option"]["series"]] == [
        "Budget",
        "Actual",
    ]
    only = run("finance.budget_vs_actual", world.org, pillar=world.pillar).data
    assert [(r["code"], r["pillar"]) for r in only.rows if r.get("account_id")] == [
        ("5106", "Content")
    ]


# Organisations -------------------------------------------------------------------------------


def test_another_organisations_books_never_show(world: SimpleNamespace) -> None:
    theirs = run("finance.trial_balance", world.other).data
    assert theirs.total is not None and theirs.total["debits"] == D(1160 + 1160 + 777)
    mine = run("finance.trial_balance", world.org).data
    assert mine.total is not None and mine.total["debits"] == D(8168)
    assert "Ajena" not in str(run("finance.payment_times", world.org).data.rows)
    on = day("2026-02-10")
    assert "Ajena" not in str(
        run("finance.receivables_ageing", world.org, Period(on, on)).data.rows
    )


def test_another_organisations_reports_are_404(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.outsider)
    for key, path in PAGES.items():
        assert client.get(path, QUARTER).status_code == 404, path
        assert client.get(path, {**QUARTER, "export": "pdf"}).status_code == 404, path
        assert client.get(f"/api/v1/fin/reports/{key}/").status_code == 404, key


# Pages, exports, API, command line -----------------------------------------------------------


def test_every_report_page_renders_in_english_and_spanish(
    world: SimpleNamespace, client: Any
) -> None:
    from django.conf import settings

    client.force_login(world.admin)
    for path in PAGES.values():
        response = client.get(path, QUARTER)
        assert response.status_code == 200, path
        assert response.context["run"] is not None
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es-mx"
    for path in PAGES.values():
        response = client.get(path, {**QUARTER, "by": "month"})
        assert response.status_code == 200, path
        assert '<html lang="es-mx">' in response.content.decode()
    statement = client.get(PAGES["finance.income_statement"], QUARTER)
    assert "Enero de 2026" in statement.content.decode()
    listing = client.get("/fin/finance/reports/").content.decode()
    assert all(f'data-report="{key}"' in listing for key in KEYS)


def test_pages_carry_drill_down_links_and_the_chart(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    html = client.get(PAGES["finance.trial_balance"], QUARTER).content.decode()
    bank = account(world.org, "1102").pk
    assert f"account={bank}&amp;date_from=2026-01-01&amp;date_to=2026-03-31" in html
    on = {"as_of": "2026-03-05"}
    html = client.get(PAGES["finance.receivables_ageing"], on).content.decode()
    assert f"company={world.b.pk}&amp;state=issued" in html
    response = client.get(PAGES["finance.income_statement"], QUARTER)
    assert response.context["chart"] is not None
    assert 'id="report-chart-option"' in response.content.decode()


def test_a_partial_month_counts_whole(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    response = client.get(
        PAGES["finance.trial_balance"], {"from": "2026-01-10", "to": "2026-03-20"}
    )
    assert response.context["run"].period == Q1
    assert response.context["run"].data.total["debits"] == D(8168)


@pytest.mark.parametrize(
    ("export", "content_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pdf", "application/pdf"),
    ],
)
def test_exports(world: SimpleNamespace, client: Any, export: str, content_type: str) -> None:
    client.force_login(world.admin)
    for key, path in PAGES.items():
        response = client.get(path, {**QUARTER, "export": export})
        assert response.status_code == 200, key
        assert response["Content-Type"] == content_type
        name = key.split(".")[1].replace("_", "-")
        assert response["Content-Disposition"] == (
            f'attachment; filename="fin-{name}-20260101-20260331.{export}"'
            if key != "finance.receivables_ageing"
            else response["Content-Disposition"]
        )
        if export == "pdf":
            assert response.content.startswith(b"%PDF-")


def test_csv_and_xlsx_hold_the_table_and_the_previous_period(
    world: SimpleNamespace, client: Any
) -> None:
    client.force_login(world.admin)
    response = client.get(PAGES["finance.trial_balance"], {**QUARTER, "export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Code", "Account", "Opening debit balance", "Opening credit balance"]
    assert rows[0][-2:] == ["Debits (previous period)", "Credits (previous period)"]
    assert rows[-1][1] == "Total" and rows[-1][4:6] == ["8168.00", "8168.00"]
    response = client.get(PAGES["finance.income_statement"], {**QUARTER, "export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[-1][1] == "Profit (income less expenses)"
    assert Decimal(str(values[-1][5])) == D(2300)


def test_pdf_is_in_the_readers_language(world: SimpleNamespace, client: Any) -> None:
    from django.conf import settings
    from django.utils import translation

    from gremio.core.views.reports import report_pdf_html

    client.force_login(world.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es-mx"
    response = client.get(PAGES["finance.balance_sheet"], {**QUARTER, "export": "pdf"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    # The HTML it is drawn from: organisation, period, comparison, totals, parameters.
    with translation.override("en"):
        result = run("finance.balance_sheet", world.org, hierarchy=True)
        html = report_pdf_html(result, request=None)
    assert world.org.legal_name in html and '<html lang="en">' in html
    assert "From Jan. 1, 2026 to March 31, 2026, compared with Oct. 1, 2025" in html
    assert "Total liabilities and equity" in html and "9,768.00" in html
    assert "Show parent accounts: Yes" in html
    with translation.override("es-mx"):
        result = run("finance.balance_sheet", world.org, hierarchy=True)
        html = report_pdf_html(result, request=None)
    assert '<html lang="es-mx">' in html and "1 de enero de 2026" in html.lower()


def test_export_needs_the_export_permission(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.viewer)
    page = PAGES["finance.balance_sheet"]
    response = client.get(page, QUARTER)
    assert response.status_code == 200 and "data-export" not in response.content.decode()
    assert client.get(page, {**QUARTER, "export": "pdf"}).status_code == 403


def test_bad_parameters_are_field_errors(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    page = client.get(PAGES["finance.income_statement"], {**QUARTER, "interval": "week"})
    assert page.status_code == 200 and page.context["form"].errors["interval"]
    foreign = Pillar.objects.create(organisation=world.other, name_es="X", name_en="X")
    api = client.get(
        "/api/v1/fin/reports/finance.budget_vs_actual/", {**QUARTER, "pillar": foreign.pk}
    )
    assert api.status_code == 400 and "pillar" in api.json()
    ageing_page = client.get(PAGES["finance.receivables_ageing"], {"as_of": "2026-02-30"})
    assert ageing_page.status_code == 200 and ageing_page.context["form"].errors["as_of"]


def test_api_returns_json(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    response = client.get(
        "/api/v1/fin/reports/finance.trial_balance/", {**QUARTER, "compare": "1", "hierarchy": "0"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["report"] == "finance.trial_balance"
    assert body["parameters"] == {"hierarchy": False}
    assert body["total"]["debits"] == "8168.00"
    assert body["previous"]["from"] == "2025-10-01"
    ageing_body = client.get(
        "/api/v1/fin/reports/finance.receivables_ageing/", {"as_of": "2026-01-19"}
    ).json()
    assert ageing_body["to"] == "2026-01-19" and ageing_body["total"]["total"] == "3480.00"
    catalogue = [e["key"] for e in client.get("/api/v1/fin/reports/").json()]
    assert set(KEYS) <= set(catalogue)


def test_command_line(world: SimpleNamespace) -> None:
    out = io.StringIO()
    call_command(
        "report",
        "finance.income_statement",
        "--org=fin",
        "--from=2026-01-01",
        "--to=2026-03-31",
        "--param=interval=quarter",
        "--format=json",
        "--compare",
        stdout=out,
    )
    body = json.loads(out.getvalue())
    assert body["total"]["total"] == "2300.00"
    assert body["previous"]["total"]["total"] == "1000.00"
    out = io.StringIO()
    call_command(
        "report",
        "finance.receivables_ageing",
        "--org=fin",
        "--param=as_of=2026-04-10",
        "--language=en",
        stdout=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][0] == "Company" and rows[1][0] == "Beta" and rows[-1][-1] == "348.00"


def test_every_module_gets_pdf_export(world: SimpleNamespace, client: Any) -> None:
    client.force_login(world.admin)
    page = client.get("/fin/members/reports/services-delivered/", QUARTER)
    assert 'data-export="pdf"' in page.content.decode()
    response = client.get("/fin/members/reports/services-delivered/", {**QUARTER, "export": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
