"""The change log: who changed what, when, where; append-only; browsable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.test import TestCase
from django.utils import timezone, translation

from gremio.core import services
from gremio.core.changelog import change_context
from gremio.core.models import Invitation, Job, ObjectChange, Organisation, Pillar, User
from gremio.core.roles import Role
from gremio.core.tests.factories import (
    InvitationFactory,
    JobFactory,
    OrganisationFactory,
    PillarFactory,
    member_of,
)

PILLAR_FORM = {"name_es": "Agua", "name_en": "Water", "colour": "#123456", "order": 5}


def before(change: ObjectChange) -> dict[str, Any]:
    assert change.prechange_data is not None
    return change.prechange_data


def after(change: ObjectChange) -> dict[str, Any]:
    assert change.postchange_data is not None
    return change.postchange_data


def changes_of(obj: Model) -> list[ObjectChange]:
    return list(
        ObjectChange.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).order_by("pk")
    )


class PageChangesAreRecordedTests(TestCase):
    org: Organisation
    admin: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="log-org")
        cls.admin = member_of(cls.org, Role.ADMIN, email="admin@log.example")

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def test_create_update_and_delete_through_the_pages(self) -> None:
        response = self.client.post("/log-org/pillars/add/", {**PILLAR_FORM, "active": "on"})
        pillar = Pillar.objects.get(organisation=self.org, name_es="Agua")
        self.assertRedirects(response, f"/log-org/pillars/{pillar.pk}/")
        [created] = changes_of(pillar)
        assert created.action == ObjectChange.Action.CREATE
        assert created.user == self.admin
        assert created.user_name == "admin@log.example"
        assert created.organisation == self.org
        assert created.request_id is not None
        assert created.prechange_data is None
        assert after(created)["name_es"] == "Agua"
        assert after(created)["colour"] == "#123456"
        assert created.object_repr == "Agua"  # the organisation's language is Spanish

        self.client.post(
            f"/log-org/pillars/{pillar.pk}/edit/",
            {**PILLAR_FORM, "name_es": "Agua limpia", "active": "on"},
        )
        updated = changes_of(pillar)[-1]
        assert updated.action == ObjectChange.Action.UPDATE
        assert updated.user == self.admin
        assert before(updated)["name_es"] == "Agua"
        assert after(updated)["name_es"] == "Agua limpia"
        assert updated.request_id != created.request_id
        with translation.override("en"):
            assert [label for label, _before, _after in updated.diff] == ["name in Spanish"]
        assert updated.diff[0][1:] == ("Agua", "Agua limpia")

        pk = pillar.pk
        response = self.client.post(f"/log-org/pillars/{pk}/delete/")
        self.assertRedirects(response, "/log-org/pillars/")
        assert not Pillar.objects.filter(pk=pk).exists()
        deleted = ObjectChange.objects.filter(object_id=str(pk), action="delete").get()
        assert deleted.user == self.admin
        assert before(deleted)["name_es"] == "Agua limpia"
        assert deleted.postchange_data is None

    def test_saving_without_changes_writes_no_row(self) -> None:
        pillar = PillarFactory.create(organisation=self.org, **PILLAR_FORM)
        before = ObjectChange.objects.count()
        response = self.client.post(
            f"/log-org/pillars/{pillar.pk}/edit/", {**PILLAR_FORM, "active": "on"}
        )
        assert response.status_code == 302
        pillar.save()
        assert ObjectChange.objects.count() == before

    def test_api_changes_are_attributed_to_the_token_user(self) -> None:
        _token, key = services.api_token_create(user=self.admin, name="script")
        self.client.logout()
        response = self.client.post(
            "/api/v1/log-org/pillars/",
            PILLAR_FORM,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
        assert response.status_code == 201, response.content
        [change] = changes_of(Pillar.objects.get(pk=response.json()["id"]))
        assert change.user == self.admin
        assert change.organisation == self.org

    def test_changes_outside_a_request_carry_the_label(self) -> None:
        with change_context(None, label="import"):
            pillar = PillarFactory.create(organisation=self.org)
        [change] = changes_of(pillar)
        assert change.user is None
        assert change.user_name == "import"
        plain = PillarFactory.create(organisation=self.org)
        assert changes_of(plain)[0].user_name == "system"

    def test_organisation_changes_are_logged_in_that_organisation(self) -> None:
        self.org.name = "Cámara renombrada"
        self.org.save()
        change = changes_of(self.org)[-1]
        assert change.action == ObjectChange.Action.UPDATE
        assert change.organisation_id == self.org.pk
        assert after(change)["name"] == "Cámara renombrada"

    def test_operational_rows_are_not_logged(self) -> None:
        job = JobFactory.create(organisation=self.org)
        job.status = Job.Status.DONE
        job.save()
        assert changes_of(job) == []
        assert not ObjectChange.objects.filter(
            content_type=ContentType.objects.get_for_model(ObjectChange)
        ).exists()

    def test_secrets_are_not_recorded(self) -> None:
        invitation = InvitationFactory.create(organisation=self.org)
        [change] = changes_of(invitation)
        assert "token" not in after(change)
        assert after(change)["email"] == invitation.email


class AppendOnlyTests(TestCase):
    org: Organisation
    admin: User
    pillar: Pillar
    change: ObjectChange

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="append")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.pillar = PillarFactory.create(organisation=cls.org)
        cls.change = changes_of(cls.pillar)[0]

    def test_a_change_cannot_be_updated(self) -> None:
        self.change.object_repr = "forged"
        with self.assertRaises(ValidationError):
            self.change.save()
        self.change.refresh_from_db()
        assert self.change.object_repr == self.pillar.name_es

    def test_a_change_cannot_be_deleted(self) -> None:
        with self.assertRaises(ValidationError):
            self.change.delete()
        assert ObjectChange.objects.filter(pk=self.change.pk).exists()

    def test_the_api_has_no_write_method(self) -> None:
        self.client.force_login(self.admin)
        before = list(ObjectChange.objects.values())
        base = "/api/v1/append/changes/"
        for method, url in (
            ("post", base),
            ("put", f"{base}{self.change.pk}/"),
            ("patch", f"{base}{self.change.pk}/"),
            ("delete", f"{base}{self.change.pk}/"),
        ):
            response = getattr(self.client, method)(
                url, {"object_repr": "forged"}, content_type="application/json"
            )
            assert response.status_code in (403, 405), (method, response.status_code)
        assert list(ObjectChange.objects.values()) == before
        assert self.client.get(f"{base}{self.change.pk}/").status_code == 200

    def test_the_pages_have_no_write_view(self) -> None:
        self.client.force_login(self.admin)
        assert self.client.get(f"/append/changes/{self.change.pk}/edit/").status_code == 404
        assert self.client.post(f"/append/changes/{self.change.pk}/delete/").status_code == 404
        assert ObjectChange.objects.filter(pk=self.change.pk).exists()


class ChangeLogPageTests(TestCase):
    org: Organisation
    other: Organisation
    ana: User
    beto: User
    other_pillar: Pillar
    old: ObjectChange
    pillar: Pillar
    invitation: Invitation

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="browse")
        cls.other = OrganisationFactory.create(slug="browse-other")
        cls.ana = member_of(cls.org, Role.ADMIN, email="ana@browse.example")
        cls.beto = member_of(cls.org, Role.DIRECTOR, email="beto@browse.example")
        with change_context(cls.ana):
            cls.pillar = PillarFactory.create(organisation=cls.org, name_es="Eje de Ana")
        with change_context(cls.beto):
            cls.invitation = InvitationFactory.create(
                organisation=cls.org, email="x@browse.example"
            )
            cls.pillar.name_es = "Eje cambiado por Beto"
            cls.pillar.save()
        cls.other_pillar = PillarFactory.create(organisation=cls.other, name_es="Eje ajeno")
        # One old change, to filter by date.
        cls.old = ObjectChange.objects.create(
            organisation=cls.org,
            time=dt.datetime(2024, 1, 15, 18, 0, tzinfo=dt.UTC),
            user=cls.ana,
            user_name=cls.ana.email,
            action=ObjectChange.Action.DELETE,
            content_type=ContentType.objects.get_for_model(Pillar),
            object_id="999999",
            object_repr="Eje antiguo",
            prechange_data={"name_es": "Eje antiguo"},
        )

    def setUp(self) -> None:
        self.client.force_login(self.beto)

    def listed(self, query: str = "") -> set[int]:
        response = self.client.get(f"/browse/changes/{query}")
        assert response.status_code == 200
        return {row.record.pk for row in response.context["table"].paginated_rows}

    def of_org(self, **filters: object) -> set[int]:
        return set(
            ObjectChange.objects.filter(organisation=self.org, **filters).values_list(
                "pk", flat=True
            )
        )

    def test_lists_only_this_organisations_changes(self) -> None:
        listed = self.listed()
        assert listed == self.of_org()
        assert not listed & set(
            ObjectChange.objects.filter(organisation=self.other).values_list("pk", flat=True)
        )

    def test_filter_by_user(self) -> None:
        beto = self.listed(f"?user={self.beto.pk}")
        assert beto == self.of_org(user=self.beto)
        assert len(beto) == 2
        assert self.listed(f"?user={self.ana.pk}") == self.of_org(user=self.ana)

    def test_filter_by_action(self) -> None:
        assert self.listed("?action=update") == self.of_org(action="update")
        assert self.listed("?action=delete") == {self.old.pk}
        both = self.listed("?action=update&action=delete")
        assert both == self.of_org(action__in=["update", "delete"])

    def test_filter_by_object_type(self) -> None:
        invitation_type = ContentType.objects.get_for_model(Invitation)
        assert self.listed(f"?content_type={invitation_type.pk}") == self.of_org(
            content_type=invitation_type
        )
        assert len(self.of_org(content_type=invitation_type)) == 1

    def test_filter_by_date(self) -> None:
        assert self.listed("?time_before=2024-01-31") == {self.old.pk}
        assert self.listed("?time_after=2024-01-15&time_before=2024-01-15") == {self.old.pk}
        today = timezone.localdate().isoformat()
        recent = self.listed(f"?time_after={today}")
        assert self.old.pk not in recent
        assert recent == self.of_org() - {self.old.pk}

    def test_search(self) -> None:
        assert self.listed("?q=antiguo") == {self.old.pk}

    def test_a_user_of_another_organisation_is_no_filter_choice(self) -> None:
        outsider = member_of(self.other, Role.ADMIN)
        response = self.client.get(f"/browse/changes/?user={outsider.pk}")
        assert response.status_code == 200
        assert "user" in response.context["filterset"].errors
        assert list(response.context["table"].paginated_rows) == []

    def test_detail_shows_before_and_after(self) -> None:
        change = ObjectChange.objects.get(organisation=self.org, action="update")
        response = self.client.get(f"/browse/changes/{change.pk}/")
        assert response.status_code == 200
        content = response.content.decode()
        assert "Eje de Ana" in content and "Eje cambiado por Beto" in content

    def test_roles_without_the_change_log_are_refused(self) -> None:
        planner = member_of(self.org, Role.PLANNING)
        self.client.force_login(planner)
        assert self.client.get("/browse/changes/").status_code == 403


class HistoryTabTests(TestCase):
    org: Organisation
    other: Organisation
    admin: User
    pillar: Pillar
    sibling: Pillar
    foreign: ObjectChange

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="history")
        cls.other = OrganisationFactory.create(slug="history-other")
        cls.admin = member_of(cls.org, Role.ADMIN)
        cls.pillar = PillarFactory.create(organisation=cls.org, name_es="Mi eje")
        cls.pillar.name_es = "Mi eje renombrado"
        cls.pillar.save()
        cls.sibling = PillarFactory.create(organisation=cls.org, name_es="Eje hermano")
        # A change in another organisation that names the same object id.
        cls.foreign = ObjectChange.objects.create(
            organisation=cls.other,
            user_name="intruso",
            action=ObjectChange.Action.UPDATE,
            content_type=ContentType.objects.get_for_model(Pillar),
            object_id=str(cls.pillar.pk),
            object_repr="Ajeno",
            postchange_data={"name_es": "Ajeno"},
        )

    def test_history_shows_this_records_changes_only(self) -> None:
        self.client.force_login(self.admin)
        response = self.client.get(f"/history/pillars/{self.pillar.pk}/history/")
        assert response.status_code == 200
        shown = list(response.context["changes"])
        own = [c.pk for c in changes_of(self.pillar) if c.organisation_id == self.org.pk]
        assert len(own) == 2
        assert [c.pk for c in shown] == own[::-1]  # newest first
        assert {c.action for c in shown} == {"create", "update"}
        assert all(c.organisation_id == self.org.pk for c in shown)
        assert all(c.object_id == str(self.pillar.pk) for c in shown)
        content = response.content.decode()
        assert "Mi eje renombrado" in content
        assert "intruso" not in content
        assert "Eje hermano" not in content
