"""Another organisation's invoices, payments, bills and series are a 404 everywhere."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import models

from gremio.core.testing import OrganisationScopingTests, TestCase
from gremio.core.tests.factories import OrganisationFactory
from gremio.finance import services
from gremio.finance.models import Bill, BillPayment, Invoice, InvoiceSeries, Payment

from .factories import bill_factory, invoice_factory, payment_factory

_series_numbers = itertools.count(1)


class RecordFactory:
    """A function that makes a record, shaped as the shared tests call a factory.

    ``OrganisationScopingTests`` calls ``factory(organisation=...)`` and the
    URL walk ``factory.create(organisation=...)``; both read ``_meta.model``.
    """

    def __init__(self, model: type[models.Model], make: Callable[..., Any]) -> None:
        self._meta = SimpleNamespace(model=model)
        self.make = make

    def __call__(self, **kwargs: Any) -> Any:
        return self.make(**kwargs)

    def create(self, **kwargs: Any) -> Any:
        return self.make(**kwargs)


def series_factory(**kwargs: Any) -> InvoiceSeries:
    organisation = kwargs.pop("organisation", None) or OrganisationFactory.create()
    number = next(_series_numbers)
    return InvoiceSeries.objects.create(
        organisation=organisation, prefix=f"S{number}", name=f"Serie {number}", **kwargs
    )


def billpayment_factory(**kwargs: Any) -> BillPayment:
    bill = services.bill_post(bill=bill_factory(**kwargs))
    return services.bill_pay(bill=bill, date=dt.date(2026, 3, 20), amount=Decimal("100.00"))


class TestInvoiceScoping(OrganisationScopingTests, TestCase):
    factory = RecordFactory(Invoice, invoice_factory)


class TestPaymentScoping(OrganisationScopingTests, TestCase):
    factory = RecordFactory(Payment, payment_factory)


class TestBillScoping(OrganisationScopingTests, TestCase):
    factory = RecordFactory(Bill, bill_factory)


class TestBillPaymentScoping(OrganisationScopingTests, TestCase):
    factory = RecordFactory(BillPayment, billpayment_factory)


class TestInvoiceSeriesScoping(OrganisationScopingTests, TestCase):
    factory = RecordFactory(InvoiceSeries, series_factory)


class ActionScopingTests(TestCase):
    """The actions on a document (issue, cancel, PDF, allocate, post, pay) are scoped too."""

    org_a: Any
    org_b: Any
    user: Any

    @classmethod
    def setUpTestData(cls) -> None:
        from gremio.core.tests.factories import member_of

        cls.org_a = OrganisationFactory.create(slug="actions-a")
        cls.org_b = OrganisationFactory.create(slug="actions-b")
        cls.user = member_of(cls.org_a, "finance", email="finance-a@example.com")

    def test_another_organisations_document_is_404_and_untouched(self) -> None:
        from django.urls import reverse

        invoice = invoice_factory(organisation=self.org_b)
        issued = services.invoice_issue(invoice=invoice_factory(organisation=self.org_b))
        payment = payment_factory(organisation=self.org_b)
        bill = bill_factory(organisation=self.org_b)
        self.client.force_login(self.user)
        for name, pk, data in (
            ("invoice_issue", invoice.pk, {}),
            ("invoice_cancel", issued.pk, {"date": "2026-03-20"}),
            ("invoice_pdf", invoice.pk, None),
            ("payment_allocate", payment.pk, {"invoice": issued.pk, "amount": "10"}),
            ("bill_post", bill.pk, {}),
            ("bill_pay", bill.pk, {"date": "2026-03-20", "amount": "10"}),
            ("bill_cancel", bill.pk, {}),
        ):
            address = reverse(f"finance:{name}", args=[self.org_a.slug, pk])
            if data is None:
                assert self.client.get(address).status_code == 404, name
            else:
                assert self.client.post(address, data).status_code == 404, name
        invoice.refresh_from_db()
        issued.refresh_from_db()
        bill.refresh_from_db()
        payment.refresh_from_db()
        assert invoice.state == Invoice.State.DRAFT and issued.state == Invoice.State.ISSUED
        assert bill.state == Bill.State.DRAFT and payment.allocated == 0

    def test_another_organisations_company_or_invoice_is_not_offered(self) -> None:
        from django.urls import reverse

        issued = services.invoice_issue(invoice=invoice_factory(organisation=self.org_b))
        self.client.force_login(self.user)
        add = reverse("finance:payment_add", args=[self.org_a.slug])
        page = self.client.get(f"{add}?company={issued.company_id}&invoice={issued.pk}")
        assert page.status_code == 200
        assert "choose_form" in page.context and page.context["choose_form"].errors
        page = self.client.get(reverse("finance:invoice_add", args=[self.org_a.slug]))
        assert page.status_code == 200
        assert issued.company.legal_name not in page.content.decode()
