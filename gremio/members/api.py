"""API of the members module: every record, filtered like the pages."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from gremio.core.api import (
    OrganisationModelSerializer,
    OrganisationModelViewSet,
    organisation_viewset,
)

from . import filtersets, forms, services
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


class ChamberSerializer(OrganisationModelSerializer):
    class Meta:
        model = Chamber
        fields = ("id", "name", "acronym", "active")


class TagSerializer(OrganisationModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "name", "colour")


class CompanySerializer(OrganisationModelSerializer):
    sector_code = serializers.CharField(source="sector.code", read_only=True, default=None)

    class Meta:
        model = Company
        # The form's fields, so that the API and the pages accept the same data.
        fields = (
            "id",
            *forms.CompanyForm.Meta.fields,
            "sector_code",
            "membership_status",
            "member_since",
            "last_service_on",
        )
        read_only_fields = ("membership_status", "member_since", "last_service_on")

    def validate_rfc(self, value: str) -> str:
        return value.strip().upper().replace(" ", "").replace("-", "")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        # The model's clean() checks the RFC's length against the entity type.
        instance = Company(**{k: v for k, v in attrs.items() if k != "tags"})
        if self.instance is not None:
            for field in ("rfc", "entity_type"):
                attrs.setdefault(field, getattr(self.instance, field))
                setattr(instance, field, attrs[field])
        from django.core.exceptions import ValidationError

        try:
            instance.clean()
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class ContactSerializer(OrganisationModelSerializer):
    class Meta:
        model = Contact
        fields = ("id", *forms.ContactForm.Meta.fields)

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class MembershipPlanSerializer(OrganisationModelSerializer):
    class Meta:
        model = MembershipPlan
        fields = (
            "id",
            "name",
            "fee",
            "frequency",
            "period_type",
            "grace_days",
            "description",
            "active",
        )

    def save(self, **kwargs: Any) -> MembershipPlan:
        plan = self.instance or MembershipPlan()
        for key, value in {**self.validated_data, **kwargs}.items():
            setattr(plan, key, value)
        self.instance = services.plan_save(plan=plan)
        return self.instance


class MembershipSerializer(OrganisationModelSerializer):
    class Meta:
        model = Membership
        fields = (
            "id",
            "company",
            "plan",
            "start",
            "end",
            "fee",
            "resigned_on",
            "status",
            "status_override",
            "override_until",
            "notes",
        )
        read_only_fields = ("status",)
        extra_kwargs = {"end": {"required": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        plan = attrs.get("plan", getattr(self.instance, "plan", None))
        if not end and start and plan:
            attrs["end"] = services.period_end(plan=plan, start=start)
        elif start and end and end < start:
            raise serializers.ValidationError({"end": "The end cannot be before the start."})
        if attrs.get("status_override") and not attrs.get("override_until"):
            raise serializers.ValidationError(
                {"override_until": "An override needs the date until which it holds."}
            )
        return attrs

    def save(self, **kwargs: Any) -> Membership:
        membership = self.instance or Membership()
        for key, value in {**self.validated_data, **kwargs}.items():
            setattr(membership, key, value)
        self.instance = services.membership_save(membership=membership)
        return self.instance


class ServiceSerializer(OrganisationModelSerializer):
    class Meta:
        model = Service
        fields = ("id", "name", "category", "pillar", "description", "active")


class ServiceDeliverySerializer(OrganisationModelSerializer):
    class Meta:
        model = ServiceDelivery
        fields = (
            "id",
            "company",
            "contacts",
            "service",
            "date",
            "staff",
            "channel",
            "hours",
            "satisfaction",
            "outcome",
            "notes",
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        company = attrs.get("company", getattr(self.instance, "company", None))
        strangers = [c for c in attrs.get("contacts", []) if company and c.company_id != company.pk]
        if strangers:
            raise serializers.ValidationError(
                {"contacts": "These contacts do not work at the company."}
            )
        return attrs

    def save(self, **kwargs: Any) -> ServiceDelivery:
        data = {**self.validated_data, **kwargs}
        contacts = data.pop("contacts", None)
        delivery = self.instance or ServiceDelivery()
        for key, value in data.items():
            setattr(delivery, key, value)
        self.instance = services.delivery_save(delivery=delivery, contacts=contacts)
        return self.instance


class InteractionSerializer(OrganisationModelSerializer):
    class Meta:
        model = Interaction
        fields = (
            "id",
            "company",
            "contacts",
            "kind",
            "date",
            "staff",
            "summary",
            "follow_up_on",
            "follow_up_done",
        )


def _delete_delivery(viewset: Any, instance: ServiceDelivery) -> None:
    services.delivery_delete(delivery=instance)


def _delete_membership(viewset: Any, instance: Membership) -> None:
    services.membership_delete(membership=instance)


def _viewset(
    model: Any, serializer: Any, filterset: Any, queryset: Any = None, **extra: Any
) -> type:
    attrs = {
        "queryset": queryset if queryset is not None else model.objects.all(),
        "serializer_class": serializer,
        "filterset_class": filterset,
        "__doc__": f"{model._meta.verbose_name_plural.capitalize()} of the organisation.",
        **extra,
    }
    return organisation_viewset(
        type(f"{model.__name__}ViewSet", (OrganisationModelViewSet,), attrs)
    )


def register(router: Any) -> None:
    for prefix, viewset in (
        (
            "members/companies",
            _viewset(
                Company,
                CompanySerializer,
                filtersets.CompanyFilterSet,
                Company.objects.prefetch_related("tags").select_related("sector"),
            ),
        ),
        ("members/contacts", _viewset(Contact, ContactSerializer, filtersets.ContactFilterSet)),
        (
            "members/plans",
            _viewset(MembershipPlan, MembershipPlanSerializer, filtersets.MembershipPlanFilterSet),
        ),
        (
            "members/memberships",
            _viewset(
                Membership,
                MembershipSerializer,
                filtersets.MembershipFilterSet,
                perform_destroy=_delete_membership,
            ),
        ),
        ("members/services", _viewset(Service, ServiceSerializer, filtersets.ServiceFilterSet)),
        (
            "members/deliveries",
            _viewset(
                ServiceDelivery,
                ServiceDeliverySerializer,
                filtersets.ServiceDeliveryFilterSet,
                ServiceDelivery.objects.prefetch_related("contacts"),
                perform_destroy=_delete_delivery,
            ),
        ),
        (
            "members/interactions",
            _viewset(
                Interaction,
                InteractionSerializer,
                filtersets.InteractionFilterSet,
                Interaction.objects.prefetch_related("contacts"),
            ),
        ),
        ("members/chambers", _viewset(Chamber, ChamberSerializer, filtersets.ChamberFilterSet)),
        ("members/tags", _viewset(Tag, TagSerializer, filtersets.TagFilterSet)),
    ):
        router.register(prefix, viewset, basename=prefix.replace("/", "-"))
