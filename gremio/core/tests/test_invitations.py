"""Invitations: sent by an administrator, accepted through the e-mailed link."""

from __future__ import annotations

import datetime as dt
import re

from django.core import mail
from django.test import TestCase
from django.utils import timezone

from gremio.core import services
from gremio.core.models import Invitation, Organisation, RoleAssignment, User
from gremio.core.roles import Role
from gremio.core.tests.factories import InvitationFactory, OrganisationFactory, member_of

PASSWORD = "a-long-unusual-passphrase-42"


def accept_form(**changes: str) -> dict[str, str]:
    return {
        "first_name": "Lucía",
        "last_name": "Ramírez",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **changes,
    }


class SendInvitationTests(TestCase):
    org: Organisation
    admin: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="inv", name="Cámara Invitadora")
        cls.admin = member_of(cls.org, Role.ADMIN, email="admin@inv.example")

    def test_the_admins_invite_page_sends_an_email_with_the_link(self) -> None:
        self.client.force_login(self.admin)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/inv/invitations/add/", {"email": " Nueva@Persona.Example ", "role": "finance"}
            )
        invitation = Invitation.objects.get(organisation=self.org)
        self.assertRedirects(response, f"/inv/invitations/{invitation.pk}/")
        assert (invitation.email, invitation.role) == ("nueva@persona.example", "finance")
        assert invitation.invited_by == self.admin
        assert invitation.is_open
        assert invitation.expires > timezone.now() + dt.timedelta(days=13)
        [message] = mail.outbox
        assert message.to == ["nueva@persona.example"]
        link = f"http://testserver/invitations/{invitation.token}/"
        assert link in message.body
        assert "Cámara Invitadora" in message.subject

    def test_the_email_is_in_the_organisations_language(self) -> None:
        english = OrganisationFactory.create(slug="inv-en", name="English Chamber", language="en")
        with self.captureOnCommitCallbacks(execute=True):
            services.invitation_send(
                organisation=english, email="z@y.example", role="viewer", invited_by=None
            )
        assert mail.outbox[-1].subject == "You are invited to English Chamber on Gremio"

    def test_bad_input_sends_nothing(self) -> None:
        self.client.force_login(self.admin)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/inv/invitations/add/", {"email": "not-an-email", "role": "emperor"}
            )
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"email", "role"}
        assert not Invitation.objects.exists()
        assert mail.outbox == []

    def test_only_those_who_may_add_invitations_send_them(self) -> None:
        self.client.force_login(member_of(self.org, Role.DIRECTOR))
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/inv/invitations/add/", {"email": "a@b.example", "role": "admin"}
            )
        assert response.status_code == 403
        assert not Invitation.objects.exists()
        assert mail.outbox == []


class AcceptInvitationTests(TestCase):
    org: Organisation
    invitation: Invitation

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="join", name="Cámara de Bienvenida")
        cls.invitation = InvitationFactory.create(
            organisation=cls.org, email="lucia@example.com", role=Role.PLANNING
        )

    def url(self, invitation: Invitation | None = None) -> str:
        return f"/invitations/{(invitation or self.invitation).token}/"

    def test_a_new_person_accepts_gets_the_role_and_is_signed_in(self) -> None:
        page = self.client.get(self.url())
        assert page.status_code == 200
        assert "Cámara de Bienvenida" in page.content.decode()
        response = self.client.post(self.url(), accept_form())
        self.assertRedirects(response, "/join/")
        user = User.objects.get(email="lucia@example.com")
        assert (user.first_name, user.last_name) == ("Lucía", "Ramírez")
        assert user.check_password(PASSWORD)
        assert list(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) == [
            Role.PLANNING
        ]
        assert self.client.session["_auth_user_id"] == str(user.pk)
        assert self.client.get("/join/").status_code == 200
        self.invitation.refresh_from_db()
        assert self.invitation.accepted is not None
        assert not self.invitation.is_open

    def test_bad_form_creates_nobody(self) -> None:
        for data in (
            accept_form(password2="something-else-entirely"),
            accept_form(password1="123", password2="123"),
            accept_form(first_name=""),
        ):
            response = self.client.post(self.url(), data)
            assert response.status_code == 200
            assert response.context["form"].errors
        assert not User.objects.filter(email="lucia@example.com").exists()
        self.invitation.refresh_from_db()
        assert self.invitation.accepted is None

    def assert_unusable(self, url: str) -> None:
        response = self.client.get(url)
        assert response.status_code == 404
        content = response.content.decode()
        assert "Gremio" in content
        assert 'name="password1"' not in content
        response = self.client.post(url, accept_form())
        assert response.status_code == 404

    def test_an_expired_invitation_is_404(self) -> None:
        Invitation.objects.filter(pk=self.invitation.pk).update(
            expires=timezone.now() - dt.timedelta(minutes=1)
        )
        self.assert_unusable(self.url())
        assert not User.objects.filter(email="lucia@example.com").exists()

    def test_an_accepted_invitation_cannot_be_used_again(self) -> None:
        self.client.post(self.url(), accept_form())
        self.client.logout()
        self.assert_unusable(self.url())
        assert User.objects.filter(email="lucia@example.com").count() == 1

    def test_an_unknown_token_is_404(self) -> None:
        self.assert_unusable("/invitations/not-a-real-token/")

    def test_an_existing_user_accepts_by_signing_in(self) -> None:
        existing = member_of(
            OrganisationFactory.create(slug="join-other"), Role.VIEWER, email="lucia@example.com"
        )
        response = self.client.get(self.url())
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert self.url() in response["Location"]

        self.client.force_login(member_of(self.org, Role.VIEWER))  # someone else
        assert self.client.get(self.url()).status_code == 403
        assert self.client.post(self.url()).status_code == 403

        self.client.force_login(existing)
        page = self.client.get(self.url())
        assert page.status_code == 200
        assert not RoleAssignment.objects.filter(organisation=self.org, user=existing).exists()
        response = self.client.post(self.url())
        self.assertRedirects(response, "/join/")
        assert RoleAssignment.objects.filter(
            organisation=self.org, user=existing, role=Role.PLANNING
        ).exists()
        existing.refresh_from_db()
        assert existing.check_password("secret-pass-123")  # the account is left as it was

    def test_the_service_refuses_a_closed_invitation(self) -> None:
        services.invitation_accept(invitation=self.invitation, password=PASSWORD)
        with self.assertRaises(ValueError):
            services.invitation_accept(invitation=self.invitation, password=PASSWORD)
        assert RoleAssignment.objects.filter(organisation=self.org).count() == 1


def test_tokens_are_long_and_unique(db: object) -> None:
    a, b = InvitationFactory.create(), InvitationFactory.create()
    assert a.token != b.token
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", a.token)
