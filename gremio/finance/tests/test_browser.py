"""A finance officer bills a member and records its payment, in Spanish, in Debian's Chromium."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.finance import panels
from gremio.finance.models import Invoice, Payment
from gremio.members.tests.factories import CompanyFactory

from .factories import books

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def organisation():
    panels.register_all()
    organisation = OrganisationFactory.create(
        slug="canaco", name="Cámara de Comercio", language="es-mx"
    )
    books(organisation)
    member_of(organisation, "finance", email="finanzas@canaco.example")
    return organisation


def test_invoice_a_member_register_its_payment_and_see_it_paid_on_the_360_page(
    page, organisation
) -> None:
    company = CompanyFactory.create(
        organisation=organisation, legal_name="Muebles Finos de Ocotlán, S.A. de C.V."
    )
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "finanzas@canaco.example")
    page.fill("input[name=password]", "secret-pass-123")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/canaco/")
    assert page.locator("html").get_attribute("lang") == "es-mx"

    # From the company's page: a new invoice for it, the company already chosen.
    page.goto(company.get_absolute_url())
    panel = page.locator("[data-panel=finance-invoices]")
    panel.locator("a[href*='/finance/invoices/add/']").click()
    page.wait_for_selector("select[name=lines-0-account]")
    assert page.locator("select[name=company]").input_value() == str(company.pk)
    page.fill("input[name=date]", "2026-03-10")
    page.fill("input[name=lines-0-description]", "Cuota de afiliación 2026")
    page.select_option("select[name=lines-0-account]", label="4101 Cuotas de afiliación")
    page.fill("input[name=lines-0-unit_price]", "2500")
    # A second line, added in the page.
    page.click("#add-line")
    page.fill("input[name=lines-2-description]", "Curso de comercio exterior")
    page.select_option("select[name=lines-2-account]", label="4103 Eventos y capacitación")
    page.fill("input[name=lines-2-unit_price]", "500")
    page.select_option("select[name=lines-2-vat_rate]", value="0")
    page.click("main form.document-form button[type=submit]")
    page.wait_for_selector("[data-testid=invoice-lines]")
    invoice = Invoice.objects.get()
    assert invoice.total == Decimal("3400.00")  # 2,500 + 16 % VAT + 500 exempt of VAT
    assert "3,400.00" in page.locator("[data-testid=invoice-totals]").inner_text()

    page.click("button[data-action=issue]")
    page.wait_for_selector("a[data-action=pay]")
    invoice.refresh_from_db()
    assert invoice.reference == "A-1"
    assert "A-1" in page.locator("h1").inner_text()

    # Registering the payment proposes the company, the invoice and its balance.
    page.click("a[data-action=pay]")
    page.wait_for_selector("[data-testid=open-invoices]")
    assert page.locator("[data-testid=payment-company]").inner_text() == company.legal_name
    assert page.locator("input[name=amount]").input_value() == "3400.00"
    assert page.locator("input[name=allocations-0-amount]").input_value() == "3400.00"
    page.fill("input[name=date]", "2026-03-20")
    page.fill("input[name=reference]", "SPEI 0098812")
    page.click("main form[data-step=payment] button[type=submit]")
    page.wait_for_selector("[data-testid=payment-allocations]")
    payment = Payment.objects.get()
    assert payment.allocated == Decimal("3400.00")

    page.goto(company.get_absolute_url())
    panel = page.locator("[data-panel=finance-invoices]")
    row = panel.locator("[data-testid=panel-invoices] tr", has_text="A-1")
    assert row.locator("[data-state=paid]").count() == 1
    assert panel.locator("[data-testid=balance-due]").inner_text() == "0.00"
    assert "SPEI" not in panel.inner_text()  # the panel lists dates and amounts
    assert "3,400.00" in panel.locator("[data-testid=panel-payments]").inner_text()
