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
from drf_spectacular.types import OpenApiTypes
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
    def perform_create(self, serializer: Any) -> None:
        # Declared here, after the mixins, so that it is the one that runs.
        serializer.save(organisation=self.request.organisation)  # type: ignore[attr-defined]


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


# Reports ----------------------------------------------------------------------
#
# One endpoint per registered report, ``/api/v1/<org>/reports/<key>/?from=&to=``
# (``.../<key>/<id>/`` for a report about one record), and the list of the
# reports a user may run at ``/api/v1/<org>/reports/``. The period and the
# report's parameters are validated by the same form as the page's.


class ReportPermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return can(request.user, view.report.permission, request.organisation)  # type: ignore[attr-defined]


class ReportViewSet(OrganisationGenericViewSet):
    """Runs one registered report (``report`` is set per report by ``register_reports``)."""

    report: Any = None
    # The report's own permission, not the model permission of RolePermission.
    permission_classes = (permissions.IsAuthenticated, ReportPermission)  # type: ignore[assignment]
    filter_backends: tuple[Any, ...] = ()
    pagination_class = None

    def answer(self, request: Request, subject: Any = None) -> Any:
        from rest_framework.response import Response

        from .reports import form_errors, run_as_dict, run_report

        organisation = request.organisation  # type: ignore[attr-defined]
        form = self.report.form(request.query_params, organisation=organisation)
        if not form.is_valid():
            raise serializers.ValidationError(form_errors(form))
        params = form.params()
        if subject is not None:
            params[subject._meta.model_name] = subject
        compare = request.query_params.get("compare", "").lower() in ("1", "true", "yes")
        run = run_report(
            self.report,
            organisation=organisation,
            period=form.period,
            params=params,
            compare=compare,
        )
        return Response(run_as_dict(run))


class PeriodReportViewSet(ReportViewSet):
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return self.answer(request)


class SubjectReportViewSet(ReportViewSet):
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return self.answer(request, subject=self.get_object())


class ReportCatalogueViewSet(OrganisationGenericViewSet):
    """The reports you may run in this organisation, with their parameters and addresses."""

    # Each report in the list is filtered by its own permission.
    permission_classes = (permissions.IsAuthenticated,)  # type: ignore[assignment]
    filter_backends: tuple[Any, ...] = ()
    pagination_class = None

    @extend_schema(
        operation_id="reports_list",
        parameters=[ORG_PARAMETER],
        responses={200: {"type": "object"}},  # a list action: an array of these
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        from rest_framework.response import Response

        from .reports import reports_for

        organisation = request.organisation  # type: ignore[attr-defined]
        base = f"/api/v1/{organisation.slug}/reports/"
        return Response(
            [
                {
                    "key": report.key,
                    "title": str(report.title),
                    "description": str(report.description),
                    "module": report.module,
                    "subject": report.subject._meta.model_name if report.subject else None,
                    "parameters": report.parameters(),
                    "url": f"{base}{report.key}/" + ("{id}/" if report.subject else ""),
                }
                for report in reports_for(request.user, organisation)
            ]
        )


def _report_parameters(report: Any) -> list[OpenApiParameter]:
    kinds = {"date": OpenApiTypes.DATE, "integer": OpenApiTypes.INT, "boolean": OpenApiTypes.BOOL}
    parameters = [ORG_PARAMETER]
    for entry in report.parameters():
        parameters.append(
            OpenApiParameter(
                entry["name"],
                kinds.get(entry["type"], OpenApiTypes.STR),
                OpenApiParameter.QUERY,
                required=False,
                enum=entry.get("choices"),
                description=entry["label"],
            )
        )
    if report.subject is not None:
        name = report.subject._meta.verbose_name
        parameters.append(
            OpenApiParameter(
                "id", OpenApiTypes.INT, OpenApiParameter.PATH, description=f"The {name}."
            )
        )
    parameters.append(
        OpenApiParameter(
            "compare",
            OpenApiTypes.BOOL,
            OpenApiParameter.QUERY,
            required=False,
            description="Also run the report on the previous period of the same length.",
        )
    )
    return parameters


def register_reports(router: Any) -> None:
    """An endpoint per registered report. Call it after every module registered its viewsets.

    (Last, because a report about a company declares the company queryset, and
    the first viewset of a model is taken as that model's endpoint.)
    """
    from django.utils import translation

    from .reports import all_reports

    router.register("reports", ReportCatalogueViewSet, basename="core-reports")
    with translation.override("en"):
        for report in all_reports():
            base: type[ReportViewSet] = (
                SubjectReportViewSet if report.subject else PeriodReportViewSet
            )
            attrs: dict[str, Any] = {"report": report, "__doc__": str(report.description)}
            if report.subject is not None:
                attrs["queryset"] = report.subject._default_manager.all()
            viewset = type(f"{report.key.replace('.', '_')}_report", (base,), attrs)
            action = "retrieve" if report.subject else "list"
            schema = extend_schema(
                operation_id=f"report_{report.key.replace('.', '_')}",
                summary=str(report.title),
                description=str(report.description),
                parameters=_report_parameters(report),
                responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
            )
            router.register(
                f"reports/{report.key}",
                extend_schema_view(**{action: schema})(viewset),
                basename=f"report-{report.key}",
            )
