"""Creating organisations (command and operator page) and editing their settings."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver

from gremio.core.demo import company_rfc
from gremio.core.forms import RESERVED_SLUGS
from gremio.core.models import (
    REFERENCE_PILLARS,
    Invitation,
    ObjectChange,
    Organisation,
    Pillar,
    User,
    validate_rfc,
)
from gremio.core.roles import Role
from gremio.core.tests.factories import OrganisationFactory, UserFactory, member_of

VALID_RFC = company_rfc(random.Random(7), "CAM", dt.date(1990, 5, 17))


def snapshot() -> tuple[int, int, int, int]:
    return (
        Organisation.objects.count(),
        Pillar.objects.count(),
        Invitation.objects.count(),
        ObjectChange.objects.count(),
    )


class CreateOrganisationCommandTests(TestCase):
    def test_creates_the_organisation_its_pillars_and_invites_its_admin(self) -> None:
        out = io.StringIO()
        with self.captureOnCommitCallbacks(execute=True):
            call_command(
                "create_organisation",
                "canieti-occ",
                "CANIETI Occidente",
                admin_email="Director@Canieti.example",
                rfc=VALID_RFC.lower(),
                base_url="https://gremio.example",
                stdout=out,
            )
        organisation = Organisation.objects.get(slug="canieti-occ")
        assert organisation.name == "CANIETI Occidente"
        assert organisation.rfc == VALID_RFC
        assert organisation.currency == "MXN"
        pillars = Pillar.objects.filter(organisation=organisation).order_by("order")
        assert [(p.name_es, p.name_en, p.colour) for p in pillars] == list(REFERENCE_PILLARS)
        invitation = Invitation.objects.get(organisation=organisation)
        assert (invitation.email, invitation.role) == ("director@canieti.example", Role.ADMIN)
        assert invitation.is_open
        link = f"https://gremio.example/invitations/{invitation.token}/"
        assert link in out.getvalue()
        [message] = mail.outbox
        assert message.to == ["director@canieti.example"]
        assert link in message.body
        assert "CANIETI Occidente" in message.subject
        # The change log names the command, as there is no user.
        creation = ObjectChange.objects.get(
            object_id=str(organisation.pk), action="create", content_type__model="organisation"
        )
        assert creation.user_name == "create_organisation"

    def test_no_mail_leaves_before_the_commit(self) -> None:
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            call_command(
                "create_organisation",
                "later",
                "Later",
                admin_email="a@b.example",
                stdout=io.StringIO(),
            )
        assert mail.outbox == []
        assert len(callbacks) == 1

    def assert_refused(self, *args: str, **options: object) -> str:
        before = snapshot()
        with (
            self.captureOnCommitCallbacks(execute=True),
            self.assertRaises(CommandError) as caught,
        ):
            call_command("create_organisation", *args, stdout=io.StringIO(), **options)
        assert snapshot() == before
        assert mail.outbox == []
        assert "Nothing was created" in str(caught.exception)
        return str(caught.exception)

    def test_reserved_slug(self) -> None:
        message = self.assert_refused("api", "API", admin_email="a@b.example")
        assert "slug" in message

    def test_invalid_rfc(self) -> None:
        message = self.assert_refused("nueva", "Nueva", admin_email="a@b.example", rfc="XXX")
        assert "rfc" in message

    def test_duplicate_slug(self) -> None:
        OrganisationFactory.create(slug="taken")
        self.assert_refused("taken", "Otra", admin_email="a@b.example")

    def test_bad_email_slug_time_zone_and_month(self) -> None:
        self.assert_refused("nueva", "Nueva", admin_email="not-an-email")
        self.assert_refused("No Slug!", "Nueva", admin_email="a@b.example")
        self.assert_refused("nueva", "Nueva", admin_email="a@b.example", time_zone="Mars/Olympus")
        self.assert_refused("nueva", "Nueva", admin_email="a@b.example", fiscal_year_start_month=13)
        self.assert_refused("nueva", "Nueva", admin_email="a@b.example", currency="pesos")


def test_every_top_level_address_is_a_reserved_slug() -> None:
    """An organisation called like a top-level path would be unreachable."""
    for entry in get_resolver().url_patterns:
        assert isinstance(entry, URLPattern | URLResolver)
        first = str(entry.pattern).lstrip("^").split("/")[0]
        if first and not first.startswith("<"):
            assert first in RESERVED_SLUGS, first


def test_rfc_validation() -> None:
    validate_rfc(VALID_RFC)
    for bad in ("XXX", VALID_RFC[:-1] + ("A" if VALID_RFC[-1] != "A" else "B"), "ABC991332XX1"):
        try:
            validate_rfc(bad)
        except ValidationError as exc:
            assert exc.code == "invalid_rfc"
        else:
            raise AssertionError(f"{bad} accepted")


class OperatorPageTests(TestCase):
    org: Organisation
    operator: User
    org_admin: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="existing", name="Cámara existente")
        cls.operator = UserFactory.create(email="op@example.com", is_superuser=True, is_staff=True)
        cls.org_admin = member_of(cls.org, Role.ADMIN)

    def test_hidden_from_everyone_but_the_operator(self) -> None:
        response = self.client.get("/platform/organisations/")
        assert response.status_code == 302  # anonymous: sign in first
        self.client.force_login(self.org_admin)
        assert self.client.get("/platform/organisations/").status_code == 404
        before = snapshot()
        response = self.client.post(
            "/platform/organisations/",
            {"name": "X", "slug": "x", "admin_email": "a@b.example", "currency": "MXN"},
        )
        assert response.status_code == 404
        assert snapshot() == before

    def test_the_operator_lists_and_creates_organisations(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.get("/platform/organisations/")
        assert response.status_code == 200
        assert "Cámara existente" in response.content.decode()
        data = {
            "name": "Cámara Nueva",
            "slug": "Camara-Nueva",
            "admin_email": "jefa@nueva.example",
            "legal_name": "",
            "rfc": "",
            "currency": "MXN",
            "time_zone": "America/Mexico_City",
            "language": "es-mx",
            "fiscal_year_start_month": 1,
        }
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post("/platform/organisations/", data)
        self.assertRedirects(response, "/platform/organisations/")
        organisation = Organisation.objects.get(slug="camara-nueva")
        assert Pillar.objects.filter(organisation=organisation).count() == len(REFERENCE_PILLARS)
        invitation = Invitation.objects.get(organisation=organisation)
        assert invitation.invited_by == self.operator
        [message] = mail.outbox
        assert message.to == ["jefa@nueva.example"]
        assert f"http://testserver/invitations/{invitation.token}/" in message.body
        # Creating an organisation gives the operator no role in it.
        assert self.client.get("/camara-nueva/").status_code == 404

    def test_bad_input_is_shown_and_writes_nothing(self) -> None:
        self.client.force_login(self.operator)
        before = snapshot()
        response = self.client.post(
            "/platform/organisations/",
            {
                "name": "",
                "slug": "admin",
                "admin_email": "nope",
                "rfc": "XXX",
                "currency": "mxn",
                "time_zone": "Nowhere/Else",
                "language": "fr",
                "fiscal_year_start_month": 0,
            },
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert {
            "name",
            "slug",
            "admin_email",
            "rfc",
            "currency",
            "language",
            "fiscal_year_start_month",
        } <= set(errors)
        assert snapshot() == before
        response = self.client.post(
            "/platform/organisations/",
            {
                "name": "Dup",
                "slug": "existing",
                "admin_email": "a@b.example",
                "currency": "MXN",
                "time_zone": "America/Mexico_City",
                "language": "es-mx",
                "fiscal_year_start_month": 1,
            },
        )
        assert "slug" in response.context["form"].errors
        assert snapshot() == before


class OrganisationSettingsTests(TestCase):
    org: Organisation
    admin: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="settings-org", name="Antes")
        cls.admin = member_of(cls.org, Role.ADMIN)

    def form(self, **changes: object) -> dict[str, object]:
        return {
            "name": "Después",
            "legal_name": "Después, A.C.",
            "rfc": "",
            "currency": "MXN",
            "time_zone": "America/Monterrey",
            "language": "es-mx",
            "fiscal_year_start_month": 4,
            **changes,
        }

    def test_admin_changes_the_settings(self) -> None:
        self.client.force_login(self.admin)
        response = self.client.post("/settings-org/settings/", self.form(rfc=VALID_RFC.lower()))
        self.assertRedirects(response, "/settings-org/settings/")
        self.org.refresh_from_db()
        assert (self.org.name, self.org.rfc, self.org.fiscal_year_start_month) == (
            "Después",
            VALID_RFC,
            4,
        )
        assert self.org.slug == "settings-org"  # the address does not change
        change = ObjectChange.objects.filter(
            content_type__model="organisation", object_id=str(self.org.pk)
        ).first()
        assert change is not None and change.user == self.admin
        assert (change.prechange_data or {}).get("name") == "Antes"

    def test_bad_settings_are_refused(self) -> None:
        self.client.force_login(self.admin)
        response = self.client.post(
            "/settings-org/settings/", self.form(rfc="XXX", time_zone="Nowhere/Else")
        )
        assert response.status_code == 200
        assert {"rfc", "time_zone"} <= set(response.context["form"].errors)
        self.org.refresh_from_db()
        assert self.org.name == "Antes"

    def test_other_roles_may_not_change_the_settings(self) -> None:
        self.client.force_login(member_of(self.org, Role.DIRECTOR))
        assert self.client.get("/settings-org/settings/").status_code == 403
        assert self.client.post("/settings-org/settings/", self.form()).status_code == 403
        self.org.refresh_from_db()
        assert self.org.name == "Antes"
