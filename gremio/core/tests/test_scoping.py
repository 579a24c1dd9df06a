from django.test import TestCase

from gremio.core.testing import OrganisationScopingTests
from gremio.core.tests.factories import InvitationFactory, PillarFactory, RoleAssignmentFactory


class TestPillarScoping(OrganisationScopingTests, TestCase):
    factory = PillarFactory


class TestRoleAssignmentScoping(OrganisationScopingTests, TestCase):
    factory = RoleAssignmentFactory


class TestInvitationScoping(OrganisationScopingTests, TestCase):
    factory = InvitationFactory
