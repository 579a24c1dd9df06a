"""Invoices, payments received and supplier bills through their pages.

Every write goes through the pages as a finance officer would make it; bad
input answers with a message on the form and leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.finance import services
from gremio.finance.models import (
    Allocation,
    Bill,
    BillPayment,
    Invoice,
    InvoiceSeries,
    JournalEntry,
    Payment,
)
from gremio.finance.verify import ledger_differences
from gremio.members.tests.factories import CompanyFactory, ContactFactory, ServiceFactory

from .factories import account, books, draft_bill, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def org() -> Any:
    return books(OrganisationFactory.create(slug="camara", name="Cámara", language="en"))


@pytest.fixture
def user(org: Any) -> Any:
    return member_of(org, "finance", email="finanzas@camara.example")


@pytest.fixture
def web(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


@pytest.fixture
def company(org: Any) -> Any:
    return CompanyFactory.create(organisation=org, legal_name="Aceros del Bajío, S.A. de C.V.")


def url(org: Any, name: str, *args: Any) -> str:
    return reverse(f"finance:{name}", args=[org.slug, *args])


def lines_data(prefix: str, rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def invoice_post(org: Any, company: Any, rows: list[dict[str, Any]], **header: Any) -> dict:
    series = InvoiceSeries.objects.get(organisation=org, prefix="A")
    data = {
        "series": series.pk,
        "company": company.pk,
        "date": "2026-03-10",
        "due_date": "",
        "language": "",
        "notes": "",
        **header,
    }
    return {**data, **lines_data("lines", rows)}


def dues_line(org: Any, **values: Any) -> dict[str, Any]:
    return {
        "description": "Cuota anual 2026",
        "service": "",
        "account": account(org, "4101").pk,
        "pillar": "",
        "quantity": "1",
        "unit_price": "1000.00",
        "vat_rate": "16",
        **values,
    }


# An untouched row as the browser sends it: the defaults, nothing typed.
BLANK_LINE = {
    "description": "",
    "service": "",
    "account": "",
    "pillar": "",
    "quantity": "1",
    "unit_price": "",
    "vat_rate": "16",
}


def payment_post(
    company: Any, amount: str, allocations: list[tuple[Invoice, str]], **values: Any
) -> dict[str, Any]:
    data = {
        "company": company.pk,
        "date": "2026-03-20",
        "amount": amount,
        "method": "transfer",
        "bank_account": account(company.organisation, "1102").pk,
        "reference": "SPEI 4471",
        "notes": "",
        **values,
    }
    rows = [{"invoice": invoice.pk, "amount": value} for invoice, value in allocations]
    return {**data, **lines_data("allocations", rows)}


def error_texts(response: Any) -> str:
    return response.content.decode()


# Invoices ----------------------------------------------------------------------------------


def test_an_invoice_made_on_the_page_is_issued_then_paid_in_two_steps(
    web: Any, org: Any, company: Any
) -> None:
    service = ServiceFactory.create(organisation=org, name="Capacitación")
    ContactFactory.create(organisation=org, company=company, language="en")
    page = web.get(url(org, "invoice_add") + f"?company={company.pk}")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["series"] == InvoiceSeries.objects.get(organisation=org, prefix="A").pk
    assert form.initial["language"] == "en"  # the company's contact reads English
    assert form["currency"].value() == "MXN"

    response = web.post(
        url(org, "invoice_add"),
        invoice_post(
            org,
            company,
            [
                dues_line(org),
                dues_line(
                    org,
                    description="Curso de exportación",
                    service=service.pk,
                    account=account(org, "4103").pk,
                    quantity="2",
                    unit_price="250.00",
                    vat_rate="0",
                ),
                BLANK_LINE,
            ],
            currency="USD",  # shown, not chosen: ignored
        ),
    )
    invoice = Invoice.objects.get(organisation=org)
    assert response.status_code == 302
    assert response["Location"] == invoice.get_absolute_url()
    assert invoice.state == Invoice.State.DRAFT and invoice.currency == "MXN"
    assert invoice.language == "en"
    assert (invoice.subtotal, invoice.vat, invoice.total) == (
        D("1500.00"),
        D("160.00"),
        D("1660.00"),
    )
    training = invoice.lines.get(description="Curso de exportación")
    assert training.pillar_id == service.pillar_id  # the service's pillar by default

    assert web.post(url(org, "invoice_issue", invoice.pk)).status_code == 302
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED and invoice.reference == "A-1"
    assert invoice.due_date == dt.date(2026, 4, 9)  # thirty days' terms
    detail = web.get(invoice.get_absolute_url())
    assert detail.context["may_pay"] and detail.context["may_cancel"]
    assert f"?company={company.pk}&amp;invoice={invoice.pk}" in detail.content.decode()

    # The company-aware payment page proposes the invoice's balance.
    page = web.get(url(org, "payment_add") + f"?invoice={invoice.pk}")
    assert page.context["company"] == company
    assert page.context["form"].initial["amount"] == D("1660.00")
    assert page.context["formset"].forms[0].initial == {
        "invoice": invoice.pk,
        "amount": D("1660.00"),
    }

    response = web.post(
        url(org, "payment_add"), payment_post(company, "1660.00", [(invoice, "1000")])
    )
    payment = Payment.objects.get(organisation=org)
    assert response.status_code == 302 and response["Location"] == payment.get_absolute_url()
    assert (payment.allocated, payment.unallocated) == (D("1000.00"), D("660.00"))
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("1000.00") and invoice.state == Invoice.State.ISSUED

    page = web.get(payment.get_absolute_url())
    assert page.context["may_allocate"]
    assert page.context["allocate_form"].initial == {"invoice": invoice.pk, "amount": D("660.00")}
    response = web.post(
        url(org, "payment_allocate", payment.pk),
        {"invoice": invoice.pk, "amount": "660.00", "date": "2026-03-25"},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.state == Invoice.State.PAID and invoice.closed_on == dt.date(2026, 3, 25)
    assert payment.unallocated == 0
    assert Allocation.objects.filter(invoice=invoice).count() == 2
    assert ledger_differences(org) == []

    detail = web.get(invoice.get_absolute_url())
    assert len(detail.context["allocations"]) == 2
    assert not detail.context["may_pay"] and not detail.context["may_cancel"]


def test_the_form_refuses_bad_input_and_writes_nothing(web: Any, org: Any, company: Any) -> None:
    other = OrganisationFactory.create(slug="otra")
    foreign = CompanyFactory.create(organisation=other)
    cases = [
        (invoice_post(org, company, [BLANK_LINE]), "Add at least one line."),
        (invoice_post(org, foreign, [dues_line(org)]), "Select a valid choice"),
        (invoice_post(org, company, [dues_line(org, unit_price="0")]), "unit_price"),
        (
            invoice_post(org, company, [dues_line(org, account=account(org, "5106").pk)]),
            "Select a valid choice",  # an expense account is no income account
        ),
        (invoice_post(org, company, [dues_line(org)], date="31/02/2026"), "Enter a valid date"),
    ]
    for data, expected in cases:
        response = web.post(url(org, "invoice_add"), data)
        assert response.status_code == 200
        assert expected in error_texts(response), expected
        assert "nothing has been saved" in error_texts(response)
    assert not Invoice.objects.exists()
    # Malformed ids in the query string are no server error either.
    for name in ("invoice_add", "invoice_list", "payment_list", "bill_add", "payment_add"):
        for query in ("?company=abc", "?company=99999999", "?invoice=x&company=1.5"):
            assert web.get(url(org, name) + query).status_code == 200, (name, query)


def test_issuing_outside_the_fiscal_years_is_a_message_not_an_error(web: Any, org: Any) -> None:
    invoice = draft_invoice(org, date=dt.date(2031, 1, 15))
    response = web.post(url(org, "invoice_issue", invoice.pk), follow=True)
    assert response.status_code == 200
    assert "No fiscal year covers 2031-01-15" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.DRAFT and invoice.number is None
    assert not JournalEntry.objects.filter(organisation=org).exists()


def test_only_a_draft_is_edited_or_deleted(web: Any, org: Any) -> None:
    draft = draft_invoice(org)
    page = web.get(url(org, "invoice_edit", draft.pk))
    assert page.status_code == 200
    assert page.context["formset"].initial[0]["description"] == "Cuota anual"
    data = invoice_post(org, draft.company, [])
    data.update(lines_data("lines", [{**dues_line(org, unit_price="1200.00")}], initial=1))
    assert web.post(url(org, "invoice_edit", draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert draft.total == D("1392.00") and draft.lines.count() == 1

    issued = services.invoice_issue(invoice=draft)
    before = Invoice.objects.filter(pk=issued.pk).values().get()
    for name in ("invoice_edit", "invoice_delete"):
        response = web.get(url(org, name, issued.pk), follow=True)
        assert response.redirect_chain[-1][0] == issued.get_absolute_url()
        assert "Only a draft invoice can be" in response.content.decode()
        assert web.post(url(org, name, issued.pk), data).status_code == 302
    assert Invoice.objects.filter(pk=issued.pk).values().get() == before
    detail = web.get(issued.get_absolute_url())
    assert not detail.context["may_change"] and not detail.context["may_delete"]

    another = draft_invoice(org)
    assert web.post(url(org, "invoice_delete", another.pk)).status_code == 302
    assert not Invoice.objects.filter(pk=another.pk).exists()


def test_cancelling_an_unpaid_invoice_makes_a_credit_note(web: Any, org: Any) -> None:
    invoice = issued_invoice(org)
    response = web.post(url(org, "invoice_cancel", invoice.pk), {"date": "not a date"})
    assert response.status_code == 200 and response.context["cancel_open"]
    assert "Enter a valid date" in response.content.decode()
    response = web.post(url(org, "invoice_cancel", invoice.pk), {"date": "2026-03-01"})
    assert "A credit note cannot predate its invoice." in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED

    response = web.post(url(org, "invoice_cancel", invoice.pk), {"date": "2026-03-20"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    credit_note = Invoice.objects.get(credit_note_for=invoice)
    assert invoice.state == Invoice.State.CANCELLED
    assert credit_note.reference == "NC-1" and credit_note.total == invoice.total
    assert credit_note.date == dt.date(2026, 3, 20)
    detail = web.get(invoice.get_absolute_url())
    assert detail.context["credit_note"] == credit_note
    assert credit_note.get_absolute_url() in detail.content.decode()
    note_page = web.get(credit_note.get_absolute_url())
    assert invoice.get_absolute_url() in note_page.content.decode()
    assert not note_page.context["may_pay"] and not note_page.context["may_cancel"]
    assert ledger_differences(org) == []


def test_a_paid_invoice_is_not_cancelled(web: Any, org: Any) -> None:
    invoice = issued_invoice(org)
    services.payment_receive(
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 15),
        amount=D("100"),
        allocations=[(invoice, D("100"))],
    )
    response = web.post(url(org, "invoice_cancel", invoice.pk), {"date": "2026-03-20"})
    assert response.status_code == 200
    assert "100.00 of this invoice is paid" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED
    assert not Invoice.objects.filter(credit_note_for=invoice).exists()


# Payments received ---------------------------------------------------------------------------


def test_the_payment_page_starts_by_choosing_the_company(web: Any, org: Any, company: Any) -> None:
    page = web.get(url(org, "payment_add"))
    assert page.status_code == 200 and "choose_form" in page.context
    foreign = CompanyFactory.create(organisation=OrganisationFactory.create(slug="ajena"))
    page = web.get(url(org, "payment_add") + f"?company={foreign.pk}")
    assert page.context["choose_form"].errors["company"]
    page = web.get(url(org, "payment_add") + "?company=abc")
    assert page.status_code == 200 and page.context["choose_form"].errors
    # A company with nothing open: the payment becomes its credit.
    page = web.get(url(org, "payment_add") + f"?company={company.pk}")
    assert page.context["rows"] == []
    response = web.post(url(org, "payment_add"), payment_post(company, "500.00", []))
    payment = Payment.objects.get()
    assert response["Location"] == payment.get_absolute_url()
    assert payment.unallocated == D("500.00")
    assert web.get(payment.get_absolute_url()).context["may_allocate"]


def test_over_allocation_on_the_page_shows_an_error_and_writes_nothing(web: Any, org: Any) -> None:
    invoice = issued_invoice(org)  # 1,160.00
    company = invoice.company
    entries = JournalEntry.objects.count()
    cases = [
        # More than the invoice owes.
        (payment_post(company, "2000.00", [(invoice, "1500.00")]), "owes 1,160.00"),
        # More allocated than received.
        (payment_post(company, "100.00", [(invoice, "500.00")]), "only 100.00 was received"),
        # Nothing received, a negative allocation, a bank account that is no bank.
        (payment_post(company, "0", []), "The amount must be above zero."),
        (payment_post(company, "100", [(invoice, "-5")]), "greater than or equal to 0.01"),
        (
            payment_post(company, "100", [], bank_account=account(org, "5106").pk),
            "Select a valid choice",
        ),
        # An invoice of another company.
        (
            payment_post(CompanyFactory.create(organisation=org), "100", [(invoice, "50")]),
            "Unknown invoice.",
        ),
        # A date no fiscal year covers.
        (payment_post(company, "100", [(invoice, "50")], date="2031-01-01"), "No fiscal year"),
    ]
    for data, expected in cases:
        response = web.post(url(org, "payment_add"), data)
        assert response.status_code == 200, expected
        assert expected in error_texts(response), expected
    # A tampered form: no allocation rows at all.
    tampered = {k: v for k, v in payment_post(company, "100", []).items() if "allocations" not in k}
    response = web.post(url(org, "payment_add"), tampered)
    assert response.status_code == 200 and "ManagementForm data" in error_texts(response)
    assert not Payment.objects.exists() and not Allocation.objects.exists()
    assert JournalEntry.objects.count() == entries
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_allocating_more_credit_than_is_left_is_refused(web: Any, org: Any) -> None:
    invoice = issued_invoice(org)
    payment = services.payment_receive(
        organisation=org, company=invoice.company, date=dt.date(2026, 3, 15), amount=D("100")
    )
    response = web.post(
        url(org, "payment_allocate", payment.pk),
        {"invoice": invoice.pk, "amount": "150", "date": "2026-03-20"},
    )
    assert response.status_code == 200
    assert "Only 100.00 of this payment is unallocated." in response.content.decode()
    other_invoice = issued_invoice(org)  # another company's
    response = web.post(
        url(org, "payment_allocate", payment.pk),
        {"invoice": other_invoice.pk, "amount": "50", "date": "2026-03-20"},
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Allocation.objects.exists()
    payment.refresh_from_db()
    assert payment.allocated == 0


def test_paying_a_cancelled_invoice_is_refused(web: Any, org: Any) -> None:
    invoice = issued_invoice(org)
    services.invoice_cancel(invoice=invoice, date=dt.date(2026, 3, 20))
    page = web.get(url(org, "payment_add") + f"?invoice={invoice.pk}")
    assert page.status_code == 200
    assert "Invoice A-1 is cancelled: it cannot be paid." in page.content.decode()
    assert invoice.pk not in {i.pk for i in page.context["invoices"]}
    response = web.post(
        url(org, "payment_add"), payment_post(invoice.company, "1160.00", [(invoice, "1160.00")])
    )
    assert response.status_code == 200
    assert "Invoice A-1 is cancelled: it cannot be paid." in response.content.decode()
    assert not Payment.objects.exists()


# Supplier bills ------------------------------------------------------------------------------


def test_a_bill_is_added_posted_and_paid(web: Any, org: Any) -> None:
    supplier = CompanyFactory.create(organisation=org, is_supplier=True)
    data = {
        "supplier": supplier.pk,
        "supplier_reference": "FAC-2291",
        "date": "2026-03-05",
        "due_date": "",
        "notes": "",
        **lines_data(
            "lines",
            [
                {
                    "description": "Papelería",
                    "account": account(org, "5106").pk,
                    "pillar": "",
                    "amount": "500.00",
                    "vat_rate": "16",
                },
                {"description": "", "account": "", "pillar": "", "amount": "", "vat_rate": "16"},
            ],
        ),
    }
    response = web.post(url(org, "bill_add"), data)
    bill = Bill.objects.get(organisation=org)
    assert response.status_code == 302 and response["Location"] == bill.get_absolute_url()
    assert bill.total == D("580.00") and bill.state == Bill.State.DRAFT
    # The same supplier's bill twice is a form error.
    again = web.post(url(org, "bill_add"), data)
    assert "This supplier&#x27;s bill is already recorded." in again.content.decode()
    assert Bill.objects.count() == 1

    page = web.get(url(org, "bill_pay", bill.pk))
    assert page.status_code == 200 and "Only a posted bill can be paid." in page.content.decode()
    assert web.post(url(org, "bill_post", bill.pk)).status_code == 302
    bill.refresh_from_db()
    assert bill.state == Bill.State.POSTED and bill.due_date == dt.date(2026, 4, 4)
    assert web.get(url(org, "bill_edit", bill.pk), follow=True).redirect_chain

    page = web.get(url(org, "bill_pay", bill.pk))
    assert page.context["form"].initial["amount"] == D("580.00")
    pay = {"date": "2026-03-25", "bank_account": account(org, "1102").pk, "method": "transfer"}
    response = web.post(url(org, "bill_pay", bill.pk), {**pay, "amount": "900.00"})
    assert "The bill owes 580.00; 900.00 is too much." in response.content.decode()
    response = web.post(
        url(org, "bill_pay", bill.pk), {**pay, "amount": "300", "date": "2026-03-01"}
    )
    assert "A payment cannot predate its bill." in response.content.decode()
    assert not BillPayment.objects.exists()

    assert web.post(url(org, "bill_pay", bill.pk), {**pay, "amount": "300"}).status_code == 302
    bill.refresh_from_db()
    assert bill.balance_due == D("280.00") and bill.state == Bill.State.POSTED
    detail = web.get(bill.get_absolute_url())
    assert not detail.context["may_cancel"]  # it has a payment
    assert web.post(url(org, "bill_pay", bill.pk), {**pay, "amount": "280"}).status_code == 302
    bill.refresh_from_db()
    assert bill.state == Bill.State.PAID
    payment = BillPayment.objects.filter(bill=bill).earliest("pk")
    assert web.get(url(org, "billpayment_list")).status_code == 200
    assert web.get(url(org, "billpayment_detail", payment.pk)).status_code == 200
    assert ledger_differences(org) == []


def test_a_posted_unpaid_bill_is_cancelled(web: Any, org: Any) -> None:
    bill = services.bill_post(bill=draft_bill(org))
    assert web.post(url(org, "bill_cancel", bill.pk)).status_code == 302
    bill.refresh_from_db()
    assert bill.state == Bill.State.CANCELLED
    response = web.post(url(org, "bill_cancel", bill.pk), follow=True)
    assert "Only a posted bill can be cancelled." in response.content.decode()
    assert web.get(url(org, "bill_pay", bill.pk)).status_code == 200


# Permissions and query counts --------------------------------------------------------------------


def test_readers_see_but_do_not_change(client: Any, org: Any) -> None:
    viewer = member_of(org, "viewer", email="lector@camara.example")
    client.force_login(viewer)
    invoice = draft_invoice(org)
    assert client.get(url(org, "invoice_list")).status_code == 200
    assert client.get(invoice.get_absolute_url()).status_code == 200
    assert client.get(url(org, "invoice_add")).status_code == 403
    assert client.post(url(org, "invoice_issue", invoice.pk)).status_code == 403
    assert client.get(url(org, "payment_add")).status_code == 403
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.DRAFT
    detail = client.get(invoice.get_absolute_url())
    assert not detail.context["may_issue"] and not detail.context["may_change"]


def test_actions_answer_post_only(web: Any, org: Any) -> None:
    invoice = draft_invoice(org)
    bill = draft_bill(org)
    payment = services.payment_receive(
        organisation=org, company=invoice.company, date=dt.date(2026, 3, 15), amount=D("100")
    )
    for name, pk in (
        ("invoice_issue", invoice.pk),
        ("invoice_cancel", invoice.pk),
        ("payment_allocate", payment.pk),
        ("bill_post", bill.pk),
        ("bill_cancel", bill.pk),
    ):
        assert web.get(url(org, name, pk)).status_code == 405, name
    invoice.refresh_from_db()
    bill.refresh_from_db()
    assert invoice.state == Invoice.State.DRAFT and bill.state == Bill.State.DRAFT


def grow(org: Any, count: int) -> None:
    for i in range(count):
        invoice = issued_invoice(org, lines=(("Cuota", "1000.00", "16"), ("Curso", "10", "0")))
        services.payment_receive(
            organisation=org,
            company=invoice.company,
            date=dt.date(2026, 3, 20),
            amount=D("600"),
            allocations=[(invoice, D("500"))],
        )
        bill = services.bill_post(bill=draft_bill(org, reference=f"Q-{i}-{count}"))
        services.bill_pay(bill=bill, date=dt.date(2026, 3, 21), amount=D("100"))


LIST_PAGES = ("invoice_list", "payment_list", "bill_list", "billpayment_list", "invoiceseries_list")


def count_queries(web: Any, address: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert web.get(address).status_code == 200
    return len(queries)


def test_list_and_detail_queries_do_not_grow_with_rows(
    web: Any, org: Any, django_assert_max_num_queries: Any
) -> None:
    grow(org, 2)
    invoice = Invoice.objects.filter(organisation=org).earliest("pk")
    payment = Payment.objects.filter(organisation=org).earliest("pk")
    bill = Bill.objects.filter(organisation=org).earliest("pk")
    addresses = [url(org, name) for name in LIST_PAGES] + [
        invoice.get_absolute_url(),
        payment.get_absolute_url(),
        bill.get_absolute_url(),
        url(org, "payment_add") + f"?company={invoice.company_id}",
    ]
    counts = {address: count_queries(web, address) for address in addresses}
    grow(org, 8)
    # The busiest records: more lines, more allocations and more open invoices.
    services.payment_allocate(
        payment=payment, invoice=invoice, amount=D("100"), date=dt.date(2026, 3, 22)
    )
    for _ in range(5):
        draft_invoice(org, company=invoice.company)
        issued_invoice(org, company=invoice.company)
    for address, count in counts.items():
        with django_assert_max_num_queries(count):
            response = web.get(address)
        assert response.status_code == 200, address
