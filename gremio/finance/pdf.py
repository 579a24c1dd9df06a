"""The invoice as a PDF, rendered by WeasyPrint in the invoice's own language.

The page is plain HTML and CSS (``finance/pdf_invoice.html``) with no
external resource: nothing is fetched while rendering, so it works offline
and a crafted text cannot make the server reach the network.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from .models import ZERO, Invoice, VatRate

# The invoice's language code -> the language (and number format) it is rendered in.
RENDER_LANGUAGES = {Invoice.Language.ES: "es-mx", Invoice.Language.EN: "en"}


def vat_breakdown(lines: list[Any]) -> list[dict[str, Any]]:
    """Base and VAT per rate, in the order of the rates (invoice and bill lines alike)."""
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for line in lines:
        totals[line.vat_rate][0] += line.amount
        totals[line.vat_rate][1] += line.vat
    breakdown = []
    for rate in VatRate.values:
        if rate in totals:
            base, vat = totals[rate]
            breakdown.append({"rate": rate, "label": VatRate(rate).label, "base": base, "vat": vat})
    return breakdown


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    invoice = (
        Invoice.objects.select_related(
            "organisation", "company", "series", "credit_note_for__series"
        )
        .prefetch_related("lines")
        .get(pk=invoice.pk)
    )
    lines = list(invoice.lines.all())
    return {
        "invoice": invoice,
        "organisation": invoice.organisation,
        "company": invoice.company,
        "lines": lines,
        "vat_breakdown": vat_breakdown(lines),
        "draft": invoice.state == Invoice.State.DRAFT,
        "cancelled": invoice.state == Invoice.State.CANCELLED,
        "credit_note": (
            Invoice.objects.filter(credit_note_for=invoice).select_related("series").first()
            if invoice.state == Invoice.State.CANCELLED
            else None
        ),
    }


def invoice_html(invoice: Invoice) -> str:
    """The invoice's printable HTML, in its language."""
    context = invoice_context(invoice)
    language = RENDER_LANGUAGES.get(context["invoice"].language, "es-mx")
    with translation.override(language):
        context["language"] = language
        return render_to_string("finance/pdf_invoice.html", context)


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"The invoice PDF fetches nothing ({url}).")


def invoice_document(invoice: Invoice) -> Any:
    """The laid-out WeasyPrint document (its pages hold the rendered text)."""
    from weasyprint import HTML

    return HTML(string=invoice_html(invoice), url_fetcher=refuse_fetch).render()


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes."""
    content: bytes = invoice_document(invoice).write_pdf()
    return content
