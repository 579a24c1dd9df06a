"""A contact's vCard and personal data, the filtered list as vCards, and anonymisation.

Every record is found through ``contact_pages.scope()``, so another
organisation's contact is a 404, as everywhere else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gremio.core.permissions import can
from gremio.core.views.generic import serves

from . import privacy, services, vcards
from .models import Contact
from .views import contact_pages

VCARD = "text/vcard; charset=utf-8"


def _contacts(request: HttpRequest) -> Any:
    return contact_pages.scope(Contact.objects.select_related("company"), request)


def _contact(request: HttpRequest, pk: int, perm: str) -> Contact:
    try:
        contact = _contacts(request).get(pk=pk)
    except Contact.DoesNotExist as exc:
        raise Http404 from exc
    if not can(request.user, perm, contact):
        raise PermissionDenied
    return contact


def _attachment(response: HttpResponse | StreamingHttpResponse, filename: str) -> Any:
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@serves(Contact)
def contact_vcard(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    contact = _contact(request, pk, "members.export_contact")
    response = HttpResponse(vcards.contact_vcard(contact).serialize(), content_type=VCARD)
    return _attachment(response, f"{slugify(contact.full_name) or contact.pk}.vcf")


def contact_vcards(request: HttpRequest, org: str) -> StreamingHttpResponse:
    """The contact list, with the same filters as its page, as one .vcf file.

    Anonymised contacts are left out: their cards would hold no one.
    """
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "members.export_contact", organisation):
        raise PermissionDenied
    queryset = _contacts(request).filter(anonymised__isnull=True)
    filterset = contact_pages.filterset
    if filterset is not None:
        filtered = filterset(request.GET or None, queryset=queryset, request=request)
        queryset = queryset.none() if filtered.is_bound and not filtered.is_valid() else filtered.qs
    cards = vcards.serialize(queryset.order_by("last_name", "first_name", "pk").iterator(1000))
    response = StreamingHttpResponse(cards, content_type=VCARD)
    return _attachment(response, f"{organisation.slug}-contacts.vcf")


@serves(Contact)
def contact_personal_data(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """Everything held about the contact, as JSON: the access right of the LFPDPPP."""
    contact = _contact(request, pk, "members.export_contact")
    content = privacy.to_json(privacy.contact_personal_data(contact=contact))
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    return _attachment(response, f"contact-{contact.pk}-personal-data.json")


@serves(Contact)
@require_http_methods(["GET", "POST"])
def contact_anonymise(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """Confirmation on GET; on POST, erase the personal data and keep the statistics."""
    contact = _contact(request, pk, "members.change_contact")
    if contact.anonymised:
        messages.info(request, _("This contact has already been anonymised."))
        return HttpResponseRedirect(contact.get_absolute_url())
    if request.method == "POST":
        with transaction.atomic():
            services.contact_anonymise(contact=contact)
        messages.success(
            request,
            _("The contact's personal data was erased; services and interactions still count."),
        )
        return HttpResponseRedirect(contact.get_absolute_url())
    context = {
        "organisation": request.organisation,  # type: ignore[attr-defined]
        "object": contact,
        "deliveries": contact.deliveries.count(),
        "interactions": contact.interactions.count(),
    }
    return render(request, "members/contact_anonymise.html", context)
