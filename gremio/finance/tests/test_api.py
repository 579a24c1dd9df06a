"""The finance API: every resource and action through token authentication.

Writes go through the services; each refusal is a 400 with the service's
message and leaves every table as it was. Another organisation's record is
a 404, and its id in a body is "does not exist".
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext

from gremio.core import services as core_services
from gremio.core.models import ObjectChange, Organisation, Pillar, User
from gremio.core.roles import Role
from gremio.core.tests.factories import OrganisationFactory, PillarFactory, member_of
from gremio.finance import services
from gremio.finance.models import (
    Account,
    AccountBalance,
    Allocation,
    Bill,
    BillLine,
    BillPayment,
    Budget,
    FiscalYear,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
)
from gremio.finance.posting import EntrySpec, Line, entries_post
from gremio.members.models import Company
from gremio.members.tests.factories import CompanyFactory, ServiceFactory

from .factories import account, books, draft_bill, draft_invoice, issued_invoice, posted_entry

DOES_NOT_EXIST = "object does not exist"


def token_client(user: User) -> Client:
    _token, key = core_services.api_token_create(user=user, name="tests")
    return Client(headers={"Authorization": f"Token {key}"})


def counts() -> dict[str, int]:
    """Row counts of every finance table a write could touch."""
    models = (
        Account,
        AccountBalance,
        Allocation,
        Bill,
        BillLine,
        BillPayment,
        Budget,
        FiscalYear,
        Invoice,
        InvoiceLine,
        InvoiceSeries,
        JournalEntry,
        JournalLine,
        Payment,
        Period,
        ObjectChange,
    )
    return {model.__name__: model.objects.count() for model in models}


class FinanceApiTestCase(TestCase):
    org: ClassVar[Organisation]
    other: ClassVar[Organisation]
    admin: ClassVar[User]
    officer: ClassVar[User]
    viewer: ClassVar[User]
    company: ClassVar[Company]
    foreign_company: ClassVar[Company]
    pillar: ClassVar[Pillar]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = books(OrganisationFactory.create(slug="fin", language="en"))
        cls.other = books(OrganisationFactory.create(slug="fin-other", language="en"))
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.officer = member_of(cls.org, Role.FINANCE)
        cls.viewer = member_of(cls.org, Role.VIEWER)
        cls.company = CompanyFactory.create(organisation=cls.org)
        cls.foreign_company = CompanyFactory.create(organisation=cls.other)
        cls.pillar = PillarFactory.create(organisation=cls.org)

    def setUp(self) -> None:
        self.clients = {"officer": token_client(self.officer)}

    def as_(self, who: str) -> Client:
        if who not in self.clients:
            self.clients[who] = token_client(getattr(self, who))
        return self.clients[who]

    def url(self, path: str, org: Organisation | None = None) -> str:
        return f"/api/v1/{(org or self.org).slug}/finance/{path}"

    def get(self, path: str, who: str = "officer", **params: Any) -> Any:
        return self.as_(who).get(self.url(path), params)

    def send(self, method: str, path: str, data: Any = None, who: str = "officer") -> Any:
        return getattr(self.as_(who), method)(
            self.url(path), data or {}, content_type="application/json"
        )

    def post(self, path: str, data: Any = None, who: str = "officer") -> Any:
        return self.send("post", path, data, who)

    def refused(self, method: str, path: str, data: Any = None, code: int = 400) -> Any:
        """Send a request that must be refused and change nothing; returns the error body."""
        before = counts()
        response = self.send(method, path, data)
        assert response.status_code == code, (response.status_code, response.content)
        assert counts() == before
        return response.json()

    def acct(self, code: str, org: Organisation | None = None) -> Account:
        return account(org or self.org, code)


# Chart of accounts ----------------------------------------------------------------------


class AccountApiTests(FinanceApiTestCase):
    def test_list_filters_and_retrieve(self) -> None:
        rows = self.get("accounts/", type="income", postable="true").json()["results"]
        assert {row["code"] for row in rows} == {
            "4101",
            "4102",
            "4103",
            "4104",
            "4105",
            "4106",
            "4201",
        }
        assert [r["code"] for r in self.get("accounts/", q="Bank acc").json()["results"]] == [
            "1102"
        ]
        bank = self.acct("1102")
        body = self.get(f"accounts/{bank.pk}/").json()
        assert body == {
            "id": bank.pk,
            "code": "1102",
            "name": "Bank accounts",
            "type": "asset",
            "parent": self.acct("1100").pk,
            "postable": True,
            "sat_code": "102.01",
            "active": True,
        }

    def test_create_update_and_delete_an_unused_account(self) -> None:
        data = {
            "code": "1104",
            "name": "Fondo fijo",
            "type": "asset",
            "parent": self.acct("1100").pk,
        }
        response = self.post("accounts/", data)
        assert response.status_code == 201, response.content
        created = Account.objects.get(pk=response.json()["id"])
        assert created.organisation == self.org and created.postable
        response = self.send("patch", f"accounts/{created.pk}/", {"name": "Caja chica"})
        assert response.status_code == 200
        assert response.json()["name"] == "Caja chica"
        assert self.send("delete", f"accounts/{created.pk}/").status_code == 204
        assert not Account.objects.filter(pk=created.pk).exists()

    def test_a_duplicate_code_is_400(self) -> None:
        errors = self.refused("post", "accounts/", {"code": "1102", "name": "X", "type": "asset"})
        assert errors == {"non_field_errors": ["There is already an account with this code."]}

    def test_bad_input_is_field_errors(self) -> None:
        errors = self.refused("post", "accounts/", {"code": "", "name": "X", "type": "gold"})
        assert set(errors) == {"code", "type"}
        errors = self.refused(
            "post",
            "accounts/",
            {"code": "1199", "name": "X", "type": "asset", "parent": self.acct("1102").pk},
        )
        assert errors == {"parent": ["The parent must be a grouping (non-postable) account."]}
        foreign_parent = self.acct("1100", self.other).pk
        errors = self.refused(
            "post",
            "accounts/",
            {"code": "1199", "name": "X", "type": "asset", "parent": foreign_parent},
        )
        assert DOES_NOT_EXIST in errors["parent"][0]
        current = self.acct("1100")
        errors = self.refused("patch", f"accounts/{self.acct('1000').pk}/", {"parent": current.pk})
        assert "under itself" in errors["parent"][0]

    def test_an_account_with_lines_stays_postable_and_is_not_deleted(self) -> None:
        posted_entry(self.org)
        bank = self.acct("1102")
        errors = self.refused("patch", f"accounts/{bank.pk}/", {"postable": False})
        assert errors == {"postable": ["This account has journal lines: it must stay postable."]}
        body = self.refused("delete", f"accounts/{bank.pk}/", code=409)
        assert body == {
            "detail": "“1102 Bank accounts” is in use by other records and cannot be deleted."
        }
        # Referred to by the settings only: still in use.
        receivable = self.acct("1105")
        assert self.refused("delete", f"accounts/{receivable.pk}/", code=409)["detail"]


# Fiscal years and periods --------------------------------------------------------------


class FiscalYearAndPeriodApiTests(FinanceApiTestCase):
    def test_create_a_fiscal_year_with_its_periods(self) -> None:
        response = self.post("fiscal-years/", {"start": "2027-01-01"})
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["name"], body["start"], body["end"]) == ("2027", "2027-01-01", "2027-12-31")
        assert [p["number"] for p in body["periods"]] == list(range(1, 13))
        assert FiscalYear.objects.get(pk=body["id"]).organisation == self.org
        names = [row["name"] for row in self.get("fiscal-years/").json()["results"]]
        assert names == ["2027", "2026", "2025"]

    def test_an_existing_or_missing_start_is_400(self) -> None:
        errors = self.refused("post", "fiscal-years/", {"start": "2026-06-01"})
        assert errors == {"start": ["The fiscal year starting on 2026-01-01 exists already."]}
        assert set(self.refused("post", "fiscal-years/", {"start": "soon"})) == {"start"}
        assert set(self.refused("post", "fiscal-years/", {})) == {"start"}

    def test_fiscal_years_are_not_edited_or_deleted(self) -> None:
        year = FiscalYear.objects.filter(organisation=self.org).first()
        assert year is not None
        for method in ("put", "patch", "delete"):
            assert self.send(method, f"fiscal-years/{year.pk}/").status_code == 405

    def period(self, month: int = 2) -> Period:
        return Period.objects.get(organisation=self.org, start=dt.date(2026, month, 1))

    def test_periods_filter(self) -> None:
        year = FiscalYear.objects.get(organisation=self.org, name="2026")
        rows = self.get("periods/", fiscal_year=year.pk).json()["results"]
        assert len(rows) == 12 and rows[0]["fiscal_year_name"] == "2026"
        services.period_close(period=self.period())
        rows = self.get("periods/", status="closed").json()["results"]
        assert [row["id"] for row in rows] == [self.period().pk]

    def test_close_and_reopen(self) -> None:
        period = self.period()
        response = self.post(f"periods/{period.pk}/close/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "closed"
        assert response.json()["closed_by"] == self.officer.pk
        errors = self.refused("post", f"periods/{period.pk}/close/")
        assert errors == {"non_field_errors": ["The period is already closed."]}
        # Nothing posts into it.
        entry = {
            "date": "2026-02-10",
            "memo": "x",
            "lines": [
                {"account": self.acct("1102").pk, "debit": "10.00"},
                {"account": self.acct("3101").pk, "credit": "10.00"},
            ],
        }
        errors = self.refused("post", "entries/", entry)
        assert errors == {"date": ["The period 2026-02 is closed: nothing posts on 2026-02-10."]}
        # The finance officer may close but not reopen.
        response = self.post(f"periods/{period.pk}/reopen/")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an administrator can reopen a period."}
        period.refresh_from_db()
        assert period.is_closed
        response = self.post(f"periods/{period.pk}/reopen/", who="admin")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "open"
        response = self.post(f"periods/{period.pk}/reopen/", who="admin")
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": ["The period is open."]}

    def test_viewer_reads_but_neither_closes_nor_reopens(self) -> None:
        period = self.period()
        assert self.get(f"periods/{period.pk}/", who="viewer").status_code == 200
        assert self.post(f"periods/{period.pk}/close/", who="viewer").status_code == 403
        services.period_close(period=period)
        assert self.post(f"periods/{period.pk}/reopen/", who="viewer").status_code == 403
        period.refresh_from_db()
        assert period.is_closed

    def test_periods_are_read_only(self) -> None:
        period = self.period()
        assert self.post("periods/", {"number": 1}).status_code == 405
        for method in ("put", "patch", "delete"):
            assert self.send(method, f"periods/{period.pk}/").status_code == 405


# Journal entries and lines ------------------------------------------------------------


class JournalApiTests(FinanceApiTestCase):
    def entry(self, debit: str = "100.00", credit: str = "100.00", **extra: Any) -> dict[str, Any]:
        return {
            "kind": "income",
            "date": "2026-02-03",
            "memo": "Donativo",
            "lines": [
                {
                    "account": self.acct("1102").pk,
                    "debit": debit,
                    "description": "Depósito",
                    "pillar": self.pillar.pk,
                },
                {"account": self.acct("4105").pk, "credit": credit},
            ],
            **extra,
        }

    def test_post_a_manual_entry(self) -> None:
        response = self.post("entries/", self.entry())
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["reference"], body["state"], body["total"]) == (
            "I-2026-000001",
            "posted",
            "100.00",
        )
        assert [
            (line["account_code"], line["debit"], line["credit"], line["pillar"])
            for line in body["lines"]
        ] == [("1102", "100.00", "0.00", self.pillar.pk), ("4105", "0.00", "100.00", None)]
        entry = JournalEntry.objects.get(pk=body["id"])
        assert entry.organisation == self.org and entry.posted_by == self.officer
        assert self.get(f"entries/{entry.pk}/").json() == body

    def test_an_unbalanced_entry_shows_the_difference_and_writes_nothing(self) -> None:
        errors = self.refused("post", "entries/", self.entry(credit="90.00"))
        assert errors == {
            "non_field_errors": [
                "The entry does not balance: debits 100.00, credits 90.00, difference 10.00."
            ]
        }

    def test_bad_lines_are_400(self) -> None:
        foreign = self.acct("4105", self.other).pk
        data = self.entry()
        data["lines"][1]["account"] = foreign
        errors = self.refused("post", "entries/", data)
        assert DOES_NOT_EXIST in errors["lines"]["1"]["account"][0]
        errors = self.refused("post", "entries/", self.entry(debit="-5", credit="-5"))
        assert set(errors["lines"]["0"]) == {"debit"}
        data = self.entry()
        data["lines"][1]["account"] = self.acct("4000").pk
        errors = self.refused("post", "entries/", data)
        assert "groups other accounts and takes no entries" in errors["non_field_errors"][0]
        data = self.entry()
        data["lines"] = data["lines"][:1]
        errors = self.refused("post", "entries/", data)
        assert errors == {"non_field_errors": ["An entry needs at least two lines."]}
        errors = self.refused("post", "entries/", self.entry(date="2031-01-01"))
        assert errors == {
            "date": ["No fiscal year covers 2031-01-01. Create the fiscal year first."]
        }
        errors = self.refused("post", "entries/", {"kind": "gift"})
        assert set(errors) == {"kind", "date", "memo", "lines"}

    def test_reverse(self) -> None:
        entry = posted_entry(self.org)
        response = self.post(f"entries/{entry.pk}/reverse/", {"date": "2026-02-20"})
        assert response.status_code == 201, response.content
        reversal = response.json()
        assert (reversal["reverses"], reversal["date"]) == (entry.pk, "2026-02-20")
        assert self.get(f"entries/{entry.pk}/").json()["reversed_by"] == reversal["id"]
        errors = self.refused("post", f"entries/{entry.pk}/reverse/")
        assert errors == {"non_field_errors": ["This entry is already reversed."]}
        assert set(self.refused("post", f"entries/{reversal['id']}/reverse/", {"date": "x"})) == {
            "date"
        }

    def test_entries_are_neither_changed_nor_deleted(self) -> None:
        entry = posted_entry(self.org)
        for method in ("put", "patch", "delete"):
            assert self.send(method, f"entries/{entry.pk}/", {"memo": "y"}).status_code == 405

    def test_entry_filters(self) -> None:
        first = posted_entry(self.org)
        self.post("entries/", self.entry())
        ids = [
            row["id"]
            for row in self.get("entries/", account=self.acct("3101").pk).json()["results"]
        ]
        assert ids == [first.pk]
        rows = self.get("entries/", kind="income").json()["results"]
        assert [row["memo"] for row in rows] == ["Donativo"]
        assert self.get("entries/", account=self.acct("3101", self.other).pk).status_code == 400

    def test_lines_are_paged_by_cursor_and_filtered(self) -> None:
        bank, endowment = self.acct("1102"), self.acct("3101")
        specs = [
            EntrySpec(
                date=dt.date(2026, 1, 10),
                memo=f"Depósito {n}",
                lines=[
                    Line(account=bank, debit=Decimal(n)),
                    Line(account=endowment, credit=Decimal(n)),
                ],
            )
            for n in range(1, 31)
        ]
        entries_post(organisation=self.org, specs=specs)
        first = self.get("lines/").json()
        assert "count" not in first and first["previous"] is None
        assert len(first["results"]) == 50
        second = self.as_("officer").get(first["next"]).json()
        assert len(second["results"]) == 10 and second["next"] is None
        ids = [row["id"] for row in first["results"] + second["results"]]
        assert ids == sorted(JournalLine.objects.values_list("id", flat=True), reverse=True)
        rows = self.get("lines/", account=bank.pk, q="Depósito 30").json()["results"]
        assert [(row["account_code"], row["debit"], row["date"]) for row in rows] == [
            ("1102", "30.00", "2026-01-10")
        ]
        assert self.post("lines/", {}).status_code == 405


# Invoices -----------------------------------------------------------------------------


class InvoiceApiTests(FinanceApiTestCase):
    def invoice(self, **extra: Any) -> dict[str, Any]:
        return {
            "series": InvoiceSeries.objects.get(organisation=self.org, prefix="A").pk,
            "company": self.company.pk,
            "date": "2026-03-10",
            "lines": [
                {
                    "description": "Cuota anual",
                    "account": self.acct("4101").pk,
                    "unit_price": "1000.00",
                    "pillar": self.pillar.pk,
                },
                {
                    "description": "Curso",
                    "account": self.acct("4103").pk,
                    "quantity": "2",
                    "unit_price": "250.00",
                    "vat_rate": "exempt",
                },
            ],
            **extra,
        }

    def test_create_a_draft_with_lines(self) -> None:
        response = self.post("invoices/", self.invoice())
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["state"], body["reference"], body["currency"]) == ("draft", "", "MXN")
        assert (body["subtotal"], body["vat"], body["total"], body["balance_due"]) == (
            "1500.00",
            "160.00",
            "1660.00",
            "1660.00",
        )
        assert [(line["amount"], line["vat"]) for line in body["lines"]] == [
            ("1000.00", "160.00"),
            ("500.00", "0.00"),
        ]
        assert Invoice.objects.get(pk=body["id"]).organisation == self.org
        assert self.get(f"invoices/{body['id']}/").json() == body

    def test_a_service_line_takes_the_services_pillar(self) -> None:
        service = ServiceFactory.create(organisation=self.org, pillar=self.pillar)
        data = self.invoice()
        data["lines"][1].update(service=service.pk)
        del data["lines"][0]["pillar"]
        response = self.post("invoices/", data)
        assert response.status_code == 201, response.content
        lines = response.json()["lines"]
        assert [(line["service"], line["pillar"]) for line in lines] == [
            (None, None),
            (service.pk, self.pillar.pk),
        ]
        foreign = ServiceFactory.create(organisation=self.other)
        data["lines"][1].update(service=foreign.pk)
        errors = self.refused("post", "invoices/", data)
        assert DOES_NOT_EXIST in errors["lines"]["1"]["service"][0]

    def test_bad_invoices_are_400_and_write_nothing(self) -> None:
        errors = self.refused("post", "invoices/", self.invoice(currency="USD"))
        assert errors == {
            "currency": ["Documents are in the organisation's currency, MXN; USD is not accepted."]
        }
        errors = self.refused("post", "invoices/", self.invoice(company=self.foreign_company.pk))
        assert DOES_NOT_EXIST in errors["company"][0]
        data = self.invoice()
        data["lines"][0]["account"] = self.acct("4101", self.other).pk
        errors = self.refused("post", "invoices/", data)
        assert DOES_NOT_EXIST in errors["lines"]["0"]["account"][0]
        data = self.invoice()
        data["lines"][1]["account"] = self.acct("4000").pk
        data["lines"][0]["unit_price"] = "0"
        errors = self.refused("post", "invoices/", data)
        assert set(errors["lines"]["0"]) == {"unit_price"}
        assert "takes no entries" in errors["lines"]["1"]["account"][0]
        errors = self.refused("post", "invoices/", self.invoice(lines=[]))
        assert set(errors) == {"lines"}
        credit_notes = InvoiceSeries.objects.get(organisation=self.org, prefix="NC")
        errors = self.refused("post", "invoices/", self.invoice(series=credit_notes.pk))
        assert errors == {"series": ["Choose a series of invoices."]}
        errors = self.refused("post", "invoices/", {"date": "2026-02-30"})
        assert {"series", "company", "date", "lines"} <= set(errors)

    def test_update_a_draft(self) -> None:
        invoice = draft_invoice(self.org, company=self.company)
        response = self.send("patch", f"invoices/{invoice.pk}/", {"notes": "Pagar por SPEI"})
        assert response.status_code == 200, response.content
        assert (response.json()["notes"], response.json()["total"]) == ("Pagar por SPEI", "1160.00")
        assert len(response.json()["lines"]) == 1
        response = self.send("put", f"invoices/{invoice.pk}/", self.invoice())
        assert response.status_code == 200, response.content
        assert response.json()["total"] == "1660.00"
        assert InvoiceLine.objects.filter(invoice=invoice).count() == 2
        errors = self.refused("patch", f"invoices/{invoice.pk}/", {"currency": "EUR"})
        assert set(errors) == {"currency"}

    def test_issue_then_no_more_changes(self) -> None:
        invoice = draft_invoice(self.org, company=self.company)
        response = self.post(f"invoices/{invoice.pk}/issue/")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["state"], body["reference"], body["due_date"]) == (
            "issued",
            "A-1",
            "2026-04-09",
        )
        assert JournalEntry.objects.get(pk=body["entry"]).source == "invoice"
        errors = self.refused("post", f"invoices/{invoice.pk}/issue/")
        assert errors == {"non_field_errors": ["Only a draft invoice can be issued."]}
        errors = self.refused("patch", f"invoices/{invoice.pk}/", {"notes": "x"})
        assert errors == {"non_field_errors": ["Only a draft invoice can be changed."]}
        errors = self.refused("delete", f"invoices/{invoice.pk}/")
        assert errors == {"non_field_errors": ["Only a draft invoice can be deleted."]}

    def test_delete_a_draft(self) -> None:
        invoice = draft_invoice(self.org, company=self.company)
        assert self.send("delete", f"invoices/{invoice.pk}/").status_code == 204
        assert not Invoice.objects.filter(pk=invoice.pk).exists()
        assert not InvoiceLine.objects.filter(invoice_id=invoice.pk).exists()

    def test_cancel_answers_the_credit_note(self) -> None:
        invoice = issued_invoice(self.org, company=self.company)
        response = self.post(f"invoices/{invoice.pk}/cancel/", {"date": "2026-03-20"})
        assert response.status_code == 201, response.content
        note = response.json()
        assert (note["is_credit_note"], note["credit_note_for"], note["reference"]) == (
            True,
            invoice.pk,
            "NC-1",
        )
        assert (note["total"], note["date"]) == ("1160.00", "2026-03-20")
        cancelled = self.get(f"invoices/{invoice.pk}/").json()
        assert (cancelled["state"], cancelled["credit_note"]) == ("cancelled", note["id"])
        errors = self.refused("post", f"invoices/{invoice.pk}/cancel/")
        assert errors == {"non_field_errors": ["Only an issued invoice can be cancelled."]}

    def test_cancel_refusals(self) -> None:
        invoice = issued_invoice(self.org, company=self.company)
        errors = self.refused("post", f"invoices/{invoice.pk}/cancel/", {"date": "2026-03-01"})
        assert errors == {"date": ["A credit note cannot predate its invoice."]}
        services.payment_receive(
            organisation=self.org,
            company=self.company,
            date=dt.date(2026, 3, 15),
            amount=Decimal("100.00"),
            allocations=[(invoice, Decimal("100.00"))],
        )
        errors = self.refused("post", f"invoices/{invoice.pk}/cancel/")
        assert errors == {
            "non_field_errors": ["100.00 of this invoice is paid: it cannot be cancelled."]
        }

    def test_pdf(self) -> None:
        invoice = issued_invoice(self.org, company=self.company)
        for accept in ("*/*", "application/pdf"):
            response = self.as_("viewer").get(
                self.url(f"invoices/{invoice.pk}/pdf/"), headers={"Accept": accept}
            )
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == "application/pdf"
            assert response["Content-Disposition"] == 'attachment; filename="fin-A-1.pdf"'
            assert response.content.startswith(b"%PDF")
        foreign = draft_invoice(self.other, company=self.foreign_company)
        assert self.get(f"invoices/{foreign.pk}/pdf/").status_code == 404
        assert Client().get(self.url(f"invoices/{invoice.pk}/pdf/")).status_code == 401

    def test_filters(self) -> None:
        issued = issued_invoice(self.org, company=self.company)
        draft = draft_invoice(self.org)
        ids = {row["id"] for row in self.get("invoices/", state="draft").json()["results"]}
        assert ids == {draft.pk}
        rows = self.get("invoices/", company=self.company.pk).json()["results"]
        assert [row["id"] for row in rows] == [issued.pk]
        assert self.get("invoices/", company=self.foreign_company.pk).status_code == 400


class InvoiceSeriesApiTests(FinanceApiTestCase):
    def test_crud(self) -> None:
        response = self.post("invoice-series/", {"prefix": "B", "name": "Eventos"})
        assert response.status_code == 201, response.content
        series = InvoiceSeries.objects.get(pk=response.json()["id"])
        assert (series.organisation, series.kind) == (self.org, "invoice")
        response = self.send("patch", f"invoice-series/{series.pk}/", {"prefix": "EV"})
        assert response.status_code == 200 and response.json()["prefix"] == "EV"
        prefixes = [row["prefix"] for row in self.get("invoice-series/").json()["results"]]
        assert prefixes == ["A", "EV", "NC"]
        assert self.send("delete", f"invoice-series/{series.pk}/").status_code == 204

    def test_duplicates_and_used_series(self) -> None:
        errors = self.refused("post", "invoice-series/", {"prefix": "A", "name": "Otra"})
        assert errors == {"non_field_errors": ["There is already a series with this prefix."]}
        errors = self.refused("post", "invoice-series/", {"prefix": "C", "name": "x", "kind": "y"})
        assert set(errors) == {"kind"}
        draft_invoice(self.org)
        series = InvoiceSeries.objects.get(organisation=self.org, prefix="A")
        errors = self.refused("patch", f"invoice-series/{series.pk}/", {"prefix": "Z"})
        assert errors == {"prefix": ["The series has invoices: this cannot change."]}
        body = self.refused("delete", f"invoice-series/{series.pk}/", code=409)
        assert "is in use" in body["detail"]


# Payments -----------------------------------------------------------------------------


class PaymentApiTests(FinanceApiTestCase):
    def payment(self, *allocations: tuple[Invoice, str], **extra: Any) -> dict[str, Any]:
        return {
            "company": self.company.pk,
            "date": "2026-03-20",
            "amount": "1500.00",
            "method": "transfer",
            "reference": "SPEI 123",
            "allocations": [
                {"invoice": invoice.pk, "amount": amount} for invoice, amount in allocations
            ],
            **extra,
        }

    def test_receive_and_allocate(self) -> None:
        invoice = issued_invoice(self.org, company=self.company)
        response = self.post("payments/", self.payment((invoice, "1160.00")))
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["amount"], body["allocated"], body["unallocated"]) == (
            "1500.00",
            "1160.00",
            "340.00",
        )
        assert body["bank_account"] == self.acct("1102").pk
        assert [(a["invoice_reference"], a["amount"]) for a in body["allocations"]] == [
            ("A-1", "1160.00")
        ]
        invoice.refresh_from_db()
        assert invoice.state == "paid"
        paid = self.get(f"invoices/{invoice.pk}/").json()
        days = (dt.date(2026, 3, 20) - invoice.date).days
        assert (paid["closed_on"], paid["days_to_pay"]) == ("2026-03-20", days)
        # The credit left over goes to the next invoice.
        second = issued_invoice(self.org, company=self.company)
        response = self.post(
            f"payments/{body['id']}/allocate/", {"invoice": second.pk, "amount": "340.00"}
        )
        assert response.status_code == 201, response.content
        assert (response.json()["invoice"], response.json()["amount"]) == (second.pk, "340.00")
        payment = self.get(f"payments/{body['id']}/").json()
        assert (payment["unallocated"], len(payment["allocations"])) == ("0.00", 2)
        errors = self.refused(
            "post", f"payments/{body['id']}/allocate/", {"invoice": second.pk, "amount": "1.00"}
        )
        assert errors == {"amount": ["Only 0.00 of this payment is unallocated."]}

    def test_a_payment_with_nothing_allocated_is_the_companys_credit(self) -> None:
        bank = self.acct("1101")
        response = self.post("payments/", self.payment(bank_account=bank.pk, method="cash"))
        assert response.status_code == 201, response.content
        assert (response.json()["unallocated"], response.json()["bank_account"]) == (
            "1500.00",
            bank.pk,
        )

    def test_refusals_write_nothing(self) -> None:
        invoice = issued_invoice(self.org, company=self.company)
        errors = self.refused("post", "payments/", self.payment((invoice, "1200.00")))
        assert errors == {
            "amount": ["Invoice A-1 owes 1,160.00; 1,200.00 cannot be allocated to it."]
        }
        errors = self.refused(
            "post", "payments/", self.payment((invoice, "1000.00"), amount="900.00")
        )
        assert errors == {"amount": ["1,000.00 is allocated but only 900.00 was received."]}
        someone_else = issued_invoice(self.org)
        errors = self.refused("post", "payments/", self.payment((someone_else, "10.00")))
        assert errors == {"allocations": ["Invoice A-2 is another company's."]}
        services.invoice_cancel(invoice=invoice, date=dt.date(2026, 3, 11))
        errors = self.refused("post", "payments/", self.payment((invoice, "10.00")))
        assert errors == {"allocations": ["Invoice A-1 is cancelled: it cannot be paid."]}
        foreign = issued_invoice(self.other, company=self.foreign_company)
        errors = self.refused("post", "payments/", self.payment((foreign, "10.00")))
        assert DOES_NOT_EXIST in errors["allocations"]["0"]["invoice"][0]
        for company in (self.foreign_company.pk, 99999999999999999999, "abc"):
            errors = self.refused("post", "payments/", self.payment(company=company))
            assert set(errors) == {"company"}
        errors = self.refused("post", "payments/", self.payment(company=self.foreign_company.pk))
        assert DOES_NOT_EXIST in errors["company"][0]
        errors = self.refused(
            "post", "payments/", self.payment(bank_account=self.acct("1102", self.other).pk)
        )
        assert DOES_NOT_EXIST in errors["bank_account"][0]
        errors = self.refused("post", "payments/", self.payment(bank_account=self.acct("1100").pk))
        assert set(errors) == {"bank_account"}
        errors = self.refused("post", "payments/", self.payment(amount="0", currency="USD"))
        assert set(errors) == {"amount"}
        errors = self.refused("post", "payments/", self.payment(currency="USD"))
        assert set(errors) == {"currency"}
        errors = self.refused("post", "payments/", self.payment(date="2040-01-01"))
        assert set(errors) == {"date"}

    def test_allocate_refusals(self) -> None:
        payment = services.payment_receive(
            organisation=self.org,
            company=self.company,
            date=dt.date(2026, 3, 1),
            amount=Decimal(500),
        )
        foreign = issued_invoice(self.other, company=self.foreign_company)
        errors = self.refused(
            "post", f"payments/{payment.pk}/allocate/", {"invoice": foreign.pk, "amount": "1"}
        )
        assert DOES_NOT_EXIST in errors["invoice"][0]
        draft = draft_invoice(self.org, company=self.company)
        errors = self.refused(
            "post", f"payments/{payment.pk}/allocate/", {"invoice": draft.pk, "amount": "1"}
        )
        assert errors == {"invoice": [f"Invoice {draft.pk} is not open for payment."]}
        errors = self.refused("post", f"payments/{payment.pk}/allocate/", {"amount": "-1"})
        assert set(errors) == {"invoice", "amount"}

    def test_payments_are_neither_changed_nor_deleted(self) -> None:
        payment = services.payment_receive(
            organisation=self.org, company=self.company, date=dt.date(2026, 3, 1), amount=Decimal(5)
        )
        for method in ("put", "patch", "delete"):
            assert self.send(method, f"payments/{payment.pk}/", {}).status_code == 405


# Bills --------------------------------------------------------------------------------


class BillApiTests(FinanceApiTestCase):
    def bill(self, **extra: Any) -> dict[str, Any]:
        return {
            "supplier": self.company.pk,
            "supplier_reference": "F-100",
            "date": "2026-03-05",
            "lines": [
                {
                    "description": "Renta marzo",
                    "account": self.acct("5103").pk,
                    "amount": "10000.00",
                    "pillar": self.pillar.pk,
                }
            ],
            **extra,
        }

    def test_create_update_post_pay(self) -> None:
        response = self.post("bills/", self.bill())
        assert response.status_code == 201, response.content
        bill = response.json()
        assert (bill["state"], bill["total"], bill["lines"][0]["vat"]) == (
            "draft",
            "11600.00",
            "1600.00",
        )
        response = self.send("patch", f"bills/{bill['id']}/", {"due_date": "2026-03-31"})
        assert response.status_code == 200 and response.json()["total"] == "11600.00"
        response = self.post(f"bills/{bill['id']}/post/")
        assert response.status_code == 200, response.content
        assert response.json()["state"] == "posted"
        response = self.post(
            f"bills/{bill['id']}/pay/",
            {"date": "2026-03-31", "amount": "6000.00", "reference": "SPEI 9"},
        )
        assert response.status_code == 201, response.content
        payment = response.json()
        assert (payment["bill"], payment["amount"], payment["bank_account"]) == (
            bill["id"],
            "6000.00",
            self.acct("1102").pk,
        )
        assert self.get(f"bills/{bill['id']}/").json()["balance_due"] == "5600.00"
        rows = self.get("bill-payments/", bill=bill["id"]).json()["results"]
        assert [row["id"] for row in rows] == [payment["id"]]
        errors = self.refused(
            "post", f"bills/{bill['id']}/pay/", {"date": "2026-04-01", "amount": "5600.01"}
        )
        assert errors == {"amount": ["The bill owes 5,600.00; 5,600.01 is too much."]}
        errors = self.refused("post", f"bills/{bill['id']}/cancel/")
        assert errors == {"non_field_errors": ["A bill with payments cannot be cancelled."]}
        errors = self.refused("patch", f"bills/{bill['id']}/", {"notes": "x"})
        assert errors == {"non_field_errors": ["Only a draft bill can be changed."]}
        errors = self.refused("delete", f"bills/{bill['id']}/")
        assert errors == {"non_field_errors": ["Only a draft bill can be deleted."]}
        errors = self.refused("post", f"bills/{bill['id']}/post/")
        assert errors == {"non_field_errors": ["Only a draft bill can be posted."]}

    def test_cancel_and_delete(self) -> None:
        bill = services.bill_post(bill=draft_bill(self.org, supplier=self.company))
        response = self.post(f"bills/{bill.pk}/cancel/", {"date": "2026-03-06"})
        assert response.status_code == 200, response.content
        assert (response.json()["state"], response.json()["closed_on"]) == (
            "cancelled",
            "2026-03-06",
        )
        errors = self.refused(
            "post", f"bills/{bill.pk}/pay/", {"date": "2026-04-01", "amount": "1"}
        )
        assert errors == {"non_field_errors": ["This bill is cancelled: it cannot be paid."]}
        draft = draft_bill(self.org, supplier=self.company)
        assert self.send("delete", f"bills/{draft.pk}/").status_code == 204
        assert not Bill.objects.filter(pk=draft.pk).exists()

    def test_bad_bills_are_400(self) -> None:
        draft_bill(self.org, supplier=self.company, reference="F-100")
        errors = self.refused("post", "bills/", self.bill())
        assert errors == {"non_field_errors": ["This supplier's bill is already recorded."]}
        errors = self.refused("post", "bills/", self.bill(supplier_reference="F-2", currency="USD"))
        assert set(errors) == {"currency"}
        errors = self.refused("post", "bills/", self.bill(supplier=self.foreign_company.pk))
        assert DOES_NOT_EXIST in errors["supplier"][0]
        data = self.bill(supplier_reference="F-3")
        data["lines"][0].update(account=self.acct("5103", self.other).pk, amount="0")
        errors = self.refused("post", "bills/", data)
        assert set(errors["lines"]["0"]) == {"account", "amount"}
        bill = services.bill_post(bill=draft_bill(self.org, supplier=self.company))
        for body in (
            {"date": "2026-03-01", "amount": "1"},
            {"date": "2026-04-01", "amount": "1", "bank_account": self.acct("1102", self.other).pk},
            {"date": "2026-04-01", "amount": "0", "method": "barter"},
        ):
            errors = self.refused("post", f"bills/{bill.pk}/pay/", body)
            assert set(errors) <= {"date", "amount", "bank_account", "method"}, errors

    def test_bill_payments_are_read_only(self) -> None:
        bill = services.bill_post(bill=draft_bill(self.org, supplier=self.company))
        payment = services.bill_pay(bill=bill, date=dt.date(2026, 4, 1), amount=Decimal(10))
        assert self.get(f"bill-payments/{payment.pk}/").json()["amount"] == "10.00"
        assert self.post("bill-payments/", {"bill": bill.pk}).status_code == 405
        for method in ("put", "patch", "delete"):
            assert self.send(method, f"bill-payments/{payment.pk}/").status_code == 405


# Budgets ------------------------------------------------------------------------------


class BudgetApiTests(FinanceApiTestCase):
    def test_crud_and_uniqueness(self) -> None:
        period = Period.objects.get(organisation=self.org, start=dt.date(2026, 1, 1))
        data = {"account": self.acct("5103").pk, "period": period.pk, "amount": "12000.00"}
        response = self.post("budgets/", data)
        assert response.status_code == 201, response.content
        budget = Budget.objects.get(pk=response.json()["id"])
        assert budget.organisation == self.org
        errors = self.refused("post", "budgets/", data)
        assert errors == {
            "non_field_errors": ["This account already has a budget for this period."]
        }
        response = self.post("budgets/", {**data, "pillar": self.pillar.pk})
        assert response.status_code == 201
        errors = self.refused("post", "budgets/", {**data, "pillar": self.pillar.pk})
        assert errors == {
            "non_field_errors": ["This account already has a budget for this pillar and period."]
        }
        response = self.send("patch", f"budgets/{budget.pk}/", {"amount": "15000.00"})
        assert response.status_code == 200 and response.json()["amount"] == "15000.00"
        rows = self.get("budgets/", pillar=self.pillar.pk).json()["results"]
        assert len(rows) == 1 and rows[0]["pillar"] == self.pillar.pk
        assert self.send("delete", f"budgets/{budget.pk}/").status_code == 204

    def test_bad_budgets(self) -> None:
        foreign_period = Period.objects.filter(organisation=self.other).first()
        assert foreign_period is not None
        errors = self.refused(
            "post",
            "budgets/",
            {"account": self.acct("5103").pk, "period": foreign_period.pk, "amount": "-1"},
        )
        assert set(errors) == {"period", "amount"}


# Scoping, authentication, permissions -----------------------------------------------------


class ScopingAndPermissionTests(FinanceApiTestCase):
    """Another organisation's records are 404 everywhere; viewers read; strangers get 401."""

    records: ClassVar[dict[str, Any]]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        other = cls.other
        invoice = issued_invoice(other, company=cls.foreign_company)
        payment = services.payment_receive(
            organisation=other,
            company=cls.foreign_company,
            date=dt.date(2026, 3, 20),
            amount=Decimal(100),
        )
        bill = services.bill_post(bill=draft_bill(other, supplier=cls.foreign_company))
        cls.records = {
            "accounts": account(other, "1102"),
            "fiscal-years": FiscalYear.objects.filter(organisation=other).first(),
            "periods": Period.objects.filter(organisation=other).first(),
            "entries": posted_entry(other),
            "lines": JournalLine.objects.filter(organisation=other).first(),
            "invoices": invoice,
            "invoice-series": InvoiceSeries.objects.filter(organisation=other).first(),
            "payments": payment,
            "bills": bill,
            "bill-payments": services.bill_pay(
                bill=bill, date=dt.date(2026, 4, 1), amount=Decimal(1)
            ),
            "budgets": Budget.objects.create(
                organisation=other,
                account=account(other, "5103"),
                period=Period.objects.filter(organisation=other).earliest("start"),
                amount=Decimal(1),
            ),
        }

    ACTIONS: ClassVar[list[tuple[str, str, dict[str, Any]]]] = [
        ("periods", "close", {}),
        ("periods", "reopen", {}),
        ("entries", "reverse", {}),
        ("invoices", "issue", {}),
        ("invoices", "cancel", {}),
        ("payments", "allocate", {"invoice": 1, "amount": "1"}),
        ("payments", "cancel", {}),
        ("bills", "post", {}),
        ("bills", "cancel", {}),
        ("bills", "pay", {"date": "2026-04-02", "amount": "1"}),
        ("bill-payments", "cancel", {}),
    ]

    def test_another_organisations_records_are_404(self) -> None:
        before = counts()
        for path, record in self.records.items():
            url = f"{path}/{record.pk}/"
            assert self.get(url, who="admin").status_code == 404, url
            for method in ("put", "patch", "delete"):
                assert self.send(method, url, {}, who="admin").status_code in (404, 405), url
        for path, name, body in self.ACTIONS:
            url = f"{path}/{self.records[path].pk}/{name}/"
            assert self.post(url, body, who="admin").status_code == 404, url
        assert counts() == before

    def test_unknown_ids_are_404(self) -> None:
        for pk in ("abc", "99999999", "99999999999999999999999"):
            assert self.get(f"invoices/{pk}/").status_code == 404, pk
            assert self.post(f"invoices/{pk}/issue/").status_code == 404, pk

    def test_another_organisations_addresses_are_404(self) -> None:
        client = self.as_("admin")
        for path, record in self.records.items():
            assert client.get(self.url(f"{path}/", self.other)).status_code == 404, path
            url = self.url(f"{path}/{record.pk}/", self.other)
            assert client.get(url).status_code == 404, path

    def test_lists_hold_only_own_records(self) -> None:
        for path, record in self.records.items():
            response = self.get(f"{path}/", who="admin")
            assert response.status_code == 200, path
            assert record.pk not in {row["id"] for row in response.json()["results"]}, path

    def test_anonymous_is_401(self) -> None:
        client = Client()
        for path, record in self.records.items():
            assert client.get(self.url(f"{path}/")).status_code == 401, path
            assert client.get(self.url(f"{path}/{record.pk}/")).status_code == 401, path
        for path, name, body in self.ACTIONS:
            url = self.url(f"{path}/{self.records[path].pk}/{name}/")
            assert client.post(url, body, content_type="application/json").status_code == 401

    def test_viewer_reads_but_does_not_write(self) -> None:
        org = self.org
        invoice = issued_invoice(org, company=self.company)
        payment = services.payment_receive(
            organisation=org, company=self.company, date=dt.date(2026, 3, 20), amount=Decimal(10)
        )
        bill = services.bill_post(bill=draft_bill(org, supplier=self.company))
        own: dict[str, Any] = {
            "accounts": account(org, "1102"),
            "periods": Period.objects.filter(organisation=org).first(),
            "entries": posted_entry(org),
            "invoices": invoice,
            "invoice-series": InvoiceSeries.objects.filter(organisation=org).first(),
            "payments": payment,
            "bills": bill,
            "bill-payments": services.bill_pay(
                bill=services.bill_post(bill=draft_bill(org, supplier=self.company)),
                date=dt.date(2026, 4, 1),
                amount=Decimal(1),
            ),
            "budgets": Budget.objects.create(
                organisation=org,
                account=account(org, "5103"),
                period=Period.objects.filter(organisation=org).earliest("start"),
                amount=Decimal(1),
            ),
        }
        before = counts()
        for path in self.records:
            assert self.get(f"{path}/", who="viewer").status_code == 200, path
        for path, record in own.items():
            assert self.get(f"{path}/{record.pk}/", who="viewer").status_code == 200, path
            assert self.post(f"{path}/", {}, who="viewer").status_code in (403, 405), path
            for method in ("put", "patch", "delete"):
                response = self.send(method, f"{path}/{record.pk}/", {}, who="viewer")
                assert response.status_code in (403, 405), (path, method)
        assert self.post("fiscal-years/", {"start": "2027-01-01"}, who="viewer").status_code == 403
        for path, name, body in self.ACTIONS:
            url = f"{path}/{own[path].pk}/{name}/"
            assert self.post(url, body, who="viewer").status_code == 403, url
        assert counts() == before


