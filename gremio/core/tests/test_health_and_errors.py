"""Health check and the branded error pages."""

from __future__ import annotations

from unittest import mock

from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, TestCase, override_settings
from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as site_urlpatterns
from gremio.core.models import Organisation, User
from gremio.core.roles import Role
from gremio.core.tests.factories import OrganisationFactory, member_of


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("something broke")


# A test-only URLconf: the site's URLs plus one view that fails.
urlpatterns = [path("test-failure/", failing_view), *site_urlpatterns]
__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


class HealthTests(TestCase):
    def test_ok_when_the_database_answers(self) -> None:
        response = self.client.get("/healthz")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"

    def test_503_when_the_database_does_not(self) -> None:
        with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
            response = self.client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        # The patch is gone: the next check is fine again.
        assert self.client.get("/healthz").status_code == 200

    def test_needs_no_sign_in(self) -> None:
        assert self.client.get("/healthz").status_code == 200


class ErrorPageTests(TestCase):
    org: Organisation
    viewer: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="errors")
        cls.viewer = member_of(cls.org, Role.VIEWER)

    def test_404_is_branded(self) -> None:
        for url in ("/no/such/page/here/", "/healthz/extra/"):
            response = self.client.get(url)
            assert response.status_code == 404, url
            content = response.content.decode()
            assert "Gremio" in content
            assert 'class="display-6 text-body-tertiary mb-1">404<' in content

    def test_404_for_an_organisation_is_the_same_page(self) -> None:
        self.client.force_login(self.viewer)
        unknown = self.client.get("/no-such-org/pillars/")
        assert unknown.status_code == 404
        assert "Gremio" in unknown.content.decode()
        assert unknown.templates[0].name == "404.html"

    def test_403_is_branded(self) -> None:
        self.client.force_login(self.viewer)
        response = self.client.get("/errors/pillars/add/")
        assert response.status_code == 403
        content = response.content.decode()
        assert "Gremio" in content
        assert ">403<" in content

    @override_settings(ROOT_URLCONF=__name__)
    def test_a_failing_view_gives_the_branded_500(self) -> None:
        client = Client(raise_request_exception=False)
        with self.assertLogs("django.request", level="ERROR") as logs:
            response = client.get("/test-failure/")
        assert response.status_code == 500
        content = response.content.decode()
        assert "Gremio" in content
        assert "Something went wrong" in content
        assert "something broke" not in content  # no traceback for the visitor
        assert any("something broke" in line or "test-failure" in line for line in logs.output)
