"""Members pages: declarations on the generic views, the company 360 page and renewals."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gremio.core.panels import panels_for
from gremio.core.permissions import can
from gremio.core.views import generic

from . import filtersets, forms, services, tables
from .models import (
    Chamber,
    Company,
    Contact,
    Employment,
    Interaction,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Service,
    ServiceDelivery,
    Tag,
)


class CompanyDetailView(generic.ObjectDetailView):
    """The company 360 page: profile, then every module's panel about this company."""

    template_name = "members/company_detail.html"

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        return super().detail_context(
            obj, panels=panels_for("members.company", self.request, obj), **extra
        )


class CompanyListView(generic.ObjectListView):
    """The company list; a search, or "served" within a closed period, shows no total.

    Counting those means reading every company's name, or joining every
    delivery of the period: most of the page's time at 100,000 companies.
    Previous / next pages stay as fast as the first.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        query = request.GET
        if query.get("q", "").strip() or (query.get("served") and query.get("served_to")):
            self.pages = copy.copy(self.pages)  # this request's own, not the declaration
            self.pages.lazy_pagination = True
        return super().get(request, *args, **kwargs)


class MembershipEditView(generic.ObjectEditView):
    def save(self, form: Any) -> Any:
        return services.membership_save(membership=form.save(commit=False))


class MembershipPlanEditView(generic.ObjectEditView):
    def save(self, form: Any) -> Any:
        return services.plan_save(plan=form.save(commit=False))


class StaffRecordEditView(generic.ObjectEditView):
    """Services and interactions are usually recorded by the person who gave them, today."""

    def get_initial(self) -> dict[str, Any]:
        return {"staff": self.request.user.pk, "date": timezone.localdate()}


class ServiceDeliveryEditView(StaffRecordEditView):
    def save(self, form: Any) -> Any:
        return services.delivery_save(
            delivery=form.save(commit=False), contacts=form.cleaned_data["contacts"]
        )


class ContactEditView(generic.ObjectEditView):
    """Changing a contact's company keeps where they worked before."""

    def save(self, form: Any) -> Any:
        contact = form.instance
        new_company = form.cleaned_data.get("company")
        if contact.pk is None:
            contact = form.save()
            if new_company is not None:
                Employment.objects.create(
                    organisation=contact.organisation,
                    contact=contact,
                    company=new_company,
                    position=contact.position,
                    start=timezone.localdate(),
                )
            return contact
        old_company_id = Contact.objects.values_list("company_id", flat=True).get(pk=contact.pk)
        position = form.cleaned_data.get("position", "")
        contact = form.save(commit=False)
        if old_company_id != (new_company.pk if new_company else None):
            contact.company_id = old_company_id
            contact.save()
            return services.contact_move(contact=contact, company=new_company, position=position)
        contact.save()
        return contact


class ServiceDeliveryDeleteView(generic.ObjectDeleteView):
    def delete(self, obj: Any) -> bool:
        services.delivery_delete(delivery=obj)
        return True


class MembershipDeleteView(generic.ObjectDeleteView):
    def delete(self, obj: Any) -> bool:
        services.membership_delete(membership=obj)
        return True


