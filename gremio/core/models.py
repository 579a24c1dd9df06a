"""Organisations, the people in them, pillars, the change log and job records."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from stdnum.mx import rfc as stdnum_rfc

from .roles import Role

if TYPE_CHECKING:
    from collections.abc import Iterable


# Users -------------------------------------------------------------------


class EmailUserManager(UserManager["User"]):
    """Users sign in with their e-mail address; there is no user name."""

    def _create_user_object(self, username: Any, email: str | None, password: str | None, **extra):
        email = self.normalize_email(email)
        user = self.model(email=email, **extra)
        user.password = ""
        user.set_password(password)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        user = self._create_user_object(None, email, password, **extra)
        user.save(using=self._db)
        return user

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. What they may see comes from their roles."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects = EmailUserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ("email",)

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_operator(self) -> bool:
        """The platform operator creates organisations; being one opens no organisation."""
        return self.is_superuser


class ApiToken(models.Model):
    """A named API token. Only a hash of the key is kept; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        import hashlib

        return hashlib.sha256(key.encode()).hexdigest()


# Organisations -----------------------------------------------------------


def validate_rfc(value: str) -> None:
    """Checks an RFC's form and check digit with python-stdnum."""
    try:
        stdnum_rfc.validate(value, validate_check_digits=True)
    except Exception as exc:
        raise ValidationError(
            _("%(value)s is not a valid RFC: check its letters, date and check digit."),
            params={"value": value},
            code="invalid_rfc",
        ) from exc


