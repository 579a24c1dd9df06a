"""The invoice PDF: in the invoice's language, with its numbers, fetching nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.finance import pdf, services
from gremio.finance.models import Invoice
from gremio.members.tests.factories import CompanyFactory

from .factories import books, draft_invoice

pytestmark = pytest.mark.django_db

LINES = (("Cuota anual 2026", "12500.00", "16"), ("Curso de exportación", "800.00", "0"))


@pytest.fixture
def org() -> Any:
    organisation = OrganisationFactory.create(
        slug="canieti",
        name="CANIETI Occidente",
        legal_name="Cámara Nacional de la Industria Electrónica, A.C.",
        rfc="CNI850101AB1",
    )
    return books(organisation)


@pytest.fixture
def company(org: Any) -> Any:
    return CompanyFactory.create(
        organisation=org,
        legal_name="Circuitos de Jalisco, S.A. de C.V.",
        rfc="CJA010101AA1",
        address="Av. López Mateos Sur 2077",
        municipality="Zapopan",
        state="14",
        postal_code="45050",
    )


def text_of(document: Any) -> str:
    """The text WeasyPrint laid out on the pages, in order."""
    texts: list[str] = []

    def walk(box: Any) -> None:
        text = getattr(box, "text", None)
        if isinstance(text, str):
            texts.append(text)
        for child in getattr(box, "children", ()):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return " ".join(texts)


def title(language: str, msgid: str) -> str:
    with translation.override(language):
        return gettext(msgid)


def test_a_spanish_invoice_reads_in_spanish(org: Any, company: Any) -> None:
    invoice = services.invoice_issue(invoice=draft_invoice(org, company=company, lines=LINES))
    assert invoice.language == Invoice.Language.ES
    content = pdf.invoice_pdf(invoice)
    assert content.startswith(b"%PDF")
    text = text_of(pdf.invoice_document(invoice))
    assert "A-1" in text
    assert title("es-mx", "INVOICE") in text
    assert "10 de marzo de 2026" in text.lower()  # Spanish dates
    assert "12,500.00" in text and "15,300.00" in text  # Mexican number format
    for expected in (
        "CANIETI Occidente",
        "Cámara Nacional de la Industria Electrónica, A.C.",
        "CNI850101AB1",
        "Circuitos de Jalisco, S.A. de C.V.",
        "CJA010101AA1",
        "Zapopan",
        "Curso de exportación",
    ):
        assert expected in text, expected
    assert title("es-mx", "DRAFT") not in text


def test_an_english_invoice_reads_in_english(org: Any, company: Any) -> None:
    draft = draft_invoice(org, company=company, lines=LINES)
    draft.language = Invoice.Language.EN
    draft.save()
    invoice = services.invoice_issue(invoice=draft)
    text = text_of(pdf.invoice_document(invoice))
    assert "INVOICE" in text and "A-1" in text
    assert "March 10, 2026" in text
    assert "12,500.00" in text
    # The VAT breakdown names each rate once, with its base.
    assert "VAT 16 %" in text and "VAT 0 %" in text and "800.00" in text


def test_a_credit_note_and_a_draft_say_what_they_are(org: Any, company: Any) -> None:
    invoice = services.invoice_issue(invoice=draft_invoice(org, company=company))
    credit_note = services.invoice_cancel(invoice=invoice, date=dt.date(2026, 3, 20))
    text = text_of(pdf.invoice_document(credit_note))
    assert title("es-mx", "CREDIT NOTE") in text and "NC-1" in text and "A-1" in text
    assert title("es-mx", "CANCELLED") in text_of(pdf.invoice_document(invoice))

    draft = draft_invoice(org, company=company)
    draft.language = Invoice.Language.EN
    draft.save()
    text = text_of(pdf.invoice_document(draft))
    assert "DRAFT" in text and "A-" not in text


def test_the_pdf_page_downloads_and_fetches_nothing(
    client: Any, org: Any, company: Any, monkeypatch: Any
) -> None:
    fetched: list[str] = []

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        fetched.append(url)
        return pdf.refuse_fetch(url)

    monkeypatch.setattr(pdf, "refuse_fetch", fetch)
    client.force_login(member_of(org, "viewer", email="lector@canieti.example"))
    invoice = services.invoice_issue(invoice=draft_invoice(org, company=company))
    response = client.get(reverse("finance:invoice_pdf", args=[org.slug, invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="canieti-A-1.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert fetched == []
    other = books(OrganisationFactory.create(slug="ajena"))
    foreign = draft_invoice(other)
    assert (
        client.get(reverse("finance:invoice_pdf", args=[org.slug, foreign.pk])).status_code == 404
    )