class SchemaTests(TestCase):
    def test_the_schema_validates_without_warnings(self) -> None:
        call_command("spectacular", validate=True, fail_on_warn=True, file=os.devnull)

    def test_finance_paths_are_documented(self) -> None:
        import yaml

        paths = yaml.safe_load(self.client.get("/api/schema/").content)["paths"]
        base = "/api/v1/{org}/finance/"
        for path in (
            "accounts/",
            "fiscal-years/",
            "periods/{id}/reopen/",
            "entries/{id}/reverse/",
            "lines/",
            "invoices/{id}/cancel/",
            "payments/{id}/allocate/",
            "bills/{id}/pay/",
            "bill-payments/",
            "budgets/{id}/",
            "invoice-series/",
        ):
            assert base + path in paths, path
        assert set(paths[base + "entries/{id}/"]) == {"get"}
        assert "post" not in paths[base + "lines/"]


# Query counts do not grow with the rows -----------------------------------------------------


def list_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.django_db
def test_list_query_counts_do_not_grow_with_rows(django_assert_max_num_queries: Any) -> None:
    org = books(OrganisationFactory.create(slug="fin-q", language="en"))
    client = token_client(member_of(org, Role.FINANCE))
    company = CompanyFactory.create(organisation=org)
    paths = (
        "accounts",
        "fiscal-years",
        "periods",
        "entries",
        "lines",
        "invoices",
        "invoice-series",
        "payments",
        "bills",
        "bill-payments",
        "budgets",
    )

    def add_rows(day: int) -> None:
        invoice = issued_invoice(org, company=company, date=dt.date(2026, 3, day))
        payment = services.payment_receive(
            organisation=org,
            company=company,
            date=dt.date(2026, 3, day),
            amount=Decimal(2000),
            allocations=[(invoice, Decimal(100))],
        )
        services.payment_allocate(
            payment=payment,
            invoice=issued_invoice(org, company=company),
            amount=Decimal(5),
            date=dt.date(2026, 3, 28),
        )
        draft_invoice(org, company=company)
        bill = services.bill_post(
            bill=draft_bill(org, supplier=company, date=dt.date(2026, 3, day))
        )
        services.bill_pay(bill=bill, date=dt.date(2026, 3, 28), amount=Decimal(10))
        posted_entry(org, date=dt.date(2026, 3, day))
        Budget.objects.create(
            organisation=org,
            account=account(org, "5103"),
            period=Period.objects.get(organisation=org, start=dt.date(2026, day % 12 + 1, 1)),
            amount=Decimal(day),
        )

    add_rows(1)
    few = {path: list_queries(client, f"/api/v1/fin-q/finance/{path}/") for path in paths}
    for day in range(2, 8):
        add_rows(day)
    for path in paths:
        with django_assert_max_num_queries(few[path]):
            list_queries(client, f"/api/v1/fin-q/finance/{path}/")
        assert few[path] <= 10, (path, few[path])