company_pages = generic.ModelPages(
    model=Company,
    table=tables.CompanyTable,
    form=forms.CompanyForm,
    filterset=filtersets.CompanyFilterSet,
    queryset=Company.objects.select_related("sector", "chamber"),
    detail_fields=(
        "legal_name",
        "trade_name",
        "rfc",
        "entity_type",
        "sector",
        "size_band",
        "employees",
        "state",
        "municipality",
        "address",
        "postal_code",
        "website",
        "phone",
        "chamber",
        "membership_status",
        "member_since",
        "last_service_on",
        "notes",
    ),
    view_classes={"list": CompanyListView, "detail": CompanyDetailView},
)
contact_pages = generic.ModelPages(
    model=Contact,
    table=tables.ContactTable,
    form=forms.ContactForm,
    filterset=filtersets.ContactFilterSet,
    queryset=Contact.objects.select_related("company__organisation"),
    detail_fields=(
        "first_name",
        "last_name",
        "second_last_name",
        "company",
        "position",
        "email",
        "phone",
        "mobile",
        "language",
        "privacy_consent",
        "privacy_consent_on",
        "opt_out_email",
        "opt_out_phone",
        "opt_out_events",
        "notes",
        "anonymised",
    ),
    view_classes={"add": ContactEditView, "edit": ContactEditView},
)
membershipplan_pages = generic.ModelPages(
    model=MembershipPlan,
    table=tables.MembershipPlanTable,
    form=forms.MembershipPlanForm,
    filterset=filtersets.MembershipPlanFilterSet,
    detail_fields=(
        "name",
        "fee",
        "frequency",
        "period_type",
        "grace_days",
        "description",
        "active",
    ),
    view_classes={"add": MembershipPlanEditView, "edit": MembershipPlanEditView},
)
membership_pages = generic.ModelPages(
    model=Membership,
    table=tables.MembershipTable,
    form=forms.MembershipForm,
    filterset=filtersets.MembershipFilterSet,
    queryset=Membership.objects.select_related("company", "plan"),
    detail_fields=(
        "company",
        "plan",
        "start",
        "end",
        "fee",
        "status",
        "status_override",
        "override_until",
        "resigned_on",
        "notes",
    ),
    view_classes={
        "add": MembershipEditView,
        "edit": MembershipEditView,
        "delete": MembershipDeleteView,
    },
)
service_pages = generic.ModelPages(
    model=Service,
    table=tables.ServiceTable,
    form=forms.ServiceForm,
    filterset=filtersets.ServiceFilterSet,
    queryset=Service.objects.select_related("pillar"),
    detail_fields=("name", "category", "pillar", "description", "active"),
)
servicedelivery_pages = generic.ModelPages(
    model=ServiceDelivery,
    table=tables.ServiceDeliveryTable,
    form=forms.ServiceDeliveryForm,
    filterset=filtersets.ServiceDeliveryFilterSet,
    queryset=ServiceDelivery.objects.select_related("company__organisation", "service", "staff"),
    detail_fields=(
        "company",
        "service",
        "date",
        "staff",
        "channel",
        "hours",
        "satisfaction",
        "outcome",
        "notes",
    ),
    view_classes={
        "add": ServiceDeliveryEditView,
        "edit": ServiceDeliveryEditView,
        "delete": ServiceDeliveryDeleteView,
    },
    lazy_pagination=True,  # hundreds of thousands of rows: no COUNT(*) per page
)
interaction_pages = generic.ModelPages(
    model=Interaction,
    table=tables.InteractionTable,
    form=forms.InteractionForm,
    filterset=filtersets.InteractionFilterSet,
    queryset=Interaction.objects.select_related("company__organisation", "staff"),
    detail_fields=("company", "kind", "date", "staff", "summary", "follow_up_on", "follow_up_done"),
    view_classes={"add": StaffRecordEditView, "edit": StaffRecordEditView},
    lazy_pagination=True,
)
chamber_pages = generic.ModelPages(
    model=Chamber,
    table=tables.ChamberTable,
    form=forms.ChamberForm,
    filterset=filtersets.ChamberFilterSet,
    detail_fields=("name", "acronym", "active"),
)
tag_pages = generic.ModelPages(
    model=Tag,
    table=tables.TagTable,
    form=forms.TagForm,
    filterset=filtersets.TagFilterSet,
    detail_fields=("name", "colour"),
)


RENEWALS_SHOWN = 100


def renewals(request: HttpRequest, org: str) -> HttpResponse:
    """Memberships that end within the window and have no renewal yet, and those in grace."""
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "members.view_membership", organisation):
        raise PermissionDenied
    try:
        days = max(1, min(int(request.GET.get("days", 60)), 366))
    except ValueError:
        days = 60
    today = timezone.localdate()
    renewed = Membership.objects.filter(company=OuterRef("company"), start__gt=OuterRef("end"))
    base = (
        Membership.objects.filter(organisation=organisation)
        .select_related("company__organisation", "plan", "organisation")
        .exclude(Exists(renewed))
    )
    due = base.filter(
        status=MembershipStatus.ACTIVE, end__lte=today + dt.timedelta(days=days)
    ).order_by("end")
    grace = base.filter(status=MembershipStatus.GRACE).order_by("end")
    # A work list: the first hundred of each, with the full counts (500 rows took 0.3 s).
    context = {
        "organisation": organisation,
        "days": days,
        "due": due[:RENEWALS_SHOWN],
        "due_count": due.count(),
        "grace": grace[:RENEWALS_SHOWN],
        "grace_count": grace.count(),
        "may_renew": can(request.user, "members.add_membership", organisation),
    }
    return render(request, "members/renewals.html", context)


@generic.serves(Membership)
@require_POST
def membership_renew(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "members.add_membership", organisation):
        raise PermissionDenied
    membership = get_object_or_404(Membership.objects.filter(organisation=organisation), pk=pk)
    with transaction.atomic():
        renewal = services.membership_renew(membership=membership)
    messages.success(
        request,
        _("{company} renewed from {start} to {end}.").format(
            company=renewal.company, start=renewal.start, end=renewal.end
        ),
    )
    next_url = request.POST.get("_next", "")
    if not next_url.startswith(f"/{organisation.slug}/"):
        next_url = renewal.get_absolute_url()
    return HttpResponseRedirect(next_url)
