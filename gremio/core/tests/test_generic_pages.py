"""The generic pages, through the pillar pages: list, filters, export, forms, delete."""

from __future__ import annotations

import csv
import io
from unittest import mock

import openpyxl
from django.conf import settings
from django.db import connection
from django.db.models import ProtectedError
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from gremio.core import services
from gremio.core.models import ObjectChange, Organisation, Pillar, RoleAssignment, User
from gremio.core.roles import Role
from gremio.core.tests.factories import OrganisationFactory, PillarFactory, UserFactory, member_of

VALID = {"name_es": "Agua", "name_en": "Water", "colour": "#123456", "order": 3, "active": "on"}


def rows(response) -> list:
    return [row.record for row in response.context["table"].paginated_rows]


class ListTests(TestCase):
    org: Organisation
    other: Organisation
    admin: User
    water: Pillar
    energy: Pillar
    old: Pillar

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="list", language="en")
        cls.other = OrganisationFactory.create(slug="list-other")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.water = PillarFactory.create(
            organisation=cls.org, name_es="Agua", name_en="Water", order=2
        )
        cls.energy = PillarFactory.create(
            organisation=cls.org, name_es="Energía", name_en="Energy", order=1
        )
        cls.old = PillarFactory.create(
            organisation=cls.org, name_es="Antiguo", name_en="Former", order=3, active=False
        )
        PillarFactory.create(organisation=cls.other, name_es="Agua ajena", name_en="Foreign water")

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def test_lists_own_rows_in_declared_order(self) -> None:
        response = self.client.get("/list/pillars/")
        assert response.status_code == 200
        assert rows(response) == [self.energy, self.water, self.old]

    def test_search(self) -> None:
        assert rows(self.client.get("/list/pillars/?q=agua")) == [self.water]
        assert rows(self.client.get("/list/pillars/?q=ENERGY")) == [self.energy]
        assert rows(self.client.get("/list/pillars/?q=nothing-like-it")) == []

    def test_active_filter(self) -> None:
        assert rows(self.client.get("/list/pillars/?active=false")) == [self.old]
        assert rows(self.client.get("/list/pillars/?active=true")) == [self.energy, self.water]

    def test_filters_combine(self) -> None:
        assert rows(self.client.get("/list/pillars/?active=true&q=a")) == [
            self.energy,
            self.water,
        ]
        assert rows(self.client.get("/list/pillars/?active=false&q=agua")) == []

    def test_sorting(self) -> None:
        assert rows(self.client.get("/list/pillars/?sort=name_es")) == [
            self.water,
            self.old,
            self.energy,
        ]
        assert rows(self.client.get("/list/pillars/?sort=-name_es")) == [
            self.energy,
            self.old,
            self.water,
        ]
        assert rows(self.client.get("/list/pillars/?sort=name_en")) == [
            self.energy,
            self.old,
            self.water,
        ]

    def test_bad_sort_and_page_do_not_fail(self) -> None:
        assert self.client.get("/list/pillars/?sort=no_such_column").status_code == 200
        assert self.client.get("/list/pillars/?page=abc").status_code == 200
        assert self.client.get("/list/pillars/?page=9999").status_code == 200

    def test_pagination(self) -> None:
        for n in range(30):
            PillarFactory.create(organisation=self.org, name_es=f"Eje {n:02}", name_en=f"P {n:02}")
        first = rows(self.client.get("/list/pillars/?sort=name_es"))
        second = rows(self.client.get("/list/pillars/?sort=name_es&page=2"))
        assert len(first) == 25
        assert len(second) == 33 - 25
        assert not set(first) & set(second)
        assert set(first) | set(second) == set(Pillar.objects.filter(organisation=self.org))

    def test_htmx_request_renders_only_the_table(self) -> None:
        response = self.client.get(
            "/list/pillars/?q=agua", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="object-table"
        )
        assert response.status_code == 200
        content = response.content.decode()
        assert "<html" not in content
        assert content.lstrip().startswith('<div id="object-table"')
        assert "Agua" in content and "Energía" not in content
        full = self.client.get("/list/pillars/?q=agua").content.decode()
        assert "<html" in full and 'id="object-table"' in full

    def test_htmx_request_for_another_target_gets_the_page(self) -> None:
        response = self.client.get("/list/pillars/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="x")
        assert "<html" in response.content.decode()

    def test_csv_export_holds_the_filtered_rows(self) -> None:
        response = self.client.get("/list/pillars/?active=true&_export=csv")
        assert response.status_code == 200
        assert "list-pillars.csv" in response["Content-Disposition"]
        table = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
        header, *data = table
        name_es = header.index("Name in Spanish")
        assert sorted(row[name_es] for row in data) == ["Agua", "Energía"]
        assert "Colour" not in header  # excluded from export

    def test_csv_export_holds_every_row_not_one_page(self) -> None:
        for n in range(30):
            PillarFactory.create(organisation=self.org, name_es=f"Eje {n:02}", name_en=f"P {n:02}")
        response = self.client.get("/list/pillars/?_export=csv")
        assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 1 + 33

    def test_xlsx_export_holds_the_filtered_rows(self) -> None:
        response = self.client.get("/list/pillars/?q=agua&_export=xlsx")
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        header, *data = values
        assert len(data) == 1
        assert data[0][header.index("Name in Spanish")] == "Agua"
        assert data[0][header.index("Name in English")] == "Water"

    def test_unknown_export_format_is_404(self) -> None:
        assert self.client.get("/list/pillars/?_export=pdf").status_code == 404

    def test_viewer_may_not_export(self) -> None:
        viewer = member_of(self.org, Role.VIEWER)
        self.client.force_login(viewer)
        page = self.client.get("/list/pillars/")
        assert page.status_code == 200
        assert page.context["may_export"] is False
        assert "_export=csv" not in page.content.decode()
        for fmt in ("csv", "xlsx"):
            assert self.client.get(f"/list/pillars/?_export={fmt}").status_code == 403

    def test_admin_sees_export_links(self) -> None:
        page = self.client.get("/list/pillars/")
        assert page.context["may_export"] is True
        assert "_export=xlsx" in page.content.decode()


class CreateAndEditTests(TestCase):
    org: Organisation
    other: Organisation
    admin: User
    pillar: Pillar

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="edit", language="en")
        cls.other = OrganisationFactory.create(slug="edit-other")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.pillar = PillarFactory.create(organisation=cls.org, name_es="Uno", name_en="One")
        PillarFactory.create(organisation=cls.other, name_es="Ajeno", name_en="Foreign")

    def setUp(self) -> None:
        self.client.force_login(self.admin)
        self.pillars_before = Pillar.objects.count()
        self.changes_before = ObjectChange.objects.count()

    def assert_nothing_written(self) -> None:
        assert Pillar.objects.count() == self.pillars_before
        assert ObjectChange.objects.count() == self.changes_before

    def test_create(self) -> None:
        response = self.client.post("/edit/pillars/add/", VALID)
        pillar = Pillar.objects.get(name_es="Agua")
        self.assertRedirects(response, f"/edit/pillars/{pillar.pk}/")
        assert pillar.organisation == self.org
        assert (pillar.name_en, pillar.colour, pillar.order, pillar.active) == (
            "Water",
            "#123456",
            3,
            True,
        )

    def test_add_page_takes_initial_values_from_the_query(self) -> None:
        response = self.client.get("/edit/pillars/add/?name_es=Sugerido")
        assert response.status_code == 200
        assert response.context["form"].initial["name_es"] == "Sugerido"

    def test_empty_names_and_bad_colour_are_field_errors(self) -> None:
        response = self.client.post(
            "/edit/pillars/add/", {**VALID, "name_es": "", "name_en": "  ", "colour": "red"}
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert set(errors) == {"name_es", "name_en", "colour"}
        assert "#1f6feb" in errors["colour"][0]
        self.assert_nothing_written()

    def test_htmx_form_error_answers_422(self) -> None:
        response = self.client.post(
            "/edit/pillars/add/", {**VALID, "colour": "red"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 422
        self.assert_nothing_written()

    def test_duplicate_name_in_the_organisation_is_a_form_error(self) -> None:
        response = self.client.post("/edit/pillars/add/", {**VALID, "name_es": "Uno"})
        assert response.status_code == 200
        form = response.context["form"]
        assert "There is already a pillar with this Spanish name." in str(form.errors)
        response = self.client.post("/edit/pillars/add/", {**VALID, "name_en": "One"})
        assert "There is already a pillar with this English name." in str(
            response.context["form"].errors
        )
        self.assert_nothing_written()

    def test_same_name_as_another_organisations_pillar_is_fine(self) -> None:
        response = self.client.post(
            "/edit/pillars/add/", {**VALID, "name_es": "Ajeno", "name_en": "Foreign"}
        )
        assert response.status_code == 302
        assert Pillar.objects.filter(name_es="Ajeno").count() == 2

    def test_edit_keeps_its_own_name(self) -> None:
        response = self.client.post(
            f"/edit/pillars/{self.pillar.pk}/edit/", {**VALID, "name_es": "Uno", "name_en": "One"}
        )
        assert response.status_code == 302
        self.pillar.refresh_from_db()
        assert self.pillar.colour == "#123456"

    def test_edit_to_a_taken_name_is_refused(self) -> None:
        PillarFactory.create(organisation=self.org, name_es="Dos", name_en="Two")
        response = self.client.post(
            f"/edit/pillars/{self.pillar.pk}/edit/", {**VALID, "name_es": "Dos", "name_en": "One"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors
        self.pillar.refresh_from_db()
        assert self.pillar.name_es == "Uno"

    def test_next_inside_the_organisation_is_followed_and_outside_ignored(self) -> None:
        response = self.client.post(
            f"/edit/pillars/{self.pillar.pk}/edit/",
            {**VALID, "name_es": "Uno", "_next": "/edit/pillars/"},
        )
        self.assertRedirects(response, "/edit/pillars/")
        for evil in ("https://evil.example/", "/edit-other/pillars/", "//evil.example/"):
            response = self.client.post(
                f"/edit/pillars/{self.pillar.pk}/edit/",
                {**VALID, "name_es": "Uno", "_next": evil},
            )
            assert response["Location"] == f"/edit/pillars/{self.pillar.pk}/", evil

    def test_viewer_may_not_edit(self) -> None:
        viewer = member_of(self.org, Role.VIEWER)
        self.client.force_login(viewer)
        assert self.client.get(f"/edit/pillars/{self.pillar.pk}/edit/").status_code == 403
        response = self.client.post(f"/edit/pillars/{self.pillar.pk}/edit/", VALID)
        assert response.status_code == 403
        self.pillar.refresh_from_db()
        assert self.pillar.name_es == "Uno"
        detail = self.client.get(f"/edit/pillars/{self.pillar.pk}/")
        assert detail.context["may_change"] is False and detail.context["may_delete"] is False

    def test_oversize_post_is_400(self) -> None:
        fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
        response = self.client.post("/edit/pillars/add/", {**VALID, **fields})
        assert response.status_code == 400
        self.assert_nothing_written()

    def test_non_numeric_or_unknown_pk_is_404(self) -> None:
        for url in (
            "/edit/pillars/abc/",
            "/edit/pillars/abc/edit/",
            "/edit/pillars/1.5/",
            "/edit/pillars/99999999/",
            "/edit/pillars/99999999999999999999999/",
            "/edit/pillars/99999999/edit/",
            "/edit/pillars/99999999/delete/",
            "/edit/pillars/99999999/history/",
        ):
            assert self.client.get(url).status_code == 404, url


class ForeignKeyChoiceTests(TestCase):
    """A related-object field offers only the organisation's records."""

    org: Organisation
    other: Organisation
    admin: User
    colleague: User
    outsider: User
    stranger: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="fk")
        cls.other = OrganisationFactory.create(slug="fk-other")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.colleague = member_of(cls.org, Role.VIEWER)
        cls.outsider = member_of(cls.other, Role.ADMIN)
        cls.stranger = UserFactory.create()

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def test_only_the_organisations_people_are_offered(self) -> None:
        form = self.client.get("/fk/roles/add/").context["form"]
        assert set(form.fields["user"].queryset) == {self.admin, self.colleague}

    def test_posting_someone_outside_the_organisation_is_a_field_error(self) -> None:
        before = RoleAssignment.objects.count()
        for user in (self.outsider, self.stranger):
            response = self.client.post("/fk/roles/add/", {"user": user.pk, "role": "finance"})
            assert response.status_code == 200
            assert "user" in response.context["form"].errors
        response = self.client.post("/fk/roles/add/", {"user": "abc", "role": "nope"})
        assert set(response.context["form"].errors) == {"user", "role"}
        assert RoleAssignment.objects.count() == before
        assert not RoleAssignment.objects.filter(organisation=self.org, user=self.outsider)

    def test_a_colleague_gets_a_new_role(self) -> None:
        response = self.client.post(
            "/fk/roles/add/", {"user": self.colleague.pk, "role": "finance"}
        )
        assert response.status_code == 302
        assert RoleAssignment.objects.filter(
            organisation=self.org, user=self.colleague, role="finance"
        ).exists()

    def test_a_role_held_already_is_a_form_error(self) -> None:
        before = RoleAssignment.objects.count()
        response = self.client.post("/fk/roles/add/", {"user": self.colleague.pk, "role": "viewer"})
        assert response.status_code == 200
        assert response.context["form"].errors
        assert RoleAssignment.objects.count() == before


class DeleteTests(TestCase):
    org: Organisation
    admin: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="del")
        cls.admin = member_of(cls.org, Role.ADMIN)

    def setUp(self) -> None:
        self.client.force_login(self.admin)
        self.pillar = PillarFactory.create(organisation=self.org)

    def test_get_asks_for_confirmation_and_deletes_nothing(self) -> None:
        response = self.client.get(f"/del/pillars/{self.pillar.pk}/delete/")
        assert response.status_code == 200
        assert 'method="post"' in response.content.decode()
        assert Pillar.objects.filter(pk=self.pillar.pk).exists()

    def test_post_deletes(self) -> None:
        response = self.client.post(f"/del/pillars/{self.pillar.pk}/delete/")
        self.assertRedirects(response, "/del/pillars/")
        assert not Pillar.objects.filter(pk=self.pillar.pk).exists()

    def test_a_pillar_in_use_is_deactivated_not_deleted(self) -> None:
        def protected(*args: object, **kwargs: object) -> None:
            raise ProtectedError("in use", set())

        with mock.patch.object(Pillar, "delete", protected):
            response = self.client.post(f"/del/pillars/{self.pillar.pk}/delete/")
        self.assertRedirects(response, f"/del/pillars/{self.pillar.pk}/")
        self.pillar.refresh_from_db()
        assert self.pillar.active is False
        update = ObjectChange.objects.filter(object_id=str(self.pillar.pk)).first()
        assert update is not None and update.action == "update"

    def test_service_deletes_an_unused_pillar(self) -> None:
        assert services.pillar_delete(pillar=self.pillar) is True
        assert not Pillar.objects.filter(pk=self.pillar.pk).exists()

    def test_service_deactivates_a_pillar_in_use(self) -> None:
        with mock.patch.object(Pillar, "delete", side_effect=ProtectedError("in use", set())):
            assert services.pillar_delete(pillar=self.pillar) is False
        self.pillar.refresh_from_db()
        assert self.pillar.active is False

    def test_a_protected_record_is_kept(self) -> None:
        assignment = RoleAssignment.objects.get(user=self.admin)
        with mock.patch.object(
            RoleAssignment, "delete", side_effect=ProtectedError("in use", set())
        ):
            response = self.client.post(f"/del/roles/{assignment.pk}/delete/")
        self.assertRedirects(response, f"/del/roles/{assignment.pk}/")
        assert RoleAssignment.objects.filter(pk=assignment.pk).exists()

    def test_viewer_may_not_delete(self) -> None:
        self.client.force_login(member_of(self.org, Role.VIEWER))
        assert self.client.get(f"/del/pillars/{self.pillar.pk}/delete/").status_code == 403
        assert self.client.post(f"/del/pillars/{self.pillar.pk}/delete/").status_code == 403
        assert Pillar.objects.filter(pk=self.pillar.pk).exists()


class QueryCountTests(TestCase):
    """The number of queries of a page does not grow with the data."""

    org: Organisation
    admin: User
    pillar: Pillar

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="queries")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.pillar = PillarFactory.create(organisation=cls.org)

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def count(self, url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert self.client.get(url).status_code == 200
        return len(queries)

    def grow(self, n: int) -> None:
        for _ in range(n):
            other = PillarFactory.create(organisation=self.org)
            self.pillar.order += 1
            self.pillar.save()  # one more change in its history
            other.active = False
            other.save()

    def assert_constant(self, url: str) -> None:
        self.client.get(url)  # warm caches (content types, session)
        self.grow(3)
        small = self.count(url)
        self.grow(27)
        large = self.count(url)
        assert small == large, (url, small, large)

    def test_pillar_list(self) -> None:
        self.assert_constant("/queries/pillars/")

    def test_change_log(self) -> None:
        self.assert_constant("/queries/changes/")

    def test_pillar_detail(self) -> None:
        self.assert_constant(f"/queries/pillars/{self.pillar.pk}/")

    def test_pillar_history(self) -> None:
        self.assert_constant(f"/queries/pillars/{self.pillar.pk}/history/")

    def test_dashboard(self) -> None:
        self.assert_constant("/queries/")

    def test_api_lists(self) -> None:
        self.assert_constant("/api/v1/queries/pillars/")
        self.assert_constant("/api/v1/queries/changes/")

    def test_pillar_list_stays_small(self, max_queries: int = 15) -> None:
        self.grow(30)
        assert self.count("/queries/pillars/") <= max_queries
