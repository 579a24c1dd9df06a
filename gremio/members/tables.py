"""Tables of the members module."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gremio.core.tables import OrganisationTable

from .models import (
    Chamber,
    Company,
    Contact,
    Interaction,
    Membership,
    MembershipPlan,
    Service,
    ServiceDelivery,
    Tag,
)


def status_badge(code: str, label: str) -> str:
    return format_html('<span class="badge status-{}">{}</span>', code, label)


class CompanyTable(OrganisationTable):
    legal_name = tables.Column(linkify=True)
    membership_status = tables.Column(verbose_name=_("membership"))
    sector = tables.Column(
        accessor="sector__code", verbose_name=_("SCIAN"), order_by=("sector__code",)
    )
    chamber = tables.Column()

    class Meta:
        model = Company
        fields = (
            "legal_name",
            "trade_name",
            "rfc",
            "membership_status",
            "member_since",
            "sector",
            "size_band",
            "state",
            "municipality",
            "chamber",
            "last_service_on",
        )
        order_by = ("legal_name",)

    def render_membership_status(self, record: Company) -> str:
        return status_badge(record.membership_status, record.get_membership_status_display())

    def value_membership_status(self, record: Company) -> str:
        return str(record.get_membership_status_display())


class ContactTable(OrganisationTable):
    full_name = tables.Column(
        linkify=True, verbose_name=_("name"), order_by=("last_name", "first_name")
    )
    company = tables.Column(linkify=True)

    class Meta:
        model = Contact
        fields = ("full_name", "company", "position", "email", "phone", "mobile", "privacy_consent")
        order_by = ("full_name",)


class MembershipPlanTable(OrganisationTable):
    name = tables.Column(linkify=True)

    class Meta:
        model = MembershipPlan
        fields = ("name", "fee", "frequency", "period_type", "grace_days", "active")


class MembershipTable(OrganisationTable):
    company = tables.Column(linkify=lambda record: record.get_absolute_url())
    status = tables.Column(verbose_name=_("status"))

    class Meta:
        model = Membership
        fields = ("company", "plan", "start", "end", "fee", "status", "resigned_on")
        order_by = ("-start",)

    def render_status(self, record: Membership) -> str:
        return status_badge(record.status, record.get_status_display())

    def value_status(self, record: Membership) -> str:
        return str(record.get_status_display())


class ServiceTable(OrganisationTable):
    name = tables.Column(linkify=True)

    class Meta:
        model = Service
        fields = ("name", "category", "pillar", "active")


class ServiceDeliveryTable(OrganisationTable):
    date = tables.DateColumn(linkify=True)
    company = tables.Column(linkify=True)

    class Meta:
        model = ServiceDelivery
        fields = ("date", "company", "service", "channel", "staff", "hours", "satisfaction")
        order_by = ("-date",)


class InteractionTable(OrganisationTable):
    date = tables.DateColumn(linkify=True)
    company = tables.Column(linkify=True)

    class Meta:
        model = Interaction
        fields = ("date", "kind", "company", "staff", "summary", "follow_up_on", "follow_up_done")
        order_by = ("-date",)


class ChamberTable(OrganisationTable):
    name = tables.Column(linkify=True)

    class Meta:
        model = Chamber
        fields = ("name", "acronym", "active")


class TagTable(OrganisationTable):
    name = tables.Column(linkify=True)

    class Meta:
        model = Tag
        fields = ("name", "colour")
