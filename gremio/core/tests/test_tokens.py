"""A person's API tokens: created with the key shown once, revoked on POST."""

from __future__ import annotations

from django.test import TestCase

from gremio.core import services
from gremio.core.models import ApiToken, Organisation, User
from gremio.core.roles import Role
from gremio.core.tests.factories import OrganisationFactory, member_of


class ApiTokenPageTests(TestCase):
    org: Organisation
    user: User
    other: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="tok")
        cls.user = member_of(cls.org, Role.VIEWER)
        cls.other = member_of(cls.org, Role.VIEWER)

    def test_sign_in_required(self) -> None:
        response = self.client.get("/account/tokens/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        self.client.post("/account/tokens/", {"name": "x"})
        assert not ApiToken.objects.exists()

    def test_create_shows_the_key_once(self) -> None:
        self.client.force_login(self.user)
        response = self.client.post("/account/tokens/", {"name": "reporting script"})
        assert response.status_code == 200
        key = response.context["new_key"]
        assert key and key in response.content.decode()
        token = ApiToken.objects.get(user=self.user)
        assert token.name == "reporting script"
        assert token.key_hash == ApiToken.hash_key(key)
        assert token.prefix == key[:8]
        again = self.client.get("/account/tokens/")
        assert again.context["new_key"] is None
        assert key not in again.content.decode()
        assert "reporting script" in again.content.decode()
        api = self.client.get("/api/v1/tok/pillars/", HTTP_AUTHORIZATION=f"Token {key}")
        assert api.status_code == 200

    def test_a_name_is_required(self) -> None:
        self.client.force_login(self.user)
        response = self.client.post("/account/tokens/", {"name": ""})
        assert "name" in response.context["form"].errors
        assert response.context["new_key"] is None
        assert not ApiToken.objects.exists()

    def test_only_own_tokens_are_listed(self) -> None:
        services.api_token_create(user=self.other, name="someone else's")
        mine, _key = services.api_token_create(user=self.user, name="mine")
        self.client.force_login(self.user)
        assert list(self.client.get("/account/tokens/").context["tokens"]) == [mine]

    def test_revoke(self) -> None:
        token, key = services.api_token_create(user=self.user, name="old")
        self.client.force_login(self.user)
        assert self.client.get(f"/account/tokens/{token.pk}/revoke/").status_code == 405
        assert ApiToken.objects.filter(pk=token.pk).exists()
        response = self.client.post(f"/account/tokens/{token.pk}/revoke/")
        self.assertRedirects(response, "/account/tokens/")
        assert not ApiToken.objects.filter(pk=token.pk).exists()
        self.client.logout()
        api = self.client.get("/api/v1/tok/pillars/", HTTP_AUTHORIZATION=f"Token {key}")
        assert api.status_code == 401

    def test_another_persons_token_cannot_be_revoked(self) -> None:
        token, _key = services.api_token_create(user=self.other, name="theirs")
        self.client.force_login(self.user)
        assert self.client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
        assert ApiToken.objects.filter(pk=token.pk).exists()

    def test_keys_are_unique_and_long(self) -> None:
        keys = {services.api_token_create(user=self.user, name=str(i))[1] for i in range(5)}
        assert len(keys) == 5
        assert all(len(k) >= 40 for k in keys)
