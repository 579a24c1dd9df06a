"""One filter set per model: the page's filter panel and the API's query parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils.translation import gettext_lazy as _

from gremio.core.filtersets import OrganisationFilterSet, YesNoSelect
from gremio.core.widgets import LookupSelect

from .geo import State
from .models import (
    Chamber,
    Company,
    Contact,
    Interaction,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Sector,
    Service,
    ServiceDelivery,
    Tag,
)

DATE_INPUT = {"widget": django_filters.widgets.forms.DateInput(attrs={"type": "date"})}


class CompanyFilterSet(OrganisationFilterSet):
    search_fields = ("legal_name", "trade_name", "rfc")

    membership_status = django_filters.MultipleChoiceFilter(
        choices=MembershipStatus.choices[1:], label=_("Membership status"), distinct=False
    )
    plan = django_filters.ModelChoiceFilter(
        queryset=MembershipPlan.objects.all(), method="filter_plan", label=_("Plan")
    )
    sector = django_filters.ModelChoiceFilter(
        queryset=Sector.objects.filter(parent__isnull=True),
        method="filter_sector",
        label=_("SCIAN sector"),
    )
    size_band = django_filters.MultipleChoiceFilter(
        choices=Company.SizeBand.choices, label=_("Size"), distinct=False
    )
    chamber = django_filters.ModelChoiceFilter(queryset=Chamber.objects.all(), label=_("Chamber"))
    state = django_filters.ChoiceFilter(choices=State.choices, label=_("State"))
    tags = django_filters.ModelChoiceFilter(queryset=Tag.objects.all(), label=_("Tag"))
    kind = django_filters.ChoiceFilter(
        choices=[
            ("member", _("Member")),
            ("prospect", _("Prospect")),
            ("supplier", _("Supplier")),
            ("public_body", _("Public body")),
        ],
        method="filter_kind",
        label=_("Kind"),
    )
    served_from = django_filters.DateFilter(
        method="filter_served", label=_("Served from"), **DATE_INPUT
    )
    served_to = django_filters.DateFilter(
        method="filter_served", label=_("Served to"), **DATE_INPUT
    )
    served = django_filters.BooleanFilter(
        method="filter_served", label=_("Served in that period"), widget=YesNoSelect
    )

    class Meta:
        model = Company
        fields = ("membership_status", "plan", "sector", "size_band", "chamber", "state", "tags")

    def filter_plan(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        # One read of an index (organisation, plan, status, company), not a probe per company.
        current = Membership.objects.filter(
            organisation=value.organisation_id, plan=value, status__in=("active", "grace")
        ).values("company_id")
        return queryset.filter(pk__in=current)

    def filter_sector(self, queryset: QuerySet[Any], name: str, value: Sector) -> QuerySet[Any]:
        # The subsectors as values: PostgreSQL's statistics then know how many
        # companies each holds and read a big sector in name order, a small one by
        # its index. SQLite keeps no such statistics and, offered the index, would
        # fetch and sort all 70,000 companies of manufacturing: compared as an
        # expression, the subsector is read from the name index (which carries it).
        # An import may classify a company by the sector itself: include it.
        subsectors = [value.pk, *Sector.objects.filter(parent=value).values_list("pk", flat=True)]
        if connection.vendor != "sqlite":
            return queryset.filter(sector__in=subsectors)
        subsector = ExpressionWrapper(F("sector_id") + 0, output_field=BigIntegerField())
        return queryset.alias(subsector=subsector).filter(subsector__in=subsectors)

    def filter_kind(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(**{f"is_{value}": True})

    def filter_served(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        # The three served_* fields work together; apply once, on "served".
        if name != "served" or value is None:
            return queryset
        data = self.form.cleaned_data
        if not data.get("served_to"):
            # Served since a date (or ever) is what the kept last-service date says, by index.
            since = data.get("served_from")
            served = Q(last_service_on__gte=since) if since else Q(last_service_on__isnull=False)
            return queryset.filter(served) if value else queryset.exclude(served)
        start = data.get("served_from") or dt.date(1900, 1, 1)
        end = data["served_to"]
        deliveries = ServiceDelivery.objects.filter(
            company=OuterRef("pk"), date__gte=start, date__lte=end
        )
        return (
            queryset.filter(Exists(deliveries)) if value else queryset.exclude(Exists(deliveries))
        )


class ContactFilterSet(OrganisationFilterSet):
    search_fields = ("first_name", "last_name", "second_last_name", "email", "position")
    company = django_filters.ModelChoiceFilter(
        queryset=Company.objects.all(),
        label=_("Company"),
        widget=LookupSelect(model_label="members.company"),
    )

    class Meta:
        model = Contact
        fields = ("company", "language", "privacy_consent", "opt_out_email")


class MembershipPlanFilterSet(OrganisationFilterSet):
    search_fields = ("name",)

    class Meta:
        model = MembershipPlan
        fields = ("frequency", "period_type", "active")


class MembershipFilterSet(OrganisationFilterSet):
    search_fields = ("company__legal_name", "company__trade_name", "company__rfc")
    status = django_filters.MultipleChoiceFilter(
        choices=MembershipStatus.choices[1:], label=_("Status"), distinct=False
    )
    plan = django_filters.ModelChoiceFilter(queryset=MembershipPlan.objects.all(), label=_("Plan"))
    end_from = django_filters.DateFilter(
        field_name="end", lookup_expr="gte", label=_("Ends from"), **DATE_INPUT
    )
    end_to = django_filters.DateFilter(
        field_name="end", lookup_expr="lte", label=_("Ends by"), **DATE_INPUT
    )
    # The drill-down of the "members gained and lost" report: the same conditions.
    movement = django_filters.ChoiceFilter(
        choices=[
            ("gained", _("Gained")),
            ("renewed", _("Renewed")),
            ("lapsed", _("Lapsed")),
            ("resigned", _("Resigned")),
        ],
        method="filter_movement",
        label=_("Movement"),
    )
    movement_from = django_filters.DateFilter(
        method="filter_movement", label=_("Movement from"), **DATE_INPUT
    )
    movement_to = django_filters.DateFilter(
        method="filter_movement", label=_("Movement to"), **DATE_INPUT
    )

    class Meta:
        model = Membership
        fields = ("status", "plan", "end_from", "end_to")

    def filter_movement(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        # The three movement fields work together; apply once, on "movement".
        if name != "movement" or not value:
            return queryset
        from .reports import memberships_moved

        data = self.form.cleaned_data
        return memberships_moved(
            queryset,
            movement=value,
            first=data.get("movement_from") or dt.date(1900, 1, 1),
            last=data.get("movement_to") or dt.date(2999, 12, 31),
            organisation=getattr(self.request, "organisation", None),
        )


class ServiceFilterSet(OrganisationFilterSet):
    search_fields = ("name", "description")

    class Meta:
        model = Service
        fields = ("category", "pillar", "active")


class ServiceDeliveryFilterSet(OrganisationFilterSet):
    search_fields = ("company__legal_name", "company__trade_name", "outcome")
    company = django_filters.ModelChoiceFilter(
        queryset=Company.objects.all(),
        label=_("Company"),
        widget=LookupSelect(model_label="members.company"),
    )
    service = django_filters.ModelChoiceFilter(queryset=Service.objects.all(), label=_("Service"))
    date_from = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label=_("From"), **DATE_INPUT
    )
    date_to = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label=_("To"), **DATE_INPUT
    )
    # Drill-downs of the services-delivered report by sector and by chamber.
    sector = django_filters.ModelChoiceFilter(
        queryset=Sector.objects.filter(parent__isnull=True),
        method="filter_sector",
        label=_("SCIAN sector"),
    )
    chamber = django_filters.ModelChoiceFilter(
        queryset=Chamber.objects.all(), field_name="company__chamber", label=_("Chamber")
    )

    class Meta:
        model = ServiceDelivery
        fields = ("company", "service", "channel", "staff", "satisfaction", "date_from", "date_to")

    def filter_sector(self, queryset: QuerySet[Any], name: str, value: Sector) -> QuerySet[Any]:
        return queryset.filter(Q(company__sector__parent=value) | Q(company__sector=value))


class InteractionFilterSet(OrganisationFilterSet):
    search_fields = ("summary", "company__legal_name", "company__trade_name")
    company = django_filters.ModelChoiceFilter(
        queryset=Company.objects.all(),
        label=_("Company"),
        widget=LookupSelect(model_label="members.company"),
    )
    date_from = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label=_("From"), **DATE_INPUT
    )
    date_to = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label=_("To"), **DATE_INPUT
    )
    follow_up_open = django_filters.BooleanFilter(
        method="filter_follow_up_open", label=_("Open follow-up"), widget=YesNoSelect
    )

    class Meta:
        model = Interaction
        fields = ("company", "kind", "staff", "date_from", "date_to")

    def filter_follow_up_open(
        self, queryset: QuerySet[Any], name: str, value: Any
    ) -> QuerySet[Any]:
        if value is None:
            return queryset
        open_ = queryset.filter(follow_up_on__isnull=False, follow_up_done=False)
        return open_ if value else queryset.exclude(pk__in=open_.values("pk"))


class ChamberFilterSet(OrganisationFilterSet):
    search_fields = ("name", "acronym")

    class Meta:
        model = Chamber
        fields = ("active",)


class TagFilterSet(OrganisationFilterSet):
    search_fields = ("name",)

    class Meta:
        model = Tag
        fields: tuple[str, ...] = ()
