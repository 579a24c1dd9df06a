"""The REST API: token authentication, scoping, validation, permissions, schema."""

from __future__ import annotations

import datetime as dt

import yaml
from django.test import TestCase
from django.utils import timezone

from gremio.core import services
from gremio.core.models import ApiToken, ObjectChange, Organisation, Pillar, RoleAssignment, User
from gremio.core.roles import Role
from gremio.core.tests.factories import OrganisationFactory, PillarFactory, UserFactory, member_of

NEW_PILLAR = {"name_es": "Energía", "name_en": "Energy", "colour": "#123456", "order": 4}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


class TokenAuthenticationTests(TestCase):
    org: Organisation
    admin: User
    pillar: Pillar

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="api")
        cls.admin = member_of(cls.org, Role.ADMIN, email="api-admin@example.com")
        cls.pillar = PillarFactory.create(organisation=cls.org)

    def setUp(self) -> None:
        self.token, self.key = services.api_token_create(user=self.admin, name="script")

    def test_a_valid_token_is_accepted(self) -> None:
        assert self.token.last_used is None
        response = self.client.get("/api/v1/api/pillars/", headers=auth(self.key))
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [self.pillar.pk]
        self.token.refresh_from_db()
        assert self.token.last_used is not None

    def test_the_key_itself_is_not_stored(self) -> None:
        assert self.token.key_hash == ApiToken.hash_key(self.key)
        assert self.key not in self.token.key_hash
        assert self.token.prefix == self.key[:8]

    def test_an_invalid_token_is_401(self) -> None:
        for header in (f"Token {self.key}x", "Token nonsense", "Token ", "Token a b"):
            response = self.client.get("/api/v1/api/pillars/", HTTP_AUTHORIZATION=header)
            assert response.status_code == 401, header

    def test_a_revoked_token_is_401(self) -> None:
        self.token.delete()
        assert self.client.get("/api/v1/api/pillars/", headers=auth(self.key)).status_code == 401

    def test_a_deactivated_users_token_is_401(self) -> None:
        self.admin.is_active = False
        self.admin.save()
        assert self.client.get("/api/v1/api/pillars/", headers=auth(self.key)).status_code == 401

    def test_no_credentials_is_401(self) -> None:
        response = self.client.get("/api/v1/api/pillars/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Token")

    def test_a_token_of_someone_without_a_role_here_is_404(self) -> None:
        outsider = member_of(OrganisationFactory.create(slug="api-other"), Role.ADMIN)
        _token, key = services.api_token_create(user=outsider, name="x")
        assert self.client.get("/api/v1/api/pillars/", headers=auth(key)).status_code == 404
        assert self.client.get("/api/v1/api-other/pillars/", headers=auth(key)).status_code == 200
        detail = f"/api/v1/api/pillars/{self.pillar.pk}/"
        assert self.client.get(detail, headers=auth(key)).status_code == 404
        response = self.client.patch(
            detail, {"active": False}, content_type="application/json", headers=auth(key)
        )
        assert response.status_code == 404
        self.pillar.refresh_from_db()
        assert self.pillar.active is True

    def test_the_last_used_time_is_not_written_on_every_call(self) -> None:
        recent = timezone.now() - dt.timedelta(seconds=5)
        ApiToken.objects.filter(pk=self.token.pk).update(last_used=recent)
        self.client.get("/api/v1/api/pillars/", headers=auth(self.key))
        self.token.refresh_from_db()
        assert self.token.last_used == recent


