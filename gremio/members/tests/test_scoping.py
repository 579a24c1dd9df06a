from django.test import TestCase

from gremio.core.testing import OrganisationScopingTests

from .factories import (
    ChamberFactory,
    CompanyFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    MembershipPlanFactory,
    ServiceDeliveryFactory,
    ServiceFactory,
    TagFactory,
)


class TestCompanyScoping(OrganisationScopingTests, TestCase):
    factory = CompanyFactory


class TestContactScoping(OrganisationScopingTests, TestCase):
    factory = ContactFactory


class TestMembershipPlanScoping(OrganisationScopingTests, TestCase):
    factory = MembershipPlanFactory


class TestMembershipScoping(OrganisationScopingTests, TestCase):
    factory = MembershipFactory


class TestServiceScoping(OrganisationScopingTests, TestCase):
    factory = ServiceFactory


class TestServiceDeliveryScoping(OrganisationScopingTests, TestCase):
    factory = ServiceDeliveryFactory


class TestInteractionScoping(OrganisationScopingTests, TestCase):
    factory = InteractionFactory


class TestChamberScoping(OrganisationScopingTests, TestCase):
    factory = ChamberFactory


class TestTagScoping(OrganisationScopingTests, TestCase):
    factory = TagFactory
