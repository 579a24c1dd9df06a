"""Forms of the members module; related choices are scoped by OrganisationModelForm."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gremio.core.forms import OrganisationModelForm
from gremio.core.widgets import LookupSelect, LookupSelectMultiple

from .models import (
    Chamber,
    Company,
    Contact,
    Interaction,
    Membership,
    MembershipPlan,
    Sector,
    Service,
    ServiceDelivery,
    Tag,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COMPANY = LookupSelect(model_label="members.company")
CONTACTS = LookupSelectMultiple(model_label="members.contact", depends_on="company")


class ChamberForm(OrganisationModelForm):
    class Meta:
        model = Chamber
        fields = ("name", "acronym", "active")


class TagForm(OrganisationModelForm):
    class Meta:
        model = Tag
        fields = ("name", "colour")
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}


class CompanyForm(OrganisationModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")
    # Room for the spaces and hyphens people type; the normalised RFC is checked by the model.
    rfc = forms.CharField(label=_("RFC"), max_length=20, required=False)

    class Meta:
        model = Company
        fields = (
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
            "is_member",
            "is_prospect",
            "is_supplier",
            "is_public_body",
            "tags",
            "notes",
        )
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Companies are classified by subsector; sectors group the choices.
        sector_field: Any = self.fields["sector"]
        sector_field.queryset = Sector.objects.filter(parent__isnull=False).select_related("parent")
        self.fields["is_member"].help_text = _(
            "Set by the membership status; tick only for members without a recorded membership."
        )

    def clean_rfc(self) -> str:
        rfc = self.cleaned_data["rfc"].strip().upper().replace(" ", "").replace("-", "")
        clash = (
            Company.objects.filter(organisation=self.organisation, rfc=rfc)
            .exclude(pk=self.instance.pk)
            .first()
            if rfc
            else None
        )
        if clash is not None:
            # Name the existing company, with a link, rather than a bare "duplicate".
            raise forms.ValidationError(
                format_html(
                    str(_('<a href="{}">{}</a> already has this RFC.')),
                    clash.get_absolute_url(),
                    clash,
                ),
                code="duplicate_rfc",
            )
        return rfc


class ContactForm(OrganisationModelForm):
    class Meta:
        model = Contact
        fields = (
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
        )
        widgets = {
            "privacy_consent_on": DATE,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "company": COMPANY,
        }

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class MembershipPlanForm(OrganisationModelForm):
    class Meta:
        model = MembershipPlan
        fields = ("name", "fee", "frequency", "period_type", "grace_days", "description", "active")
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class MembershipForm(OrganisationModelForm):
    class Meta:
        model = Membership
        fields = (
            "company",
            "plan",
            "start",
            "end",
            "fee",
            "resigned_on",
            "status_override",
            "override_until",
            "notes",
        )
        widgets = {
            "company": COMPANY,
            "start": DATE,
            "end": DATE,
            "resigned_on": DATE,
            "override_until": DATE,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["end"].required = False

    def clean(self) -> dict[str, Any]:
        # An empty end follows from the plan, before the model's own checks run.
        from .services import period_end

        data = super().clean() or {}
        if not data.get("end") and data.get("start") and data.get("plan"):
            data["end"] = period_end(plan=data["plan"], start=data["start"])
        return data


class ServiceForm(OrganisationModelForm):
    class Meta:
        model = Service
        fields = ("name", "category", "pillar", "description", "active")
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class CompanyContactsMixin:
    """The contacts chosen must work at the company chosen."""

    def check_contacts(self, data: dict[str, Any]) -> dict[str, Any]:
        company, contacts = data.get("company"), data.get("contacts")
        if company and contacts:
            strangers = [c for c in contacts if c.company_id != company.pk]
            if strangers:
                self.add_error(  # type: ignore[attr-defined]
                    "contacts",
                    _("{names} do not work at {company}.").format(
                        names=", ".join(str(c) for c in strangers), company=company
                    ),
                )
        return data


class ServiceDeliveryForm(CompanyContactsMixin, OrganisationModelForm):
    class Meta:
        model = ServiceDelivery
        fields = (
            "company",
            "service",
            "date",
            "contacts",
            "staff",
            "channel",
            "hours",
            "satisfaction",
            "outcome",
            "notes",
        )
        widgets = {
            "company": COMPANY,
            "contacts": CONTACTS,
            "date": DATE,
            "outcome": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self) -> dict[str, Any]:
        return self.check_contacts(super().clean() or {})


class InteractionForm(CompanyContactsMixin, OrganisationModelForm):
    class Meta:
        model = Interaction
        fields = (
            "company",
            "kind",
            "date",
            "contacts",
            "staff",
            "summary",
            "follow_up_on",
            "follow_up_done",
        )
        widgets = {
            "company": COMPANY,
            "contacts": CONTACTS,
            "date": DATE,
            "follow_up_on": DATE,
            "summary": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("follow_up_on") and data.get("date") and data["follow_up_on"] < data["date"]:
            self.add_error("follow_up_on", _("The follow-up cannot be before the interaction."))
        return self.check_contacts(data)