class PillarApiTests(TestCase):
    org: Organisation
    other: Organisation
    admin: User
    viewer: User
    water: Pillar
    old: Pillar
    foreign: Pillar

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="papi", language="en")
        cls.other = OrganisationFactory.create(slug="papi-other")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.viewer = member_of(cls.org, Role.VIEWER)
        cls.water = PillarFactory.create(organisation=cls.org, name_es="Agua", name_en="Water")
        cls.old = PillarFactory.create(
            organisation=cls.org, name_es="Antiguo", name_en="Former", active=False
        )
        cls.foreign = PillarFactory.create(
            organisation=cls.other, name_es="Ajeno", name_en="Foreign"
        )

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def ids(self, query: str = "") -> set[int]:
        response = self.client.get(f"/api/v1/papi/pillars/{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    def test_list_is_scoped(self) -> None:
        assert self.ids() == {self.water.pk, self.old.pk}

    def test_filters(self) -> None:
        assert self.ids("?active=false") == {self.old.pk}
        assert self.ids("?active=true") == {self.water.pk}
        assert self.ids("?q=agua") == {self.water.pk}
        assert self.ids("?q=former") == {self.old.pk}
        assert self.ids("?q=ajeno") == set()

    def test_ordering(self) -> None:
        response = self.client.get("/api/v1/papi/pillars/?ordering=-name_es")
        assert [row["name_es"] for row in response.json()["results"]] == ["Antiguo", "Agua"]

    def test_create(self) -> None:
        response = self.client.post(
            "/api/v1/papi/pillars/", NEW_PILLAR, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        pillar = Pillar.objects.get(pk=response.json()["id"])
        assert pillar.organisation == self.org
        assert pillar.colour == "#123456"

    def test_bad_colour_is_a_field_error_and_writes_nothing(self) -> None:
        before = (Pillar.objects.count(), ObjectChange.objects.count())
        response = self.client.post(
            "/api/v1/papi/pillars/",
            {**NEW_PILLAR, "colour": "red"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert set(response.json()) == {"colour"}
        assert (Pillar.objects.count(), ObjectChange.objects.count()) == before

    def test_missing_names_are_field_errors(self) -> None:
        response = self.client.post(
            "/api/v1/papi/pillars/", {"colour": "#000000"}, content_type="application/json"
        )
        assert response.status_code == 400
        assert {"name_es", "name_en"} <= set(response.json())

    def test_a_duplicate_name_is_400_not_500(self) -> None:
        before = Pillar.objects.count()
        response = self.client.post(
            "/api/v1/papi/pillars/",
            {**NEW_PILLAR, "name_es": "Agua"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["There is already a pillar with this Spanish name."]
        }
        response = self.client.patch(
            f"/api/v1/papi/pillars/{self.old.pk}/",
            {"name_en": "Water"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert Pillar.objects.count() == before
        self.old.refresh_from_db()
        assert self.old.name_en == "Former"

    def test_another_organisations_name_is_free(self) -> None:
        response = self.client.post(
            "/api/v1/papi/pillars/",
            {**NEW_PILLAR, "name_es": "Ajeno", "name_en": "Foreign"},
            content_type="application/json",
        )
        assert response.status_code == 201

    def test_malformed_json_is_400(self) -> None:
        response = self.client.post(
            "/api/v1/papi/pillars/", "{not json", content_type="application/json"
        )
        assert response.status_code == 400

    def test_patch_active_by_admin(self) -> None:
        response = self.client.patch(
            f"/api/v1/papi/pillars/{self.water.pk}/",
            {"active": False},
            content_type="application/json",
        )
        assert response.status_code == 200
        self.water.refresh_from_db()
        assert self.water.active is False
        change = ObjectChange.objects.filter(object_id=str(self.water.pk)).first()
        assert change is not None and change.action == "update" and change.user == self.admin

    def test_patch_by_viewer_is_403(self) -> None:
        self.client.force_login(self.viewer)
        assert self.client.get(f"/api/v1/papi/pillars/{self.water.pk}/").status_code == 200
        response = self.client.patch(
            f"/api/v1/papi/pillars/{self.water.pk}/",
            {"active": False},
            content_type="application/json",
        )
        assert response.status_code == 403
        response = self.client.post(
            "/api/v1/papi/pillars/", NEW_PILLAR, content_type="application/json"
        )
        assert response.status_code == 403
        self.water.refresh_from_db()
        assert self.water.active is True
        assert not Pillar.objects.filter(name_en="Energy").exists()

    def test_pillars_are_not_deleted_through_the_api(self) -> None:
        response = self.client.delete(f"/api/v1/papi/pillars/{self.water.pk}/")
        assert response.status_code == 405
        assert Pillar.objects.filter(pk=self.water.pk).exists()

    def test_another_organisations_pillar_is_404(self) -> None:
        url = f"/api/v1/papi/pillars/{self.foreign.pk}/"
        assert self.client.get(url).status_code == 404
        response = self.client.patch(url, {"active": False}, content_type="application/json")
        assert response.status_code == 404
        self.foreign.refresh_from_db()
        assert self.foreign.active is True

    def test_non_numeric_and_huge_ids_are_404(self) -> None:
        for pk in ("abc", "99999999", "99999999999999999999999"):
            assert self.client.get(f"/api/v1/papi/pillars/{pk}/").status_code == 404, pk


class RoleApiTests(TestCase):
    org: Organisation
    admin: User
    colleague: User
    outsider: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="rapi")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.colleague = member_of(cls.org, Role.VIEWER)
        cls.outsider = member_of(OrganisationFactory.create(slug="rapi-other"), Role.ADMIN)

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def test_grant_a_role_to_a_colleague(self) -> None:
        response = self.client.post(
            "/api/v1/rapi/roles/",
            {"user": self.colleague.pk, "role": "finance"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert RoleAssignment.objects.get(pk=response.json()["id"]).organisation == self.org

    def test_someone_outside_the_organisation_is_a_field_error(self) -> None:
        before = RoleAssignment.objects.count()
        for user in (self.outsider.pk, UserFactory.create().pk, 999999):
            response = self.client.post(
                "/api/v1/rapi/roles/",
                {"user": user, "role": "finance"},
                content_type="application/json",
            )
            assert response.status_code == 400
            assert set(response.json()) == {"user"}
        assert RoleAssignment.objects.count() == before

    def test_a_role_held_already_is_400(self) -> None:
        before = RoleAssignment.objects.count()
        response = self.client.post(
            "/api/v1/rapi/roles/",
            {"user": self.colleague.pk, "role": "viewer"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert RoleAssignment.objects.count() == before

    def test_an_unknown_role_is_a_field_error(self) -> None:
        response = self.client.post(
            "/api/v1/rapi/roles/",
            {"user": self.colleague.pk, "role": "emperor"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert set(response.json()) == {"role"}


class SchemaAndDocsTests(TestCase):
    def test_schema_is_an_openapi_document_with_organisation_paths(self) -> None:
        response = self.client.get("/api/schema/")
        assert response.status_code == 200
        document = yaml.safe_load(response.content)
        assert document["openapi"].startswith("3.")
        assert "/api/v1/{org}/pillars/" in document["paths"]
        assert "/api/v1/{org}/changes/{id}/" in document["paths"]
        assert "post" not in document["paths"]["/api/v1/{org}/changes/"]
        assert "delete" not in document["paths"]["/api/v1/{org}/pillars/{id}/"]
        parameters = document["paths"]["/api/v1/{org}/pillars/"]["get"]["parameters"]
        assert {"org", "active", "q"} <= {p["name"] for p in parameters}
        assert "tokenAuth" in document["components"]["securitySchemes"]

    def test_schema_validates(self) -> None:
        from drf_spectacular.validation import validate_schema

        document = yaml.safe_load(self.client.get("/api/schema/").content)
        validate_schema(document)

    def test_docs_work_without_a_cdn(self) -> None:
        for url in ("/api/docs/", "/api/redoc/"):
            response = self.client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert "/static/drf_spectacular_sidecar/" in html, url
            for cdn in ("cdn.", "unpkg", "jsdelivr", "cdnjs"):
                assert cdn not in html, (url, cdn)
