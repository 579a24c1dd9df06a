"""The role map, and pages and API asking it the same question the same way."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import TestCase

from gremio.core import services
from gremio.core.models import Organisation, Pillar, User
from gremio.core.permissions import can, roles_for
from gremio.core.roles import Role, role_allows, roles_allow
from gremio.core.tests.factories import OrganisationFactory, PillarFactory, UserFactory, member_of

# The role map itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "target", "action", "allowed"),
    [
        (Role.ADMIN, "core.pillar", "change", True),
        (Role.ADMIN, "core.objectchange", "view", True),
        (Role.ADMIN, "finance.invoice", "delete", True),
        (Role.VIEWER, "core.pillar", "view", True),
        (Role.VIEWER, "core.pillar", "change", False),
        (Role.VIEWER, "core.pillar", "export", False),
        (Role.VIEWER, "members.company", "view", True),
        (Role.VIEWER, "members.company", "add", False),
        (Role.VIEWER, "core.objectchange", "view", False),
        (Role.DIRECTOR, "core.objectchange", "view", True),
        (Role.DIRECTOR, "core.objectchange", "export", True),
        (Role.DIRECTOR, "core.pillar", "change", False),
        (Role.DIRECTOR, "core.roleassignment", "view", True),
        (Role.DIRECTOR, "core.roleassignment", "add", False),
        (Role.FINANCE, "core.roleassignment", "view", False),
        (Role.FINANCE, "finance.invoice", "add", True),
        (Role.FINANCE, "members.company", "change", False),
        (Role.FINANCE, "members.company", "export", True),
        (Role.RELATIONS, "members.company", "delete", True),
        (Role.REPRESENTATION, "representation.vote", "change", True),
        (Role.PLANNING, "strategy.task", "add", True),
        (Role.PLANNING, "core.pillar", "add", False),
        # A model-level grant wins over the app-level one.
        (Role.STAFF, "members.servicedelivery", "add", True),
        (Role.STAFF, "members.company", "add", False),
        (Role.STAFF, "strategy.timeentry", "delete", True),
        (Role.REPRESENTATIVE, "representation.session", "view", True),
        (Role.REPRESENTATIVE, "members.company", "view", False),
        (Role.REPRESENTATIVE, "core.organisation", "view", False),
        ("nobody", "core.pillar", "view", False),
    ],
)
def test_role_map(role: str, target: str, action: str, allowed: bool) -> None:
    app_label, model_name = target.split(".")
    assert role_allows(role, app_label, model_name, action) is allowed


def test_roles_allow_is_the_union_of_the_roles() -> None:
    assert not roles_allow(frozenset(), "core", "pillar", "view")
    assert not roles_allow(frozenset({Role.VIEWER}), "core", "objectchange", "view")
    assert roles_allow(frozenset({Role.VIEWER, Role.DIRECTOR}), "core", "objectchange", "view")


def test_every_role_is_in_the_map() -> None:
    from gremio.core.roles import ROLE_PERMISSIONS

    assert set(ROLE_PERMISSIONS) == set(Role.values)


# can(): roles held in the target's organisation ------------------------------------


class CanTests(TestCase):
    org: Organisation
    other: Organisation
    pillar: Pillar
    other_pillar: Pillar

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="roles-a")
        cls.other = OrganisationFactory.create(slug="roles-b")
        cls.pillar = PillarFactory.create(organisation=cls.org)
        cls.other_pillar = PillarFactory.create(organisation=cls.other)

    def test_admin_may_change_a_pillar_of_its_own_organisation_only(self) -> None:
        admin = member_of(self.org, Role.ADMIN)
        assert can(admin, "core.change_pillar", self.org)
        assert can(admin, "core.change_pillar", self.pillar)
        assert not can(admin, "core.change_pillar", self.other)
        assert not can(admin, "core.change_pillar", self.other_pillar)

    def test_viewer_may_only_view(self) -> None:
        viewer = member_of(self.org, Role.VIEWER)
        assert can(viewer, "core.view_pillar", self.pillar)
        for action in ("add", "change", "delete", "export"):
            assert not can(viewer, f"core.{action}_pillar", self.pillar), action

    def test_director_reads_the_change_log_but_does_not_change_pillars(self) -> None:
        director = member_of(self.org, Role.DIRECTOR)
        assert can(director, "core.view_objectchange", self.org)
        assert can(director, "core.view_pillar", self.org)
        assert not can(director, "core.change_pillar", self.pillar)

    def test_finance_may_not_view_roles(self) -> None:
        finance = member_of(self.org, Role.FINANCE)
        assert not can(finance, "core.view_roleassignment", self.org)
        assert can(finance, "core.view_pillar", self.org)

    def test_roles_add_up(self) -> None:
        user = member_of(self.org, Role.VIEWER, Role.DIRECTOR)
        assert can(user, "core.view_objectchange", self.org)

    def test_anonymous_inactive_and_roleless_users_may_nothing(self) -> None:
        assert not can(AnonymousUser(), "core.view_pillar", self.org)
        inactive = member_of(self.org, Role.ADMIN)
        inactive.is_active = False
        inactive.save()
        assert not can(inactive, "core.view_pillar", self.org)
        assert not can(UserFactory.create(), "core.view_pillar", self.org)

    def test_the_superuser_shortcut_is_not_used(self) -> None:
        operator = UserFactory.create(is_superuser=True, is_staff=True)
        assert not can(operator, "core.view_pillar", self.org)
        assert not can(operator, "core.change_organisation", self.org)
        # Django's own has_perm would say yes to a superuser; can() does not use it.
        assert operator.has_perm("core.view_pillar", self.org)

    def test_a_role_granted_later_is_seen(self) -> None:
        user = UserFactory.create()
        assert roles_for(user, self.org.pk) == frozenset()
        services.role_grant(organisation=self.org, user=user, role=Role.VIEWER)
        assert roles_for(user, self.org.pk) == {Role.VIEWER}

    def test_role_grant_is_idempotent(self) -> None:
        user = UserFactory.create()
        first = services.role_grant(organisation=self.org, user=user, role=Role.STAFF)
        second = services.role_grant(organisation=self.org, user=user, role=Role.STAFF)
        assert first.pk == second.pk
        assert user.role_assignments.count() == 1


# Pages and API follow the map, for every role --------------------------------------

PAGES = (
    # (url under /<org>/, model, action)
    ("pillars/", "pillar", "view"),
    ("pillars/add/", "pillar", "add"),
    ("roles/", "roleassignment", "view"),
    ("roles/add/", "roleassignment", "add"),
    ("invitations/", "invitation", "view"),
    ("invitations/add/", "invitation", "add"),
    ("changes/", "objectchange", "view"),
    ("jobs/", "job", "view"),
    ("settings/", "organisation", "change"),
)
API = (("pillars/", "pillar"), ("roles/", "roleassignment"), ("changes/", "objectchange"))


class RoleMatrixTests(TestCase):
    org: Organisation
    users: dict[str, User]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="matrix")
        cls.users = {role: member_of(cls.org, role) for role in Role.values}

    def test_pages_answer_as_the_role_map_says(self) -> None:
        for role, user in self.users.items():
            self.client.force_login(user)
            assert self.client.get("/matrix/").status_code == 200, role
            for url, model, action in PAGES:
                expected = 200 if role_allows(role, "core", model, action) else 403
                status = self.client.get(f"/matrix/{url}").status_code
                assert status == expected, (role, url, status)

    def test_api_answers_as_the_role_map_says(self) -> None:
        for role, user in self.users.items():
            self.client.force_login(user)
            for url, model in API:
                expected = 200 if role_allows(role, "core", model, "view") else 403
                status = self.client.get(f"/api/v1/matrix/{url}").status_code
                assert status == expected, (role, url, status)

    def test_export_follows_the_export_permission(self) -> None:
        for role, user in self.users.items():
            self.client.force_login(user)
            if not role_allows(role, "core", "pillar", "view"):
                continue
            expected = 200 if role_allows(role, "core", "pillar", "export") else 403
            status = self.client.get("/matrix/pillars/?_export=csv").status_code
            assert status == expected, (role, status)


# The platform operator --------------------------------------------------------------


class OperatorTests(TestCase):
    org: Organisation
    pillar: Pillar
    operator: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="op-org")
        cls.pillar = PillarFactory.create(organisation=cls.org)
        cls.operator = UserFactory.create(
            email="operator@example.com", is_superuser=True, is_staff=True
        )

    def test_operator_without_a_role_meets_404_everywhere_in_the_organisation(self) -> None:
        self.client.force_login(self.operator)
        for url in (
            "/op-org/",
            "/op-org/settings/",
            "/op-org/pillars/",
            "/op-org/pillars/add/",
            f"/op-org/pillars/{self.pillar.pk}/",
            f"/op-org/pillars/{self.pillar.pk}/edit/",
            "/op-org/changes/",
            "/api/v1/op-org/pillars/",
            f"/api/v1/op-org/pillars/{self.pillar.pk}/",
        ):
            assert self.client.get(url).status_code == 404, url
        response = self.client.post(
            "/op-org/pillars/add/", {"name_es": "X", "name_en": "X", "colour": "#000000"}
        )
        assert response.status_code == 404
        assert not Pillar.objects.filter(name_es="X").exists()

    def test_operator_holding_only_viewer_is_refused_pillar_add(self) -> None:
        services.role_grant(organisation=self.org, user=self.operator, role=Role.VIEWER)
        self.client.force_login(self.operator)
        assert self.client.get("/op-org/pillars/").status_code == 200
        assert self.client.get("/op-org/pillars/add/").status_code == 403
        data = {"name_es": "Nuevo", "name_en": "New", "colour": "#000000", "order": 1}
        assert self.client.post("/op-org/pillars/add/", data).status_code == 403
        assert not Pillar.objects.filter(name_es="Nuevo").exists()
        api = self.client.post("/api/v1/op-org/pillars/", data, content_type="application/json")
        assert api.status_code == 403
        assert not Pillar.objects.filter(name_es="Nuevo").exists()