class Organisation(models.Model):
    """The tenant: a chamber, a council of chambers, a federation."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("short name"),
        max_length=50,
        unique=True,
        help_text=_("Used in addresses, as in /ccij/. Lower-case letters, digits and hyphens."),
    )
    legal_name = models.CharField(_("legal name"), max_length=250, blank=True)
    rfc = models.CharField(_("RFC"), max_length=13, blank=True, validators=[validate_rfc])
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="MXN",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code."))],
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Mexico_City")
    language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="es-mx"
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("month the fiscal year starts"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:dashboard", kwargs={"org": self.slug})

    def clean(self) -> None:
        import zoneinfo

        if self.rfc:
            self.rfc = self.rfc.strip().upper()
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})

    @property
    def organisation(self) -> Organisation:
        # Lets the change log and permission checks treat an organisation
        # like any record that belongs to one.
        return self


class OrganisationQuerySet(models.QuerySet):
    def for_organisation(self, organisation: Organisation) -> OrganisationQuerySet:
        return self.filter(organisation=organisation)


class OrganisationOwned(models.Model):
    """Base of every business record: it belongs to exactly one organisation.

    Declaring a model on this base is all it takes for the generic views,
    forms, filters, API and change log to scope it (see ``docs/adding-a-model.md``).
    """

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        abstract = True


class RoleAssignment(OrganisationOwned):
    """A user's role in an organisation; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ("user__email", "role")
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "user", "role"),
                name="%(app_label)s_%(class)s_unique_role",
                violation_error_message=_("This user already has this role here."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    def get_absolute_url(self) -> str:
        return reverse(
            "core:roleassignment_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=14)


class Invitation(OrganisationOwned):
    """An invitation to join an organisation with a role, sent by e-mail."""

    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        editable=False,
        related_name="+",
    )
    created = models.DateTimeField(_("sent"), auto_now_add=True)
    expires = models.DateTimeField(_("expires"), default=_invitation_expiry, editable=False)
    accepted = models.DateTimeField(_("accepted"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.email} · {self.get_role_display()}"

    def get_absolute_url(self) -> str:
        return reverse(
            "core:invitation_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )

    @property
    def is_open(self) -> bool:
        return self.accepted is None and self.expires > timezone.now()


# Pillars -----------------------------------------------------------------

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour such as #1f6feb."))

REFERENCE_PILLARS: tuple[tuple[str, str, str], ...] = (
    ("Valor social de la industria", "Social value of industry", "#2f6f4f"),
    ("Contenido nacional / proveeduría local", "Domestic content", "#1f5fa8"),
    ("Comunicación estratégica", "Strategic communication", "#a8551f"),
    ("Competitividad de la manufactura", "Competitiveness of manufacturing", "#6b3fa0"),
)


class Pillar(OrganisationOwned):
    """A strategic pillar; every module counts its records per pillar."""

    name_es = models.CharField(_("name in Spanish"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120)
    colour = models.CharField(
        _("colour"), max_length=7, default="#1f5fa8", validators=[colour_validator]
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive pillars keep their history but are not offered."),
    )

    class Meta:
        verbose_name = _("strategic pillar")
        verbose_name_plural = _("strategic pillars")
        ordering = ("order", "name_es")
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "name_es"),
                name="%(app_label)s_%(class)s_unique_name_es",
                violation_error_message=_("There is already a pillar with this Spanish name."),
            ),
            models.UniqueConstraint(
                fields=("organisation", "name_en"),
                name="%(app_label)s_%(class)s_unique_name_en",
                violation_error_message=_("There is already a pillar with this English name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:pillar_detail", kwargs={"org": self.organisation.slug, "pk": self.pk})

    @property
    def name(self) -> str:
        if (translation.get_language() or "").startswith("en"):
            return self.name_en
        return self.name_es


# Change log --------------------------------------------------------------


class ObjectChange(OrganisationOwned):
    """One create, change or delete of organisation data. Append-only."""

    changelog_exempt = True

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    user_name = models.CharField(_("user"), max_length=254, editable=False)
    request_id = models.UUIDField(_("request"), null=True, blank=True, editable=False)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, editable=False)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("object type"), on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(_("object id"), max_length=64, editable=False)
    object_repr = models.CharField(_("object"), max_length=200, editable=False)
    prechange_data = models.JSONField(_("before"), null=True, blank=True, editable=False)
    postchange_data = models.JSONField(_("after"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ("-time", "-pk")
        indexes = [
            models.Index(fields=("organisation", "-time"), name="core_change_org_time"),
            models.Index(fields=("organisation", "action", "-time"), name="core_change_org_action"),
            models.Index(fields=("organisation", "user", "-time"), name="core_change_org_user"),
            models.Index(
                fields=("organisation", "content_type", "-time"), name="core_change_org_type"
            ),
            # Leads with the organisation so that a record's History uses it
            # rather than the narrower (organisation, content_type) index.
            models.Index(
                fields=("organisation", "content_type", "object_id", "-time"),
                name="core_change_object",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError(_("Recorded changes cannot be edited or deleted."))
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "core:objectchange_detail", kwargs={"org": self.organisation.slug, "pk": self.pk}
        )

    def delete(self, *args: Any, **kwargs: Any):
        raise ValidationError(_("Recorded changes cannot be edited or deleted."))

    @property
    def diff(self) -> list[tuple[str, Any, Any]]:
        """(field label, before, after) for every field whose value differs."""
        before = self.prechange_data or {}
        after = self.postchange_data or {}
        model = self.content_type.model_class()
        labels = {}
        if model is not None:
            for field in model._meta.concrete_fields:
                labels[field.attname] = labels[field.name] = str(field.verbose_name)
        keys: Iterable[str] = sorted(set(before) | set(after))
        return [
            (labels.get(k, k), before.get(k), after.get(k))
            for k in keys
            if before.get(k) != after.get(k) and k not in ("id", "organisation_id")
        ]


# Background jobs ------------------------------------------------------------


class Job(OrganisationOwned):
    """A piece of background work a person started, with its progress.

    django-tasks keeps the queue; this row is what a page polls to show a
    progress bar and the outcome, in the organisation's scope. Operational
    state, not business data, so it stays out of the change log.
    """

    changelog_exempt = True

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=200)
    task_path = models.CharField(_("task"), max_length=200, editable=False)
    task_result_id = models.CharField(max_length=64, blank=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("total steps"), default=0)
    done = models.PositiveIntegerField(_("steps done"), default=0)
    message = models.TextField(_("message"), blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ("-created",)
        indexes = [models.Index(fields=("organisation", "-created"), name="core_job_org_created")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:job_detail", kwargs={"org": self.organisation.slug, "pk": self.pk})

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ScheduledRun(models.Model):
    """A record that a scheduled job ran for a given period, so it runs once."""

    name = models.CharField(_("schedule"), max_length=100)
    period = models.CharField(_("period"), max_length=20)
    enqueued = models.DateTimeField(_("enqueued"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        ordering = ("-enqueued",)
        constraints = [
            models.UniqueConstraint(
                fields=("name", "period"), name="%(app_label)s_%(class)s_unique_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.period}"
