"""The members module's panels: on the company 360 page and on the start page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gremio.core.panels import Panel, register

from .models import MembershipStatus
from .selectors import interaction_follow_ups_due

LATEST = 10


def contacts_panel(request: Any, company: Any) -> dict[str, Any]:
    return {
        "contacts": list(
            company.contacts.select_related("organisation").order_by("last_name", "first_name")[:50]
        )
    }


def memberships_panel(request: Any, company: Any) -> dict[str, Any]:
    return {
        "memberships": list(
            company.memberships.select_related("plan", "organisation").order_by("-start")[:20]
        )
    }


def deliveries_panel(request: Any, company: Any) -> dict[str, Any]:
    deliveries = company.deliveries.all()
    year_ago = timezone.localdate() - dt.timedelta(days=365)
    totals = deliveries.aggregate(
        count=Count("pk"), hours=Sum("hours"), satisfaction=Avg("satisfaction")
    )
    return {
        "deliveries": list(
            deliveries.select_related("service", "staff", "organisation").order_by("-date", "-pk")[
                :LATEST
            ]
        ),
        "delivery_totals": totals,
        "delivered_last_year": deliveries.filter(date__gte=year_ago).count(),
    }


def interactions_panel(request: Any, company: Any) -> dict[str, Any]:
    interactions = company.interactions.all()
    return {
        "interactions": list(
            interactions.select_related("staff", "organisation").order_by("-date", "-pk")[:LATEST]
        ),
        "interaction_count": interactions.count(),
    }


def follow_ups_panel(request: Any, obj: Any) -> dict[str, Any] | None:
    due = interaction_follow_ups_due(organisation=request.organisation, user=request.user)
    return {"follow_ups": list(due[:10])}


def renewals_panel(request: Any, obj: Any) -> dict[str, Any] | None:
    from .models import Membership

    today = timezone.localdate()
    memberships = Membership.objects.filter(organisation=request.organisation)
    return {
        "ending_soon": memberships.filter(
            status=MembershipStatus.ACTIVE, end__gte=today, end__lte=today + dt.timedelta(days=60)
        ).count(),
        "in_grace": memberships.filter(status=MembershipStatus.GRACE).count(),
    }


def register_all() -> None:
    company = "members.company"
    register(
        company,
        Panel(
            "contacts", "members/panels/contacts.html", contacts_panel, "members.view_contact", 10
        ),
    )
    register(
        company,
        Panel(
            "memberships",
            "members/panels/memberships.html",
            memberships_panel,
            "members.view_membership",
            20,
        ),
    )
    register(
        company,
        Panel(
            "deliveries",
            "members/panels/deliveries.html",
            deliveries_panel,
            "members.view_servicedelivery",
            30,
            wide=True,
        ),
    )
    register(
        company,
        Panel(
            "interactions",
            "members/panels/interactions.html",
            interactions_panel,
            "members.view_interaction",
            40,
            wide=True,
        ),
    )
    register(
        "dashboard",
        Panel(
            "follow_ups",
            "members/panels/follow_ups.html",
            follow_ups_panel,
            "members.view_interaction",
            10,
        ),
    )
    register(
        "dashboard",
        Panel(
            "renewals",
            "members/panels/renewals.html",
            renewals_panel,
            "members.view_membership",
            20,
        ),
    )
    register(
        company,
        Panel(
            "statement",
            "members/panels/statement.html",
            statement_panel,
            "members.view_membership",
            25,
            wide=True,
        ),
    )


def statement_panel(request: Any, company: Any) -> dict[str, Any]:
    """Links to the member's statement (services received against dues), no query."""
    from django.urls import reverse

    url = reverse(
        "members:report_statement", kwargs={"org": request.organisation.slug, "pk": company.pk}
    )
    return {
        "statement_links": [
            (f"{url}?preset={preset}", label)
            for preset, label in (
                ("this_year", _("This year")),
                ("last_year", _("Last year")),
                ("last_12_months", _("Last 12 months")),
            )
        ]
    }
