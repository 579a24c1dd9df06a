"""The ledger's pages: chart, years and periods, settings, manual entries, lines, budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tables2.paginators import LazyPaginator

from gremio.core.models import Pillar
from gremio.core.tests.factories import OrganisationFactory, PillarFactory, member_of
from gremio.finance import services
from gremio.finance.models import (
    Account,
    AccountBalance,
    Budget,
    FinanceSettings,
    FiscalYear,
    JournalEntry,
    JournalLine,
    Period,
)
from gremio.finance.posting import Line
from gremio.members.tests.factories import CompanyFactory

from .factories import account, books, issued_invoice, organisation_period, posted_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Any:
    return books(OrganisationFactory.create(slug="libros", language="en"))


@pytest.fixture
def finance_user(org: Any) -> Any:
    return member_of(org, "finance", email="finance@libros.example")


@pytest.fixture
def admin_user(org: Any) -> Any:
    return member_of(org, "admin", email="admin@libros.example")


@pytest.fixture
def fin(client: Any, finance_user: Any) -> Any:
    client.force_login(finance_user)
    return client


def url(org: Any, name: str, *args: Any, **query: Any) -> str:
    address = reverse(f"finance:{name}", args=[org.slug, *args])
    if query:
        address += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return address


def errors_of(response: Any, form: str = "form") -> dict[str, list[str]]:
    return {key: list(value) for key, value in response.context[form].errors.items()}


def entry_data(org: Any, *lines: tuple[str, str, str], **head: Any) -> dict[str, Any]:
    """The add page's POST: ``(account code, debit, credit)`` lines after the head's fields."""
    data: dict[str, Any] = {
        "date": "2026-02-10",
        "memo": "Aportación extraordinaria",
        "kind": "journal",
        "lines-TOTAL_FORMS": str(len(lines) + 2),  # and two blank rows, ignored
        "lines-INITIAL_FORMS": "0",
        **head,
    }
    for index, (code, debit, credit) in enumerate(lines):
        data[f"lines-{index}-account"] = account(org, code).pk
        data[f"lines-{index}-debit"] = debit
        data[f"lines-{index}-credit"] = credit
        data[f"lines-{index}-description"] = f"Line {index}"
    return data


# Pages render -------------------------------------------------------------------------


def test_every_ledger_page_renders_for_a_finance_officer(fin: Any, org: Any) -> None:
    entry = posted_entry(org)
    period = organisation_period(org, dt.date(2026, 2, 1))
    budget = Budget.objects.create(
        organisation=org, account=account(org, "5106"), period=period, amount=Decimal("500")
    )
    fiscal_year = period.fiscal_year
    bank = account(org, "1102")
    pages = [
        url(org, "account_list"),
        url(org, "account_detail", bank.pk),
        url(org, "account_detail", account(org, "1100").pk),
        url(org, "account_add"),
        url(org, "account_edit", bank.pk),
        url(org, "account_delete", bank.pk),
        url(org, "account_history", bank.pk),
        url(org, "fiscalyear_list"),
        url(org, "fiscalyear_detail", fiscal_year.pk),
        url(org, "fiscalyear_add"),
        url(org, "period_list"),
        url(org, "period_detail", period.pk),
        url(org, "period_history", period.pk),
        url(org, "settings"),
        url(org, "journalentry_list"),
        url(org, "journalentry_detail", entry.pk),
        url(org, "journalentry_add"),
        url(org, "journalentry_history", entry.pk),
        url(org, "journalline_list"),
        url(org, "budget_list"),
        url(org, "budget_detail", budget.pk),
        url(org, "budget_add"),
        url(org, "budget_edit", budget.pk),
    ]
    for page in pages:
        assert fin.get(page).status_code == 200, page


def test_entries_cannot_be_edited_or_deleted(org: Any) -> None:
    from django.urls import NoReverseMatch

    for name in ("journalentry_edit", "journalentry_delete", "fiscalyear_edit", "period_edit"):
        with pytest.raises(NoReverseMatch):
            url(org, name, 1)


def test_account_detail_shows_balance_children_and_link_to_lines(fin: Any, org: Any) -> None:
    posted_entry(org, amount="1234.50")
    bank = account(org, "1102")
    response = fin.get(url(org, "account_detail", bank.pk))
    page = response.content.decode()
    assert response.context["balance"]["balance"] == Decimal("1234.50")
    assert "1,234.50" in page
    assert url(org, "journalline_list", account=bank.pk) in page
    group = fin.get(url(org, "account_detail", account(org, "1100").pk))
    assert bank in list(group.context["children"])


def test_a_viewer_reads_but_changes_nothing(client: Any, org: Any) -> None:
    client.force_login(member_of(org, "viewer", email="viewer@libros.example"))
    period = organisation_period(org, dt.date(2026, 2, 1))
    assert client.get(url(org, "account_list")).status_code == 200
    assert client.get(url(org, "account_add")).status_code == 403
    assert client.get(url(org, "journalentry_add")).status_code == 403
    response = client.get(url(org, "settings"))
    assert response.status_code == 200 and "form" not in response.context
    assert client.post(url(org, "settings"), {}).status_code == 403
    assert client.post(url(org, "period_close", period.pk)).status_code == 403
    assert (
        client.post(url(org, "settings_lock_date"), {"lock_date": "2026-01-31"}).status_code == 403
    )
    entry = posted_entry(org)
    assert client.post(url(org, "journalentry_reverse", entry.pk)).status_code == 403
    period.refresh_from_db()
    assert not period.is_closed
    assert FinanceSettings.objects.get(organisation=org).lock_date is None
    assert JournalEntry.objects.count() == 1


# Manual entries ------------------------------------------------------------------------


def test_a_manual_entry_posts_with_its_lines(fin: Any, org: Any) -> None:
    pillar = Pillar.objects.filter(organisation=org).first() or PillarFactory.create(
        organisation=org
    )
    data = entry_data(org, ("1102", "1500.00", ""), ("3101", "", "1500.00"), kind="income")
    data["lines-1-pillar"] = pillar.pk
    response = fin.post(url(org, "journalentry_add"), data)
    entry = JournalEntry.objects.get()
    assert response.status_code == 302 and response["Location"] == entry.get_absolute_url()
    assert entry.is_posted and entry.kind == "income" and entry.total == Decimal("1500.00")
    assert entry.posted_by is not None and entry.posted_by.email == "finance@libros.example"
    lines = list(entry.lines.order_by("pk"))
    assert [(line.account.code, line.debit, line.credit) for line in lines] == [
        ("1102", Decimal("1500.00"), Decimal("0")),
        ("3101", Decimal("0"), Decimal("1500.00")),
    ]
    assert lines[1].pillar == pillar and lines[0].description == "Line 0"
    detail = fin.get(entry.get_absolute_url())
    assert detail.context["debit_total"] == detail.context["credit_total"] == Decimal("1500.00")
    assert "1,500.00" in detail.content.decode()


def test_an_unbalanced_entry_shows_the_difference_and_writes_nothing(fin: Any, org: Any) -> None:
    data = entry_data(org, ("1102", "100.00", ""), ("3101", "", "90.00"))
    response = fin.post(url(org, "journalentry_add"), data)
    assert response.status_code == 200
    assert "difference 10.00" in " ".join(response.context["form"].non_field_errors())
    assert response.context["difference"] == Decimal("10.00")
    assert not JournalEntry.objects.exists()
    assert not JournalLine.objects.exists()
    assert not AccountBalance.objects.exists()


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        ((("1102", "100.00", ""),), None, "at least two lines"),
        ((("1102", "100.00", "100.00"), ("3101", "", "100.00")), "credit", "not both"),
        ((("1102", "", ""), ("3101", "", "100.00")), "debit", "Enter a debit or a credit"),
        ((("1102", "-5", ""), ("3101", "", "-5")), "debit", "greater than or equal to 0"),
    ],
)
def test_bad_lines_are_refused_with_messages(
    fin: Any, org: Any, lines: Any, field: str | None, message: str
) -> None:
    response = fin.post(url(org, "journalentry_add"), entry_data(org, *lines))
    assert response.status_code == 200
    if field is None:
        errors = " ".join(response.context["form"].non_field_errors())
    else:
        errors = " ".join(response.context["formset"].forms[0].errors.get(field, []))
    assert message in errors
    assert not JournalEntry.objects.exists()


def test_a_group_account_or_another_organisations_account_is_not_a_choice(
    fin: Any, org: Any
) -> None:
    other = books(OrganisationFactory.create(slug="otra", language="en"))
    data = entry_data(org, ("1102", "10.00", ""), ("3101", "", "10.00"))
    data["lines-0-account"] = account(org, "1100").pk
    data["lines-1-account"] = account(other, "3101").pk
    response = fin.post(url(org, "journalentry_add"), data)
    forms = response.context["formset"].forms
    assert "account" in forms[0].errors and "account" in forms[1].errors
    assert not JournalEntry.objects.exists()


def test_an_entry_in_a_closed_period_or_without_fiscal_year_is_refused_on_its_date(
    fin: Any, org: Any
) -> None:
    services.period_close(period=organisation_period(org, dt.date(2026, 2, 1)))
    lines = (("1102", "10.00", ""), ("3101", "", "10.00"))
    response = fin.post(url(org, "journalentry_add"), entry_data(org, *lines))
    assert "is closed" in " ".join(errors_of(response)["date"])
    response = fin.post(url(org, "journalentry_add"), entry_data(org, *lines, date="2031-01-05"))
    assert "No fiscal year covers" in " ".join(errors_of(response)["date"])
    assert not JournalEntry.objects.exists()


def test_reversing_an_entry(fin: Any, org: Any) -> None:
    entry = posted_entry(org, amount="250.00")
    response = fin.post(url(org, "journalentry_reverse", entry.pk), {"date": "2026-02-20"})
    reversal = JournalEntry.objects.get(reverses=entry)
    assert response.status_code == 302 and response["Location"] == reversal.get_absolute_url()
    assert reversal.date == dt.date(2026, 2, 20)
    debits = {line.account.code: line.debit for line in reversal.lines.all()}
    assert debits == {"1102": Decimal("0"), "3101": Decimal("250.00")}
    page = fin.get(entry.get_absolute_url())
    assert page.context["reversed_by"] == reversal and not page.context["may_reverse"]
    assert fin.get(reversal.get_absolute_url()).context["object"].reverses == entry
    # A second reversal is refused with a message, not an error page.
    again = fin.post(url(org, "journalentry_reverse", entry.pk), {}, follow=True)
    assert "already reversed" in again.content.decode()
    assert JournalEntry.objects.count() == 2


def test_a_documents_entry_links_to_it_and_is_not_reversed_here(fin: Any, org: Any) -> None:
    invoice = issued_invoice(org)
    page = fin.get(url(org, "journalentry_detail", invoice.entry_id))
    assert page.context["document"]["object"] == invoice
    assert not page.context["may_reverse"]
    refused = fin.post(url(org, "journalentry_reverse", invoice.entry_id), {}, follow=True)
    assert "cancel the document instead" in refused.content.decode()
    assert JournalEntry.objects.count() == 1


def test_a_bad_reversal_date_is_a_message(fin: Any, org: Any) -> None:
    entry = posted_entry(org)
    response = fin.post(url(org, "journalentry_reverse", entry.pk), {"date": "31/31/2026"})
    assert response.status_code == 302
    response = fin.post(url(org, "journalentry_reverse", entry.pk), {"date": "2040-01-01"})
    assert response.status_code == 302 and response["Location"] == entry.get_absolute_url()
    assert JournalEntry.objects.count() == 1


def test_entry_list_filters(fin: Any, org: Any) -> None:
    february = posted_entry(org)
    march = posted_entry(org, date=dt.date(2026, 3, 3))
    response = fin.get(url(org, "journalentry_list", date_from="2026-03-01"))
    shown = {row.record for row in response.context["table"].paginated_rows}
    assert shown == {march}
    response = fin.get(url(org, "journalentry_list", period=february.period_id))
    assert {row.record for row in response.context["table"].paginated_rows} == {february}
    assert fin.get(url(org, "journalentry_list", _export="csv")).status_code == 200


# Periods -----------------------------------------------------------------------------------


def test_close_and_reopen_a_period(
    client: Any, org: Any, finance_user: Any, admin_user: Any
) -> None:
    period = organisation_period(org, dt.date(2026, 2, 1))
    client.force_login(finance_user)
    assert client.get(url(org, "period_close", period.pk)).status_code == 405
    response = client.post(url(org, "period_close", period.pk))
    assert response.status_code == 302 and response["Location"] == period.get_absolute_url()
    period.refresh_from_db()
    assert period.is_closed and period.closed_by == finance_user
    # Closing twice is a message, not a server error.
    again = client.post(url(org, "period_close", period.pk), follow=True)
    assert "already closed" in again.content.decode()
    # Reopening is for administrators only.
    assert client.post(url(org, "period_reopen", period.pk)).status_code == 403
    period.refresh_from_db()
    assert period.is_closed
    detail = client.get(period.get_absolute_url())
    assert not detail.context["may_reopen"] and detail.context["may_close"]
    client.force_login(admin_user)
    back = url(org, "fiscalyear_detail", period.fiscal_year_id)
    response = client.post(url(org, "period_reopen", period.pk), {"_next": back})
    assert response.status_code == 302 and response["Location"] == back
    period.refresh_from_db()
    assert not period.is_closed and period.closed_by is None


def test_a_period_under_the_lock_date_does_not_reopen(
    client: Any, org: Any, admin_user: Any
) -> None:
    period = organisation_period(org, dt.date(2026, 1, 1))
    services.period_close(period=period)
    services.lock_date_set(organisation=org, date=dt.date(2026, 1, 31))
    client.force_login(admin_user)
    response = client.post(url(org, "period_reopen", period.pk), follow=True)
    assert "cannot reopen" in response.content.decode()
    period.refresh_from_db()
    assert period.is_closed


def test_fiscal_year_page_lists_its_periods_with_actions(
    client: Any, org: Any, admin_user: Any
) -> None:
    client.force_login(admin_user)
    fiscal_year = FiscalYear.objects.get(organisation=org, name="2026")
    services.period_close(period=organisation_period(org, dt.date(2026, 1, 1)))
    page = client.get(url(org, "fiscalyear_detail", fiscal_year.pk))
    assert len(page.context["periods"]) == 12
    content = page.content.decode()
    assert content.count('data-action="close"') == 11
    assert content.count('data-action="reopen"') == 1


def test_period_detail_counts_entries_and_links_to_lines(fin: Any, org: Any) -> None:
    entry = posted_entry(org)
    posted_entry(org, date=dt.date(2026, 2, 15))
    page = fin.get(url(org, "period_detail", entry.period_id))
    assert page.context["entries_count"] == 2
    assert url(org, "journalline_list", period=entry.period_id) in page.content.decode()


def test_opening_a_fiscal_year(fin: Any, org: Any) -> None:
    response = fin.get(url(org, "fiscalyear_add"))
    assert response.context["form"].initial["start"] == dt.date(2027, 1, 1)
    response = fin.post(url(org, "fiscalyear_add"), {"start": "2027-06-15"})
    fiscal_year = FiscalYear.objects.get(organisation=org, name="2027")
    assert response["Location"] == fiscal_year.get_absolute_url()
    assert fiscal_year.periods.count() == 12
    response = fin.post(url(org, "fiscalyear_add"), {"start": "2026-03-01"})
    assert "exists already" in " ".join(errors_of(response)["start"])
    response = fin.post(url(org, "fiscalyear_add"), {"start": "9999-12-31"})
    assert "start" in errors_of(response)
    assert FiscalYear.objects.filter(organisation=org).count() == 3


# Settings and the lock date ------------------------------------------------------------------


def test_settings_page_saves_accounts_of_the_right_type(fin: Any, org: Any) -> None:
    current = FinanceSettings.objects.get(organisation=org)
    page = fin.get(url(org, "settings"))
    choices = page.context["form"].fields["bank_account"].queryset
    assert set(choices.values_list("type", flat=True)) == {"asset"}
    assert not choices.filter(postable=False).exists()
    data = {
        name: getattr(current, f"{name}_id")
        for name in (
            "receivable_account",
            "customer_advance_account",
            "payable_account",
            "vat_output_account",
            "vat_input_account",
            "bank_account",
            "dues_income_account",
            "retained_earnings_account",
        )
    }
    bad = {**data, "bank_account": account(org, "4101").pk, "payment_terms_days": "30"}
    response = fin.post(url(org, "settings"), bad)
    assert "bank_account" in errors_of(response)
    other_bank = Account.objects.create(
        organisation=org, code="1110", name="Second bank", type="asset", parent=account(org, "1100")
    )
    response = fin.post(
        url(org, "settings"), {**data, "bank_account": other_bank.pk, "payment_terms_days": "15"}
    )
    assert response.status_code == 302
    current.refresh_from_db()
    assert current.bank_account == other_bank and current.payment_terms_days == 15


def test_an_organisation_without_books_sets_them_up_from_the_settings_page(
    client: Any,
) -> None:
    bare = OrganisationFactory.create(slug="sin-libros", language="en")
    client.force_login(member_of(bare, "finance", email="finance@sin-libros.example"))
    page = client.get(url(bare, "settings"))
    assert page.status_code == 200 and page.context["settings"] is None
    assert not FinanceSettings.objects.filter(organisation=bare).exists()
    assert client.post(url(bare, "settings"), {"setup": "1"}).status_code == 302
    settings = FinanceSettings.objects.get(organisation=bare)
    assert settings.bank_account.code == "1102"


def test_the_lock_date_moves_forward_only(fin: Any, org: Any) -> None:
    response = fin.post(url(org, "settings_lock_date"), {"lock_date": "2026-01-31"})
    assert response.status_code == 302
    settings = FinanceSettings.objects.get(organisation=org)
    assert settings.lock_date == dt.date(2026, 1, 31)
    response = fin.post(url(org, "settings_lock_date"), {"lock_date": "2026-01-15"})
    assert response.status_code == 200
    assert "only moves forward" in " ".join(errors_of(response, "lock_form")["lock_date"])
    response = fin.post(url(org, "settings_lock_date"), {"lock_date": "2999-01-01"})
    assert "future" in " ".join(errors_of(response, "lock_form")["lock_date"])
    response = fin.post(url(org, "settings_lock_date"), {"lock_date": "not a date"})
    assert "lock_date" in errors_of(response, "lock_form")
    settings.refresh_from_db()
    assert settings.lock_date == dt.date(2026, 1, 31)


# Chart of accounts -----------------------------------------------------------------------------


def test_account_form_rules(fin: Any, org: Any) -> None:
    posted_entry(org)
    bank, assets = account(org, "1102"), account(org, "1100")
    base = {"code": "1190", "name": "Petty cash", "type": "asset", "postable": "on", "active": "on"}
    response = fin.post(url(org, "account_add"), {**base, "parent": assets.pk})
    assert response.status_code == 302
    assert Account.objects.get(organisation=org, code="1190").parent == assets
    response = fin.post(url(org, "account_add"), {**base, "parent": assets.pk})
    assert "already an account with this code" in " ".join(errors_of(response)["code"])
    response = fin.post(
        url(org, "account_add"),
        {**base, "code": "1191", "type": "expense", "parent": assets.pk},
    )
    assert "another type" in " ".join(errors_of(response)["parent"])
    # An account with lines stays postable (and of its type).
    edit = {"code": bank.code, "name": bank.name, "type": "asset", "active": "on"}
    response = fin.post(url(org, "account_edit", bank.pk), {**edit, "parent": assets.pk})
    assert "must stay postable" in " ".join(errors_of(response)["postable"])
    response = fin.post(
        url(org, "account_edit", bank.pk), {**edit, "type": "expense", "postable": "on"}
    )
    assert "cannot change" in " ".join(errors_of(response)["type"])
    # A group cannot go under one of its own sub-accounts.
    group = {"code": "1100", "name": assets.name, "type": "asset", "active": "on"}
    child_group = Account.objects.create(
        organisation=org, code="1199", name="Group", type="asset", parent=assets, postable=False
    )
    response = fin.post(url(org, "account_edit", assets.pk), {**group, "parent": child_group.pk})
    assert "itself or one of its sub-accounts" in " ".join(errors_of(response)["parent"])
    bank.refresh_from_db()
    assert bank.postable and bank.type == "asset"


def test_an_account_in_use_is_not_deleted(fin: Any, org: Any) -> None:
    posted_entry(org)
    period = organisation_period(org, dt.date(2026, 1, 1))
    budgeted = Account.objects.create(
        organisation=org, code="5199", name="Budgeted", type="expense", parent=account(org, "5100")
    )
    Budget.objects.create(organisation=org, account=budgeted, period=period, amount=Decimal(1))
    cases = {
        "1102": "has journal lines",
        "1105": "in the finance settings",
        "1100": "has sub-accounts",
        "5199": "in use by other records",
    }
    for code, message in cases.items():
        target = Account.objects.get(organisation=org, code=code)
        response = fin.post(url(org, "account_delete", target.pk), follow=True)
        assert response.status_code == 200
        assert message in response.content.decode(), code
        assert Account.objects.filter(pk=target.pk).exists()
    unused = Account.objects.create(
        organisation=org, code="5198", name="Unused", type="expense", parent=account(org, "5100")
    )
    response = fin.post(url(org, "account_delete", unused.pk))
    assert response.status_code == 302 and not Account.objects.filter(pk=unused.pk).exists()


def test_the_settings_accounts_stay_postable_and_active(fin: Any, org: Any) -> None:
    receivable = account(org, "1105")
    data = {"code": "1105", "name": receivable.name, "type": "asset", "postable": "on"}
    response = fin.post(url(org, "account_edit", receivable.pk), data)
    assert "finance settings" in " ".join(errors_of(response)["active"])


# Journal lines --------------------------------------------------------------------------------


@pytest.fixture
def ledger(org: Any) -> dict[str, Any]:
    """Three entries in February and March 2026: a deposit, dues with a pillar, a payment."""
    company = CompanyFactory.create(organisation=org)
    pillar = PillarFactory.create(organisation=org)
    bank, equity, dues = account(org, "1102"), account(org, "3101"), account(org, "4101")
    posted_entry(org, date=dt.date(2026, 2, 3), amount="100.00")
    services.entry_post(
        organisation=org,
        date=dt.date(2026, 2, 20),
        memo="Cuota especial",
        kind="income",
        lines=[
            Line(account=bank, debit=Decimal("40.00")),
            Line(account=dues, credit=Decimal("40.00"), pillar_id=pillar.pk),
        ],
    )
    services.payment_receive(
        organisation=org, company=company, date=dt.date(2026, 3, 10), amount=Decimal("7.50")
    )
    return {"company": company, "pillar": pillar, "bank": bank, "equity": equity, "dues": dues}


def line_totals(response: Any) -> tuple[Decimal, Decimal]:
    totals = response.context["totals"]
    return totals["debit"], totals["credit"]


def shown_lines(response: Any) -> list[JournalLine]:
    return [row.record for row in response.context["table"].paginated_rows]


def test_journal_lines_filters_and_totals(fin: Any, org: Any, ledger: dict[str, Any]) -> None:
    everything = fin.get(url(org, "journalline_list"))
    assert line_totals(everything) == (Decimal("147.50"), Decimal("147.50"))
    assert len(shown_lines(everything)) == 6
    bank = fin.get(url(org, "journalline_list", account=ledger["bank"].pk))
    assert line_totals(bank) == (Decimal("147.50"), Decimal("0"))
    assert "147.50" in bank.content.decode()
    # Totals come from the balances (whole months), the entries (entry filters only)
    # or the lines (anything else); all three agree with the lines shown.
    february = fin.get(
        url(
            org,
            "journalline_list",
            account=ledger["bank"].pk,
            date_from="2026-02-01",
            date_to="2026-02-28",
        )
    )
    assert line_totals(february) == (Decimal("140.00"), Decimal("0"))
    bank_part = fin.get(
        url(org, "journalline_list", account=ledger["bank"].pk, date_from="2026-02-10")
    )
    assert line_totals(bank_part) == (Decimal("47.50"), Decimal("0"))
    assert len(shown_lines(bank_part)) == 2
    part = fin.get(url(org, "journalline_list", date_from="2026-02-10", date_to="2026-03-31"))
    assert line_totals(part) == (Decimal("47.50"), Decimal("47.50"))
    assert len(shown_lines(part)) == 4
    cases = {
        "account_type": ("income", (Decimal("0"), Decimal("40.00"))),
        "pillar": (ledger["pillar"].pk, (Decimal("0"), Decimal("40.00"))),
        "company": (ledger["company"].pk, (Decimal("7.50"), Decimal("7.50"))),
        "kind": ("income", (Decimal("47.50"), Decimal("47.50"))),
        "q": ("especial", (Decimal("40.00"), Decimal("40.00"))),
        "period": (
            organisation_period(org, dt.date(2026, 3, 1)).pk,
            (Decimal("7.50"), Decimal("7.50")),
        ),
    }
    for name, (value, expected) in cases.items():
        response = fin.get(url(org, "journalline_list", **{name: value}))
        assert line_totals(response) == expected, name
        lines = shown_lines(response)
        assert sum((line.debit for line in lines), Decimal(0)) == expected[0], name
    invalid = fin.get(url(org, "journalline_list", account="nope"))
    assert line_totals(invalid) == (Decimal("0"), Decimal("0"))
    assert not shown_lines(invalid)


def test_journal_lines_are_counted_only_for_one_account(
    fin: Any, org: Any, ledger: dict[str, Any]
) -> None:
    response = fin.get(url(org, "journalline_list"))
    assert isinstance(response.context["table"].paginator, LazyPaginator)
    response = fin.get(url(org, "journalline_list", account=ledger["bank"].pk))
    assert not isinstance(response.context["table"].paginator, LazyPaginator)
    assert response.context["table"].paginator.count == 3


def test_journal_lines_htmx_update_carries_the_totals(
    fin: Any, org: Any, ledger: dict[str, Any]
) -> None:
    response = fin.get(
        url(org, "journalline_list", account=ledger["dues"].pk),
        headers={"HX-Request": "true", "HX-Target": "object-table"},
    )
    page = response.content.decode()
    assert 'id="line-totals"' in page and 'hx-swap-oob="true"' in page
    assert "<html" not in page


def test_journal_lines_export(fin: Any, org: Any, ledger: dict[str, Any]) -> None:
    csv = fin.get(url(org, "journalline_list", account=ledger["bank"].pk, _export="csv"))
    rows = [row for row in csv.content.decode().splitlines() if row.strip()]
    assert len(rows) == 4 and "D-2026-000001" in rows[1]
    xlsx = fin.get(url(org, "journalline_list", _export="xlsx"))
    assert xlsx.status_code == 200


# Budgets ----------------------------------------------------------------------------------


def test_budgets(fin: Any, org: Any) -> None:
    period = organisation_period(org, dt.date(2026, 4, 1))
    expense = account(org, "5106")
    data = {"account": expense.pk, "period": period.pk, "amount": "1200.00"}
    assert fin.post(url(org, "budget_add"), data).status_code == 302
    budget = Budget.objects.get(organisation=org)
    response = fin.post(url(org, "budget_add"), data)
    assert "already has a budget" in " ".join(errors_of(response)["period"])
    pillar = PillarFactory.create(organisation=org)
    assert fin.post(url(org, "budget_add"), {**data, "pillar": pillar.pk}).status_code == 302
    response = fin.post(url(org, "budget_add"), {**data, "pillar": pillar.pk})
    assert "already has a budget" in " ".join(errors_of(response)["period"])
    response = fin.post(url(org, "budget_add"), {**data, "amount": "-1"})
    assert "amount" in errors_of(response)
    response = fin.post(url(org, "budget_add"), {**data, "account": account(org, "1102").pk})
    assert "account" in errors_of(response)
    response = fin.post(url(org, "budget_edit", budget.pk), {**data, "amount": "1500"})
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.amount == Decimal("1500.00")
    assert Budget.objects.filter(organisation=org).count() == 2
    assert "1,500.00" in fin.get(url(org, "budget_list")).content.decode()


# Query counts --------------------------------------------------------------------------------


def count_queries(client: Any, address: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_list_and_detail_pages_ask_the_same_number_of_queries_for_3_and_30_rows(
    fin: Any, org: Any, django_assert_max_num_queries: Any
) -> None:
    company = CompanyFactory.create(organisation=org)
    pillar = PillarFactory.create(organisation=org)
    group = account(org, "5100")
    periods = list(Period.objects.filter(organisation=org, fiscal_year__name="2026"))

    def entry_of(lines: int) -> JournalEntry:
        return services.entry_post(
            organisation=org,
            date=dt.date(2026, 1, 2),
            memo=f"{lines} lines",
            lines=[
                Line(account=account(org, "1102"), debit=Decimal(lines)),
                *[
                    Line(account=account(org, "3101"), credit=Decimal(1), pillar_id=pillar.pk)
                    for _ in range(lines)
                ],
            ],
        )

    def grow(to: int) -> None:
        made = Account.objects.filter(organisation=org, code__startswith="59").count()
        for i in range(made, to):
            expense = Account.objects.create(
                organisation=org, code=f"59{i:02d}", name=f"Gasto {i}", type="expense", parent=group
            )
            services.payment_receive(
                organisation=org,
                company=company,
                date=dt.date(2026, 1 + i % 12, 1 + i % 28),
                amount=Decimal(i + 1),
            )
            Budget.objects.create(
                organisation=org, account=expense, period=periods[i % 12], amount=Decimal(i)
            )

    small, big = entry_of(3), entry_of(30)
    pages = {
        url(org, "account_list"): None,
        url(org, "account_detail", group.pk): None,
        url(org, "journalentry_list"): None,
        url(org, "journalentry_detail", small.pk): url(org, "journalentry_detail", big.pk),
        url(org, "journalline_list"): None,
        url(org, "journalline_list", account=account(org, "1102").pk): None,
        url(org, "journalline_list", date_from="2026-01-05"): None,
        url(org, "budget_list"): None,
        url(org, "fiscalyear_list"): None,
        url(org, "period_list"): None,
    }
    grow(3)
    counts = {page: count_queries(fin, page) for page in pages}
    grow(30)
    for page, count in counts.items():
        later = pages[page] or page
        with django_assert_max_num_queries(count):
            assert fin.get(later).status_code == 200, later


# Languages ---------------------------------------------------------------------------------


def test_pages_render_in_spanish(client: Any, org: Any, finance_user: Any) -> None:
    entry = posted_entry(org, amount="1234.50")
    client.force_login(finance_user)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "es-mx"
    for page in (
        url(org, "journalentry_detail", entry.pk),
        url(org, "journalline_list"),
        url(org, "settings"),
    ):
        response = client.get(page)
        assert response.status_code == 200
        assert '<html lang="es-mx">' in response.content.decode()
