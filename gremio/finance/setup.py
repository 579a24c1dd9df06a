"""An organisation's books from nothing: the seeded chart, settings, series, fiscal years."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from gremio.core.models import Organisation
from gremio.core.reports import add_months

from .models import Account, FinanceSettings, FiscalYear, InvoiceSeries, Period

CHART = Path(__file__).parent / "data" / "chart_mx_nonprofit.csv"


def chart_rows() -> list[dict[str, str]]:
    with CHART.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def finance_setup(*, organisation: Organisation) -> FinanceSettings:
    """Seed the chart of accounts for a Mexican non-profit chamber, settings and series.

    Idempotent: an organisation that has its settings keeps them.
    """
    existing = FinanceSettings.objects.filter(organisation=organisation).first()
    if existing:
        return existing
    spanish = organisation.language.startswith("es")
    accounts: dict[str, Account] = {
        account.code: account for account in Account.objects.filter(organisation=organisation)
    }
    roles: dict[str, Account] = {}
    for row in chart_rows():
        account = accounts.get(row["code"])
        if account is None:
            account = Account.objects.create(
                organisation=organisation,
                code=row["code"],
                name=row["name_es"] if spanish else row["name_en"],
                type=row["type"],
                parent=accounts.get(row["parent"]) if row["parent"] else None,
                postable=row["postable"] == "1",
                sat_code=row["sat_code"],
            )
            accounts[account.code] = account
        if row["role"]:
            roles[row["role"]] = account
    with translation.override(organisation.language):  # names are data, in its language
        series = (
            ("A", _("Invoices"), InvoiceSeries.Kind.INVOICE),
            ("NC", _("Credit notes"), InvoiceSeries.Kind.CREDIT_NOTE),
        )
    for prefix, name, kind in series:
        InvoiceSeries.objects.get_or_create(
            organisation=organisation, prefix=prefix, defaults={"name": name, "kind": kind}
        )
    return FinanceSettings.objects.create(
        organisation=organisation,
        receivable_account=roles["receivable"],
        customer_advance_account=roles["customer_advance"],
        payable_account=roles["payable"],
        vat_output_account=roles["vat_output"],
        vat_input_account=roles["vat_input"],
        bank_account=roles["bank"],
        dues_income_account=roles["dues_income"],
        retained_earnings_account=roles["retained_earnings"],
    )


def organisation_setup(organisation: Organisation) -> None:
    """Run for every new organisation (``core.services.ORGANISATION_SETUP``)."""
    finance_setup(organisation=organisation)


def fiscal_year_start(organisation: Organisation, day: dt.date) -> dt.date:
    """The first day of the fiscal year that contains ``day``."""
    month = organisation.fiscal_year_start_month
    year = day.year if day.month >= month else day.year - 1
    return dt.date(year, month, 1)


@transaction.atomic
def fiscal_year_create(*, organisation: Organisation, start: dt.date) -> FiscalYear:
    """Open the fiscal year containing ``start`` with its twelve monthly periods."""
    start = fiscal_year_start(organisation, start)
    if FiscalYear.objects.filter(organisation=organisation, start=start).exists():
        raise ValidationError(
            {"start": _("The fiscal year starting on {date} exists already.").format(date=start)}
        )
    end = add_months(start, 12) - dt.timedelta(days=1)
    name = str(start.year) if start.month == 1 else f"{start.year}-{end.year % 100:02d}"
    fiscal_year = FiscalYear.objects.create(
        organisation=organisation, name=name, start=start, end=end
    )
    Period.objects.bulk_create(
        Period(
            organisation=organisation,
            fiscal_year=fiscal_year,
            number=number,
            start=add_months(start, number - 1),
            end=add_months(start, number) - dt.timedelta(days=1),
        )
        for number in range(1, 13)
    )
    return fiscal_year


def fiscal_years_ensure(*, organisation: Organisation, first: dt.date, last: dt.date) -> None:
    """Create every missing fiscal year between two dates (demo data, set-up)."""
    day = fiscal_year_start(organisation, first)
    while day <= last:
        if not FiscalYear.objects.filter(organisation=organisation, start=day).exists():
            fiscal_year_create(organisation=organisation, start=day)
        day = add_months(day, 12)
