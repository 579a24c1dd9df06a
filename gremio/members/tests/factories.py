"""Members factories with fixed values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.db.models import Q

from gremio.core.tests.factories import OrganisationFactory
from gremio.members import movements, repeats
from gremio.members.models import (
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

SAME_ORG = factory.SelfAttribute("..organisation")

# Valid legal-entity RFCs (check digit included), one per company created.
RFCS = [
    "AAA010101AA1",
    "ABC680524P73",
    "CAJ920414LW3",
    "GHI920815JK2",
    "XYZ850101AB7",
]


class ChamberFactory(factory.django.DjangoModelFactory[Chamber]):
    class Meta:
        model = Chamber

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Cámara Regional {n}")
    acronym = factory.Sequence(lambda n: f"CR{n}")


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"etiqueta-{n}")


class CompanyFactory(factory.django.DjangoModelFactory[Company]):
    class Meta:
        model = Company

    organisation = factory.SubFactory(OrganisationFactory)
    legal_name = factory.Sequence(lambda n: f"Manufacturas del Bajío {n}, S.A. de C.V.")
    trade_name = factory.Sequence(lambda n: f"Manufacturas {n}")
    state = "14"
    municipality = "Guadalajara"


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    first_name = "María"
    last_name = factory.Sequence(lambda n: f"González{n}")
    second_last_name = "Pérez"
    company = factory.SubFactory(
        CompanyFactory, organisation=factory.SelfAttribute("..organisation")
    )
    email = factory.Sequence(lambda n: f"maria{n}@empresa.example")


class MembershipPlanFactory(factory.django.DjangoModelFactory[MembershipPlan]):
    class Meta:
        model = MembershipPlan

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    fee = Decimal("12000.00")
    grace_days = 30


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    company = factory.SubFactory(
        CompanyFactory, organisation=factory.SelfAttribute("..organisation")
    )
    plan = factory.SubFactory(
        MembershipPlanFactory, organisation=factory.SelfAttribute("..organisation")
    )
    start = dt.date(2026, 1, 1)
    end = dt.date(2026, 12, 31)
    status = "active"

    @factory.post_generation
    def moved(obj: Membership, create: bool, extracted: object, **kwargs: object) -> None:
        """Keep the company's movement fields as the services do (the status stays as given)."""
        if create:
            movements.refresh(
                list(Membership.objects.filter(company_id=obj.company_id).select_related("plan"))
            )
            obj.refresh_from_db(fields=movements.FIELDS)


class ServiceFactory(factory.django.DjangoModelFactory[Service]):
    class Meta:
        model = Service

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Asesoría legal {n}")
    category = Service.Category.LEGAL


class ServiceDeliveryFactory(factory.django.DjangoModelFactory[ServiceDelivery]):
    class Meta:
        model = ServiceDelivery
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    company = factory.SubFactory(
        CompanyFactory, organisation=factory.SelfAttribute("..organisation")
    )
    service = factory.SubFactory(
        ServiceFactory, organisation=factory.SelfAttribute("..organisation")
    )
    date = dt.date(2026, 3, 15)
    hours = Decimal("2.00")
    satisfaction = 5

    @factory.post_generation
    def last_service(
        obj: ServiceDelivery, create: bool, extracted: object, **kwargs: object
    ) -> None:
        """Keep the company's last-service date and the deliveries' previous ones, as
        ``services.delivery_save`` does."""
        if create:
            Company.objects.filter(pk=obj.company_id).filter(
                Q(last_service_on__isnull=True) | Q(last_service_on__lt=obj.date)
            ).update(last_service_on=obj.date)
            obj.company.refresh_from_db(fields=["last_service_on"])
            repeats.rebuild(ServiceDelivery, company_ids=[obj.company_id])
            obj.refresh_from_db(fields=repeats.FIELDS)


class InteractionFactory(factory.django.DjangoModelFactory[Interaction]):
    class Meta:
        model = Interaction

    organisation = factory.SubFactory(OrganisationFactory)
    company = factory.SubFactory(
        CompanyFactory, organisation=factory.SelfAttribute("..organisation")
    )
    kind = Interaction.Kind.CALL
    date = dt.date(2026, 3, 16)
    summary = "Llamada de seguimiento sobre la renovación."


def valid_rfc(n: int, *, person: bool = False) -> str:
    """A distinct valid RFC (check digit included) for each ``n`` below 17,576.

    Legal entities have 12 characters, natural persons 13.
    """
    from stdnum.mx.rfc import calc_check_digit

    letters = "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n // 26**i) % 26] for i in (2, 1, 0))
    stem = ("X" if person else "") + letters + "900101" + "A" + "123456789"[n % 9]
    return stem + calc_check_digit(stem)
