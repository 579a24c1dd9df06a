"""Factories with fixed values: the same test, the same data."""

from __future__ import annotations

import factory

from gremio.core import services
from gremio.core.models import Invitation, Job, Organisation, Pillar, RoleAssignment, User


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Cámara {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name}, A.C.")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = "Ana"
    last_name = "López"
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class PillarFactory(factory.django.DjangoModelFactory[Pillar]):
    class Meta:
        model = Pillar

    organisation = factory.SubFactory(OrganisationFactory)
    name_es = factory.Sequence(lambda n: f"Eje {n}")
    name_en = factory.Sequence(lambda n: f"Pillar {n}")
    colour = "#1f5fa8"
    order = factory.Sequence(lambda n: n)


class RoleAssignmentFactory(factory.django.DjangoModelFactory[RoleAssignment]):
    class Meta:
        model = RoleAssignment

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = "viewer"


class InvitationFactory(factory.django.DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = "staff"


class JobFactory(factory.django.DjangoModelFactory[Job]):
    class Meta:
        model = Job

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Import {n}")
    task_path = "gremio.core.tests.test_jobs.count_to"


def member_of(organisation: Organisation, *roles: str, email: str | None = None) -> User:
    """A user holding ``roles`` in ``organisation``."""
    user = UserFactory.create(email=email) if email else UserFactory.create()
    for role in roles:
        services.role_grant(organisation=organisation, user=user, role=role)
    return user
