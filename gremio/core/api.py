"""API base classes: organisation from the URL, roles from the one map.

Every viewset lives under ``/api/v1/<org>/`` and inherits
``OrganisationGenericViewSet``: the organisation is resolved after token
authentication (404 without a role in it), querysets and related-object
fields are scoped to it, and each method asks the same permission question
as the pages.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import (
    exceptions,
    mixins,
    pagination,
    permissions,
    serializers,
    viewsets,
)
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .changelog import attribute_to
from .filtersets import (
    JobFilterSet,
    ObjectChangeFilterSet,
    PillarFilterSet,
    RoleAssignmentFilterSet,
)
from .middleware import resolve_organisation
from .models import Job, ObjectChange, OrganisationOwned, Pillar, RoleAssignment
from .permissions import can, perm_name
from .roles import ADD, CHANGE, DELETE, VIEW
from .scoping import scope_queryset

METHOD_ACTIONS = {
    "GET": VIEW,
    "HEAD": VIEW,
    "OPTIONS": VIEW,
    "POST": ADD,
    "PUT": CHANGE,
    "PATCH": CHANGE,
    "DELETE": DELETE,
}


class RolePermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.get_queryset().model
        action = METHOD_ACTIONS.get(request.method or "GET", CHANGE)
        return can(request.user, perm_name(model, action), request.organisation)  # type: ignore[attr-defined]

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        action = METHOD_ACTIONS.get(request.method or "GET", CHANGE)
        return can(request.user, perm_name(obj, action), obj)


ORG_PARAMETER = OpenApiParameter(
    "org", str, OpenApiParameter.PATH, description="The organisation's short name (slug)."
)


class OrganisationGenericViewSet(viewsets.GenericViewSet):
    """Resolves the organisation after authentication and scopes the queryset."""

    permission_classes = (permissions.IsAuthenticated, RolePermission)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.perform_authentication(request)
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        resolve_organisation(request, kwargs["org"])
        request._request.organisation = request.organisation  # type: ignore[attr-defined]
        attribute_to(request.user)
        super().initial(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(organisation=self.request.organisation)  # type: ignore[attr-defined]

    def perform_create(self, serializer: Any) -> None:
        serializer.save(organisation=self.request.organisation)  # type: ignore[attr-defined]


class OrganisationModelSerializer(serializers.ModelSerializer):
    """Related-object fields accept only the request organisation's records."""

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        organisation = getattr(request, "organisation", None)
        for field in fields.values():
            target = getattr(field, "child_relation", field)
            queryset = getattr(target, "queryset", None)
            if isinstance(target, serializers.RelatedField) and queryset is not None:
                setattr(target, "queryset", scope_queryset(queryset, organisation))  # noqa: B010
        return fields

    def create(self, validated_data: dict[str, Any]) -> Any:
        # Here, not only in the viewset's perform_create: DRF's CreateModelMixin
        # comes first in the viewsets' bases, so its perform_create wins.
        if issubclass(self.Meta.model, OrganisationOwned):
            validated_data["organisation"] = self.context["request"].organisation
        return super().create(validated_data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # DRF builds no validator for a constraint that includes a field the
        # serializer lacks (the organisation), so unique-per-organisation
        # constraints are checked here rather than failing in the database.
        attrs = super().validate(attrs)
        organisation = getattr(self.context.get("request"), "organisation", None)
        model: type[Model] = self.Meta.model
        if organisation is None or not issubclass(model, OrganisationOwned):
            return attrs
        instance = copy.copy(self.instance) if self.instance is not None else model()
        concrete = {f.name for f in model._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:
                setattr(instance, name, value)
        instance.organisation = organisation
        try:
            instance.validate_constraints()
        except DjangoValidationError as exc:
            errors = exc.message_dict
            if NON_FIELD_ERRORS in errors:
                errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
            raise serializers.ValidationError(errors) from exc
        return attrs


def organisation_viewset(cls: type) -> type:
    """Documents the ``org`` path parameter on every operation of a viewset."""
    return extend_schema_view(
        **{
            name: extend_schema(parameters=[ORG_PARAMETER])
            for name in ("list", "retrieve", "create", "update", "partial_update", "destroy")
            if hasattr(cls, name)
        }
    )(cls)


class OrganisationModelViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    OrganisationGenericViewSet,
):
    pass


class OrganisationReadOnlyViewSet(
    mixins.RetrieveModelMixin, mixins.ListModelMixin, OrganisationGenericViewSet
):
    pass


# Core's own endpoints ---------------------------------------------------------


class PillarSerializer(OrganisationModelSerializer):
    class Meta:
        model = Pillar
        fields = ("id", "name_es", "name_en", "colour", "order", "active")


class PillarViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    OrganisationGenericViewSet,
):
    """Strategic pillars. A pillar is deactivated rather than deleted (PATCH ``active``)."""

    queryset = Pillar.objects.all()
    serializer_class = PillarSerializer
    filterset_class = PillarFilterSet
    ordering_fields = ("order", "name_es", "name_en")


class RoleAssignmentSerializer(OrganisationModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ("id", "user", "email", "role", "created")


class RoleAssignmentViewSet(OrganisationModelViewSet):
    queryset = RoleAssignment.objects.select_related("user")
    serializer_class = RoleAssignmentSerializer
    filterset_class = RoleAssignmentFilterSet


class ObjectChangeSerializer(serializers.ModelSerializer):
    object_type = serializers.CharField(source="content_type.model", read_only=True)

    class Meta:
        model = ObjectChange
        fields = (
            "id",
            "time",
            "user",
            "user_name",
            "request_id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "prechange_data",
            "postchange_data",
        )


class ChangeLogPagination(pagination.CursorPagination):
    """Newest first, with no COUNT(*) over a table that grows without end."""

    ordering = ("-time", "-id")
    page_size = 50


class ObjectChangeViewSet(OrganisationReadOnlyViewSet):
    """The change log, newest first. Read-only: recorded changes are never edited."""

    queryset = ObjectChange.objects.select_related("content_type")
    serializer_class = ObjectChangeSerializer
    filterset_class = ObjectChangeFilterSet
    pagination_class = ChangeLogPagination
    ordering_fields: tuple[str, ...] = ()


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Job
        fields = (
            "id",
            "name",
            "status",
            "total",
            "done",
            "percent",
            "message",
            "result",
            "created",
            "finished",
        )


class JobViewSet(OrganisationReadOnlyViewSet):
    queryset = Job.objects.all()
    serializer_class = JobSerializer
    filterset_class = JobFilterSet

    def get_queryset(self) -> QuerySet[Any]:
        from .selectors import jobs_visible_to

        request: Any = self.request
        return jobs_visible_to(
            super().get_queryset(), user=request.user, organisation=request.organisation
        )


def register(router: Any) -> None:
    for prefix, viewset in (
        ("pillars", PillarViewSet),
        ("roles", RoleAssignmentViewSet),
        ("changes", ObjectChangeViewSet),
        ("jobs", JobViewSet),
    ):
        router.register(prefix, organisation_viewset(viewset), basename=f"core-{prefix}")
