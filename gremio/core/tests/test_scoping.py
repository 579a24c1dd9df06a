import factory
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase

from gremio.core.models import Job, ObjectChange, OrganisationOwned
from gremio.core.testing import OrganisationScopingTests, load_all_test_modules
from gremio.core.tests.factories import (
    InvitationFactory,
    OrganisationFactory,
    PillarFactory,
    RoleAssignmentFactory,
)
from gremio.core.views.generic import ModelPages


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Import {n}")
    task_path = "gremio.core.tests.test_scoping.JobFactory"


class ObjectChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ObjectChange

    organisation = factory.SubFactory(OrganisationFactory)
    user_name = "system"
    action = ObjectChange.Action.CREATE
    content_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Job))
    object_id = "1"
    object_repr = factory.Sequence(lambda n: f"Record {n}")
    postchange_data = factory.LazyFunction(lambda: {"name": "x"})


class TestPillarScoping(OrganisationScopingTests, TestCase):
    factory = PillarFactory


class TestRoleAssignmentScoping(OrganisationScopingTests, TestCase):
    factory = RoleAssignmentFactory


class TestInvitationScoping(OrganisationScopingTests, TestCase):
    factory = InvitationFactory


class TestJobScoping(OrganisationScopingTests, TestCase):
    factory = JobFactory


class TestObjectChangeScoping(OrganisationScopingTests, TestCase):
    factory = ObjectChangeFactory


def test_every_model_with_pages_has_scoping_tests() -> None:
    """A model that gets pages must get its cross-organisation 404 tests too."""
    load_all_test_modules()

    def subclasses(cls: type) -> set[type[OrganisationScopingTests]]:
        found: set[type[OrganisationScopingTests]] = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    tested = {
        cls.factory._meta.model for cls in subclasses(OrganisationScopingTests) if cls.factory
    }
    with_pages = {model for model in ModelPages.registry if issubclass(model, OrganisationOwned)}
    missing = sorted(model._meta.label for model in with_pages - tested)
    assert not missing, f"Add an OrganisationScopingTests class for: {', '.join(missing)}"
