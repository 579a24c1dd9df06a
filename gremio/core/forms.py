"""Base forms: every related-object choice is scoped to the organisation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Invitation, Organisation, OrganisationOwned, Pillar, RoleAssignment
from .scoping import scope_queryset

RESERVED_SLUGS = frozenset(
    {
        "accounts",
        "account",
        "admin",
        "api",
        "healthz",
        "i18n",
        "invitations",
        "media",
        "platform",
        "static",
    }
)


class OrganisationModelForm(forms.ModelForm):
    """A model form that knows its organisation.

    Related-object fields offer only the organisation's records, so a
    tampered id from another organisation is "not one of the available
    choices". Saving sets the organisation on a new record.
    """

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        # Set before validation so that constraints that include the
        # organisation (unique per organisation) are checked.
        if isinstance(self.instance, OrganisationOwned) and not self.instance.organisation_id:
            self.instance.organisation = organisation
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
                current = self.initial.get(name)
                field.queryset = scope_queryset(field.queryset, organisation, keep=current)

    def _get_validation_exclusions(self) -> set[str]:
        # Django leaves fields that are not on the form out of validation,
        # which would skip every unique-per-organisation constraint and let a
        # duplicate reach the database as an IntegrityError (a server error).
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]
        exclude.discard("organisation")
        return exclude


class PillarForm(OrganisationModelForm):
    class Meta:
        model = Pillar
        fields = ("name_es", "name_en", "colour", "order", "active")
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}


class RoleAssignmentForm(OrganisationModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role")


class InvitationForm(OrganisationModelForm):
    class Meta:
        model = Invitation
        fields = ("email", "role")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields: tuple[str, ...] = (
            "name",
            "legal_name",
            "rfc",
            "currency",
            "time_zone",
            "language",
            "fiscal_year_start_month",
        )

    def clean_rfc(self) -> str:
        return self.cleaned_data["rfc"].strip().upper()


class OrganisationCreateForm(OrganisationForm):
    """The platform operator's form: the organisation and its first administrator."""

    admin_email = forms.EmailField(
        label=_("Administrator's e-mail"),
        help_text=_("This person is invited as the organisation's first administrator."),
    )

    class Meta(OrganisationForm.Meta):
        fields = ("name", "slug", *OrganisationForm.Meta.fields[1:])

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("This short name is reserved; choose another."))
        return slug


class AcceptInvitationForm(forms.Form):
    """A new person sets a name and a password when accepting an invitation."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(
        label=_("Confirm password"), widget=forms.PasswordInput, strip=False
    )

    def clean(self) -> dict[str, Any]:
        from django.contrib.auth.password_validation import validate_password

        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        elif data.get("password1"):
            try:
                validate_password(data["password1"])
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. 'reporting script'."),
    )
