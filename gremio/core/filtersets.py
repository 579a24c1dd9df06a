"""Filter sets: one per model serves its page and its API list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import Invitation, Job, ObjectChange, Pillar, RoleAssignment
from .roles import Role
from .scoping import scope_queryset


def logged_content_types() -> QuerySet[ContentType]:
    from django.apps import apps

    from .changelog import is_logged

    models = [m for m in apps.get_models() if is_logged(m)]
    return ContentType.objects.filter(
        pk__in=[ContentType.objects.get_for_model(m).pk for m in models]
    ).order_by("app_label", "model")


class YesNoSelect(forms.Select):
    """Any / Yes / No, with the values ``NullBooleanField`` understands."""

    def __init__(self, attrs: Any = None) -> None:
        super().__init__(attrs, choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])


class OrganisationFilterSet(django_filters.FilterSet):
    """Scopes every related-object filter to the request's organisation.

    ``q`` searches the fields named in ``search_fields``.
    """

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {
            "filter_class": django_filters.BooleanFilter,
            "extra": lambda f: {"widget": YesNoSelect},
        },
    }

    q = django_filters.CharFilter(method="search", label=_("Search"))
    search_fields: tuple[str, ...] = ()

    def __init__(
        self, data: Any = None, queryset: Any = None, *, request: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(data, queryset, request=request, **kwargs)
        organisation = getattr(request, "organisation", None)
        for flt in self.filters.values():
            if isinstance(
                flt, django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter
            ):
                base = flt.extra.get("queryset")
                if base is None:
                    base = flt.model._meta.get_field(
                        flt.field_name
                    ).remote_field.model._default_manager.all()
                if callable(base):
                    base = base(request)
                # django-filter builds the field from ``flt.queryset`` (over ``extra``).
                flt.queryset = flt.extra["queryset"] = scope_queryset(base, organisation)
        if not self.search_fields:
            self.filters.pop("q", None)

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field_name in self.search_fields:
            condition |= Q(**{f"{field_name}__icontains": value})
        return queryset.filter(condition)


class PillarFilterSet(OrganisationFilterSet):
    search_fields = ("name_es", "name_en")

    class Meta:
        model = Pillar
        fields = ("active",)


class RoleAssignmentFilterSet(OrganisationFilterSet):
    search_fields = ("user__email", "user__first_name", "user__last_name")
    role = django_filters.MultipleChoiceFilter(
        choices=Role.choices, label=_("Role"), distinct=False
    )

    class Meta:
        model = RoleAssignment
        fields = ("role",)


class InvitationFilterSet(OrganisationFilterSet):
    search_fields = ("email",)

    class Meta:
        model = Invitation
        fields = ("role",)


class ObjectChangeFilterSet(OrganisationFilterSet):
    search_fields = ("object_repr", "user_name")
    user = django_filters.ModelChoiceFilter(label=_("User"), queryset=None)
    action = django_filters.MultipleChoiceFilter(
        choices=ObjectChange.Action.choices, label=_("Action"), distinct=False
    )
    content_type = django_filters.ModelChoiceFilter(
        label=_("Object type"), queryset=lambda request: logged_content_types()
    )
    time_after = django_filters.DateFilter(method="filter_from", label=_("From"))
    time_before = django_filters.DateFilter(method="filter_to", label=_("To"))

    class Meta:
        model = ObjectChange
        fields = ("user", "action", "content_type", "time_after", "time_before")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Strategic pillar" rather than ContentType's "Organisation | strategic pillar".
        field = self.filters["content_type"].field
        field.label_from_instance = lambda ct: capfirst(
            ct.model_class()._meta.verbose_name if ct.model_class() else ct.model
        )

    # Whole local days, compared on the indexed column (no per-row date cast).
    def filter_from(self, queryset: QuerySet[Any], name: str, value: dt.date) -> QuerySet[Any]:
        return queryset.filter(time__gte=local_midnight(value))

    def filter_to(self, queryset: QuerySet[Any], name: str, value: dt.date) -> QuerySet[Any]:
        return queryset.filter(time__lt=local_midnight(value + dt.timedelta(days=1)))


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class JobFilterSet(OrganisationFilterSet):
    search_fields = ("name",)

    class Meta:
        model = Job
        fields = ("status",)
