"""Members (CRM): companies, their people, memberships, services and interactions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField

from gremio.core.models import OrganisationOwned, Pillar, validate_rfc

from .geo import State
from .movements import Left


class Sector(models.Model):
    """A SCIAN sector or subsector (Mexico's industry classification). Shared reference data."""

    code = models.CharField(_("code"), max_length=5, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("sector"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsectors",
    )
    name_es = models.CharField(_("name in Spanish"), max_length=250)
    name_en = models.CharField(_("name in English"), max_length=250)

    class Meta:
        verbose_name = _("SCIAN sector")
        verbose_name_plural = _("SCIAN sectors")
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return self.name_en if (translation.get_language() or "").startswith("en") else self.name_es


class Chamber(OrganisationOwned):
    """A member chamber of a council of chambers; companies may be affiliated through one."""

    name = models.CharField(_("name"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("chamber")
        verbose_name_plural = _("chambers")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "name"),
                name="%(app_label)s_%(class)s_unique_name",
                violation_error_message=_("There is already a chamber with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.acronym or self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "members:chamber_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )


class Tag(OrganisationOwned):
    """A free label on companies (e.g. "exporter", "IMMEX")."""

    name = models.CharField(_("name"), max_length=60)
    colour = models.CharField(_("colour"), max_length=7, default="#6c757d")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "name"),
                name="%(app_label)s_%(class)s_unique_name",
                violation_error_message=_("There is already a tag with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("members:tag_detail", kwargs={"org": self.organisation.slug, "pk": self.pk})


class MembershipStatus(models.TextChoices):
    # In context: a membership's status reads in the singular ("Vencida"),
    # while the same English words head plural report columns.
    NONE = "", pgettext_lazy("membership status", "No membership")
    PENDING = "pending", pgettext_lazy("membership status", "Pending")
    ACTIVE = "active", pgettext_lazy("membership status", "Active")
    GRACE = "grace", pgettext_lazy("membership status", "In grace")
    LAPSED = "lapsed", pgettext_lazy("membership status", "Lapsed")
    RESIGNED = "resigned", pgettext_lazy("membership status", "Resigned")
    # A past period followed, within its grace days, by the next one.
    RENEWED = "renewed", pgettext_lazy("membership status", "Renewed")


class Company(OrganisationOwned):
    """Any company the organisation deals with: member, prospect, supplier, public body.

    ``membership_status``, ``member_since`` and ``last_service_on`` are kept
    up to date by the members services, so lists filter on them by index.
    """

    class EntityType(models.TextChoices):
        LEGAL = "legal", _("Legal entity")
        NATURAL = "natural", _("Natural person")

    class SizeBand(models.TextChoices):
        MICRO = "micro", _("Micro (up to 10)")
        SMALL = "small", _("Small (11–50)")
        MEDIUM = "medium", _("Medium (51–250)")
        LARGE = "large", _("Large (over 250)")

    legal_name = models.CharField(_("legal name"), max_length=250)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    rfc = models.CharField(_("RFC"), max_length=13, blank=True, validators=[validate_rfc])
    entity_type = models.CharField(
        _("entity type"), max_length=10, choices=EntityType.choices, default=EntityType.LEGAL
    )
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("SCIAN subsector"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    size_band = models.CharField(_("size"), max_length=10, choices=SizeBand.choices, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=2, choices=State.choices, blank=True)
    municipality = models.CharField(_("municipality"), max_length=120, blank=True)
    address = models.TextField(_("address"), blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = PhoneNumberField(_("phone"), blank=True, region="MX")
    chamber = models.ForeignKey(
        Chamber,
        verbose_name=_("affiliated chamber"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="companies",
    )
    is_member = models.BooleanField(_("member"), default=False)
    is_prospect = models.BooleanField(_("prospect"), default=False)
    is_supplier = models.BooleanField(_("supplier"), default=False)
    is_public_body = models.BooleanField(_("public body"), default=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="companies")
    notes = models.TextField(_("notes"), blank=True)
    membership_status = models.CharField(
        _("membership status"),
        max_length=10,
        choices=MembershipStatus.choices,
        blank=True,
        default="",
        editable=False,
    )
    member_since = models.DateField(_("member since"), null=True, blank=True, editable=False)
    last_service_on = models.DateField(_("last service"), null=True, blank=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ("legal_name", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "rfc"),
                condition=~Q(rfc=""),
                name="%(app_label)s_%(class)s_unique_rfc",
                violation_error_message=_("A company with this RFC already exists."),
            )
        ]
        indexes = [
            # The list's order; it carries the subsector for the sector filter (see
            # CompanyFilterSet.filter_sector), which then reads no table rows.
            models.Index(
                fields=("organisation", "legal_name", "sector"), name="members_company_org_name"
            ),
            # Each list filter, then the list's order: the first page of a filtered
            # list is read in order from the index, however rare the value.
            models.Index(
                fields=("organisation", "membership_status", "legal_name"),
                name="members_company_org_status",
            ),
            models.Index(fields=("organisation", "sector"), name="members_company_org_sector"),
            models.Index(
                fields=("organisation", "state", "legal_name"), name="members_company_org_state"
            ),
            models.Index(
                fields=("organisation", "chamber", "legal_name"), name="members_company_org_chamber"
            ),
            models.Index(
                fields=("organisation", "size_band", "legal_name"), name="members_company_org_size"
            ),
            models.Index(
                fields=("organisation", "last_service_on"), name="members_company_org_served"
            ),
            # The members-served report reads the members from this index alone.
            models.Index(
                fields=(
                    "organisation",
                    "membership_status",
                    "last_service_on",
                    "chamber",
                    "sector",
                    "id",
                ),
                name="members_company_served_report",
            ),
            # PostgreSQL counts a list filtered through another table (tags, plans)
            # from this index instead of reading every company row; SQLite's
            # indexes carry the row id already.
            models.Index(fields=("organisation", "id"), name="members_company_org_pk"),
            # What reports group a company's records by (its sector and chamber), looked
            # up by id in this narrow index rather than in the wide company rows:
            # SQLite joins a year's invoices or payments to it twice as fast.
            models.Index(fields=("id", "sector", "chamber"), name="members_company_groups"),
        ]

    def __str__(self) -> str:
        return self.trade_name or self.legal_name

    def get_absolute_url(self) -> str:
        return reverse(
            "members:company_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )

    def clean(self) -> None:
        if self.rfc:
            self.rfc = self.rfc.strip().upper().replace(" ", "").replace("-", "")
            expected = 12 if self.entity_type == self.EntityType.LEGAL else 13
            if len(self.rfc) != expected:
                raise ValidationError(
                    {
                        "rfc": _(
                            "A legal entity's RFC has 12 characters and a natural person's 13; "
                            "this one has {length}."
                        ).format(length=len(self.rfc))
                    }
                )


class Contact(OrganisationOwned):
    """A person, usually working at a company."""

    class Language(models.TextChoices):
        ES = "es", _("Spanish")
        EN = "en", _("English")

    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    second_last_name = models.CharField(_("second last name"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = PhoneNumberField(_("phone"), blank=True, region="MX")
    mobile = PhoneNumberField(_("mobile"), blank=True, region="MX")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default="es")
    privacy_consent = models.BooleanField(_("accepted the privacy notice"), default=False)
    privacy_consent_on = models.DateField(_("privacy notice accepted on"), null=True, blank=True)
    opt_out_email = models.BooleanField(_("no e-mail campaigns"), default=False)
    opt_out_phone = models.BooleanField(_("no phone calls"), default=False)
    opt_out_events = models.BooleanField(_("no event invitations"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    anonymised = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ("last_name", "first_name", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "email"),
                condition=~Q(email=""),
                name="%(app_label)s_%(class)s_unique_email",
                violation_error_message=_("A contact with this e-mail already exists."),
            )
        ]
        indexes = [
            models.Index(
                fields=("organisation", "last_name", "first_name"), name="members_contact_org_name"
            ),
            models.Index(
                fields=("organisation", "company", "last_name", "first_name"),
                name="members_contact_company",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse(
            "members:contact_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )

    def clean(self) -> None:
        if self.privacy_consent and not self.privacy_consent_on:
            raise ValidationError(
                {"privacy_consent_on": _("Give the date the privacy notice was accepted.")}
            )
        if self.email:
            self.email = self.email.strip().lower()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name, self.second_last_name) if p)


class Employment(OrganisationOwned):
    """Where a contact worked and when: the history kept when a contact moves."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="employments"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="employments"
    )
    position = models.CharField(_("position"), max_length=150, blank=True)
    start = models.DateField(_("from"), null=True, blank=True)
    end = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employment history")
        ordering = ("contact", "-start", "-pk")

    def __str__(self) -> str:
        return f"{self.contact} · {self.company}"


class MembershipPlan(OrganisationOwned):
    """A kind of membership with its fee, billing frequency and period rules."""

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        SEMIANNUAL = "semiannual", _("Every six months")
        ANNUAL = "annual", _("Annual")

    class PeriodType(models.TextChoices):
        ROLLING = "rolling", _("Rolling (a year from the start date)")
        CALENDAR = "calendar", _("Calendar year (ends on 31 December)")

    name = models.CharField(_("name"), max_length=120)
    fee = models.DecimalField(
        _("annual fee"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    frequency = models.CharField(
        _("billing frequency"), max_length=12, choices=Frequency.choices, default=Frequency.ANNUAL
    )
    period_type = models.CharField(
        _("period"), max_length=10, choices=PeriodType.choices, default=PeriodType.ROLLING
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace days"),
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_("Days after the end of a period during which the membership is in grace."),
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership plan")
        verbose_name_plural = _("membership plans")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "name"),
                name="%(app_label)s_%(class)s_unique_name",
                violation_error_message=_("There is already a plan with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "members:membershipplan_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )


class Membership(OrganisationOwned):
    """One period of a company's belonging, with its plan, dates and status.

    The status follows rules (see ``services.membership_status_on``) and is
    recomputed daily and whenever the membership changes; a manual override
    holds until its expiry date.
    """

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="memberships"
    )
    plan = models.ForeignKey(
        MembershipPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="memberships"
    )
    start = models.DateField(_("start"))
    end = models.DateField(
        _("end"), blank=True, help_text=_("Left empty, it follows from the plan's period.")
    )
    fee = models.DecimalField(
        _("negotiated fee"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Left empty, the plan's fee applies."),
    )
    resigned_on = models.DateField(_("resigned on"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MembershipStatus.choices[1:],
        default=MembershipStatus.PENDING,
        editable=False,
    )
    status_override = models.CharField(
        _("status override"),
        max_length=10,
        choices=MembershipStatus.choices[1:],
        blank=True,
        help_text=_("Sets the status by hand until the date below."),
    )
    override_until = models.DateField(_("override until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # How it moved (see movements.py): kept for the movements report, never typed in.
    renews = models.BooleanField(_("renews an earlier membership"), default=False, editable=False)
    left_as = models.CharField(
        _("left as"), max_length=8, blank=True, editable=False, choices=Left.choices
    )
    left_on = models.DateField(_("left on"), null=True, blank=True, editable=False)
    run_until = models.DateField(
        _("member without a break until"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ("-start", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")),
                name="%(app_label)s_%(class)s_end_after_start",
                violation_error_message=_("The end cannot be before the start."),
            )
        ]
        indexes = [
            # With the company, the renewals page counts from the index alone.
            models.Index(
                fields=("organisation", "status", "end", "company"),
                name="members_membership_status",
            ),
            models.Index(fields=("company", "start"), name="members_membership_company"),
            models.Index(fields=("organisation", "start"), name="members_membership_org_start"),
            # The movements report counts from these alone.
            models.Index(
                fields=("organisation", "start", "renews", "company"),
                name="members_membership_joins",
            ),
            models.Index(
                fields=("organisation", "left_on", "left_as", "company"),
                name="members_membership_leaves",
            ),
            models.Index(
                fields=("organisation", "run_until", "start"), name="members_membership_runs"
            ),
            # The company list's plan filter reads only this index.
            models.Index(
                fields=("organisation", "plan", "status", "company"), name="members_membership_plan"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.plan} · {self.start:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse(
            "members:membership_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.start and self.end and self.end < self.start:
            errors["end"] = _("The end cannot be before the start.")
        if self.status_override and not self.override_until:
            errors["override_until"] = _("An override needs the date until which it holds.")
        if self.resigned_on and self.start and self.resigned_on < self.start:
            errors["resigned_on"] = _("The resignation cannot be before the start.")
        if errors:
            raise ValidationError(errors)

    @property
    def effective_fee(self) -> Any:
        return self.fee if self.fee is not None else self.plan.fee


class Service(OrganisationOwned):
    """A service in the organisation's catalogue."""

    class Category(models.TextChoices):
        LEGAL = "legal", _("Legal advice")
        TRAINING = "training", _("Training")
        CERTIFICATION = "certification", _("Certification")
        MATCHING = "matching", _("Business matching")
        INFORMATION = "information", _("Information and studies")
        REPRESENTATION = "representation", _("Representation and advocacy")
        EVENTS = "events", _("Events")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=150)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    pillar = models.ForeignKey(
        Pillar,
        verbose_name=_("strategic pillar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "name"),
                name="%(app_label)s_%(class)s_unique_name",
                violation_error_message=_("There is already a service with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "members:service_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    VIDEO = "video", _("Video call")
    EVENT = "event", _("Event")


class ServiceDelivery(OrganisationOwned):
    """One service given to one company on one date."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="deliveries"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="deliveries"
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="deliveries"
    )
    date = models.DateField(_("date"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.IN_PERSON
    )
    hours = models.DecimalField(
        _("hours"), max_digits=6, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    outcome = models.TextField(_("outcome"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    notes = models.TextField(_("notes"), blank=True)
    # The company's previous delivery, of any service and of this one (see repeats.py):
    # the reports count the companies served in a period from them.
    company_before = models.DateField(
        _("company's previous service"), null=True, blank=True, editable=False
    )
    service_before = models.DateField(
        _("company's previous delivery of this service"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("service delivered")
        verbose_name_plural = _("services delivered")
        ordering = ("-date", "-pk")
        indexes = [
            # Leads like (organisation, date) and carries what the services
            # reports add up, so they read the index alone, not 1M table rows.
            models.Index(
                fields=(
                    "organisation",
                    "date",
                    "service",
                    "company",
                    "hours",
                    "satisfaction",
                    "company_before",
                ),
                name="members_delivery_report",
            ),
            models.Index(fields=("company", "date"), name="members_delivery_company"),
            # Per service, in the order of the services: the reports by service walk
            # each service's date range here, with no sort of the period's deliveries.
            models.Index(
                fields=(
                    "service",
                    "date",
                    "hours",
                    "satisfaction",
                    "company_before",
                    "service_before",
                ),
                name="members_delivery_by_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} · {self.company} · {self.date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse(
            "members:servicedelivery_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )


class Interaction(OrganisationOwned):
    """A call, e-mail, meeting, visit or event with a company, with an optional follow-up."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        EVENT = "event", _("Event")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("date"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="interactions"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="interactions"
    )
    summary = models.TextField(_("summary"))
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    follow_up_done = models.BooleanField(_("follow-up done"), default=False)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ("-date", "-pk")
        indexes = [
            models.Index(fields=("company", "date"), name="members_interaction_company"),
            models.Index(fields=("organisation", "date"), name="members_interaction_org_date"),
            models.Index(
                fields=("organisation", "staff", "follow_up_on"),
                condition=Q(follow_up_done=False, follow_up_on__isnull=False),
                name="members_interaction_followup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.company} · {self.date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse(
            "members:interaction_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )
