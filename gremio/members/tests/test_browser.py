"""A member-relations officer's first steps, in Spanish, in Debian's Chromium."""

from __future__ import annotations

import pytest

from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members.models import Company, Contact, ServiceDelivery

from .factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def organisation():
    organisation = OrganisationFactory.create(
        slug="canaco", name="Cámara de Comercio", language="es-mx"
    )
    member_of(organisation, "relations", email="relaciones@canaco.example")
    ServiceFactory.create(organisation=organisation, name="Asesoría jurídica")
    return organisation


def test_create_company_add_contact_record_service_and_see_it_on_the_360_page(
    page, organisation
) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "relaciones@canaco.example")
    page.fill("input[name=password]", "secret-pass-123")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/canaco/")
    assert page.locator("html").get_attribute("lang") == "es-mx"

    page.locator("#sidebar").get_by_text("Empresas", exact=True).click()
    page.get_by_role("link", name="Agregar empresa").first.click()
    page.fill("input[name=legal_name]", "Muebles Finos de Ocotlán, S.A. de C.V.")
    page.fill("input[name=rfc]", "mfo-850101-ab1")  # normalised; wrong check digit first
    page.click("main form button[type=submit]")
    assert page.locator("[data-field=rfc]").is_visible()
    assert not Company.objects.exists()
    from stdnum.mx import rfc

    page.fill("input[name=rfc]", "MFO850101AB" + rfc.calc_check_digit("MFO850101AB"))
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=Perfil")
    company = Company.objects.get()
    assert page.url.endswith(company.get_absolute_url())

    # Add a contact from the company's page: the company comes pre-selected.
    page.locator(".card", has_text="Contactos").get_by_role("link", name="Agregar").click()
    page.fill("input[name=first_name]", "Rosa")
    page.fill("input[name=last_name]", "Hernández")
    page.fill("input[name=email]", "rosa@mueblesfinos.example")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=Rosa Hernández")
    assert Contact.objects.get().company == company

    page.goto(company.get_absolute_url())
    page.get_by_role("link", name="Registrar un servicio").click()
    page.select_option("select[name=service]", label="Asesoría jurídica")
    page.fill("input[name=date]", "2026-11-30")
    page.fill("input[name=hours]", "2")
    page.fill("input[name=satisfaction]", "5")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=Asesoría jurídica")
    assert ServiceDelivery.objects.get().company == company

    page.goto(company.get_absolute_url())
    deliveries = page.locator(".card", has_text="Servicios prestados")
    assert "Asesoría jurídica" in deliveries.inner_text()
    assert "Rosa Hernández" in page.locator(".card", has_text="Contactos").inner_text()
