"""The shell as a person sees it, in Debian's Chromium driven by Playwright.

Run by `make test` as its own step (`pytest -m browser`); needs /usr/bin/chromium.
"""

from __future__ import annotations

import csv

import pytest

from gremio.core.tests.factories import OrganisationFactory, PillarFactory, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def organisation():
    organisation = OrganisationFactory.create(slug="camara", name="Cámara de Prueba", language="en")
    member_of(organisation, "admin", email="admin@camara.example")
    PillarFactory(organisation=organisation, name_es="Valor social", name_en="Social value")
    PillarFactory(
        organisation=organisation, name_es="Contenido nacional", name_en="Domestic content"
    )
    PillarFactory(organisation=organisation, name_es="Competitividad", name_en="Competitiveness")
    return organisation


def sign_in(page, email: str = "admin@camara.example") -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "secret-pass-123")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/camara/")


def test_sign_in_switch_language_and_see_spanish_shell(page, organisation) -> None:
    sign_in(page)
    assert page.locator("h1").inner_text() == "Cámara de Prueba"
    assert page.locator("#sidebar").get_by_text("Strategic pillars").is_visible()

    page.locator("[data-testid=language-switcher] button[value=es-mx]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es-mx"
    sidebar = page.locator("#sidebar")
    assert sidebar.get_by_text("Ejes estratégicos").is_visible()
    assert sidebar.get_by_text("Bitácora de cambios").is_visible()
    assert page.get_by_text("Strategic pillars").count() == 0


def test_open_a_list_filter_it_and_export(page, organisation) -> None:
    sign_in(page)
    page.locator("#sidebar").get_by_text("Strategic pillars").click()
    page.wait_for_url("**/camara/pillars/")
    rows = page.locator("#object-table tbody tr")
    assert rows.count() == 3

    # Typing in the search box updates the table in place (htmx), and the
    # address keeps the filter so it can be shared.
    page.fill("input[name=q]", "domestic")
    page.wait_for_function("document.querySelectorAll('#object-table tbody tr').length === 1")
    assert "Domestic content" in page.locator("#object-table").inner_text()
    assert "q=domestic" in page.url

    with page.expect_download() as download_info:
        page.locator(".export-link[data-format=csv]").click()
    download = download_info.value
    with open(download.path(), encoding="utf-8-sig") as exported:
        rows_out = list(csv.reader(exported))
    assert len(rows_out) == 2  # header + the one filtered row
    assert "Domestic content" in rows_out[1]
