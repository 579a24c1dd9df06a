"""Factories with fixed values: the same test, the same data."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from gremio.core import services
from gremio.core.models import Invitation, Organisation, Pillar, RoleAssignment


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Cámara {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name}, A.C.")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = "Ana"
    last_name = "López"
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class PillarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pillar

    organisation = factory.SubFactory(OrganisationFactory)
    name_es = factory.Sequence(lambda n: f"Eje {n}")
    name_en = factory.Sequence(lambda n: f"Pillar {n}")
    colour = "#1f5fa8"
    order = factory.Sequence(lambda n: n)


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = "viewer"


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = "staff"


def member_of(organisation: Organisation, *roles: str, email: str | None = None):
    """A user holding ``roles`` in ``organisation``."""
    user = UserFactory(email=email) if email else UserFactory()
    for role in roles:
        services.role_grant(organisation=organisation, user=user, role=role)
    return user
