"""Every URL of an organisation, walked from the resolver: outsiders meet a 404.

The list is not written by hand: a page or endpoint added later is walked
too, so it cannot forget the organisation check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gremio.core.models import (
    Invitation,
    Job,
    ObjectChange,
    Organisation,
    Pillar,
    RoleAssignment,
    User,
)
from gremio.core.roles import Role
from gremio.core.testing import FACTORIES, load_all_test_modules
from gremio.core.tests.factories import (
    InvitationFactory,
    JobFactory,
    OrganisationFactory,
    PillarFactory,
    UserFactory,
    member_of,
)


@dataclass(frozen=True)
class OrgUrl:
    route: str
    name: str
    params: frozenset[str]
    callback: Any


def _params(pattern: Any) -> set[str]:
    # Both path() routes and the API router's regexes compile to named groups.
    return set(pattern.regex.groupindex)


def walk(
    patterns: list[Any], prefix: str = "", namespace: str = "", params: frozenset[str] = frozenset()
) -> Iterator[OrgUrl]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        here = params | _params(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, route, ns, here)
        elif isinstance(entry, URLPattern) and entry.name:
            yield OrgUrl(route, namespace + entry.name, here, entry.callback)


def organisation_urls() -> list[OrgUrl]:
    return [u for u in walk(get_resolver().url_patterns) if "org" in u.params]


def model_of(callback: Any) -> type[Model] | None:
    """The model a view serves, to fill ``pk`` with a real record of it."""
    if getattr(callback, "model", None) is not None:  # function views marked with @serves
        return callback.model
    initkwargs = getattr(callback, "view_initkwargs", None) or {}
    if initkwargs.get("model") is not None:
        return initkwargs["model"]
    viewset = getattr(callback, "cls", None)
    queryset = getattr(viewset, "queryset", None)
    if queryset is not None:
        return queryset.model
    return None


class UrlWalkTests(TestCase):
    own: Organisation
    records: dict[type[Model], Any]
    other: Organisation
    member: User
    urls: Any

    @classmethod
    def setUpTestData(cls) -> None:
        cls.own = OrganisationFactory.create(slug="walk-own")
        cls.other = OrganisationFactory.create(slug="walk-other")
        cls.member = member_of(cls.own, Role.ADMIN, email="walker@example.com")
        other_admin = member_of(cls.other, Role.ADMIN, email="other-admin@example.com")
        cls.records = {
            Organisation: cls.other,
            Pillar: PillarFactory.create(organisation=cls.other),
            RoleAssignment: RoleAssignment.objects.get(user=other_admin),
            Invitation: InvitationFactory.create(organisation=cls.other),
            Job: JobFactory.create(organisation=cls.other, user=other_admin),
            ObjectChange: ObjectChange.objects.filter(organisation=cls.other).first(),
        }
        load_all_test_modules()
        for model, factory in FACTORIES.items():
            cls.records.setdefault(model, factory.create(organisation=cls.other))
        cls.urls = organisation_urls()

    def fill(self, url: OrgUrl) -> str:
        kwargs: dict[str, Any] = {"org": self.other.slug}
        model = model_of(url.callback) or Job  # the one function view with a pk is the job's
        if "pk" in url.params:
            kwargs["pk"] = self.records[model].pk
        if "format" in url.params:
            kwargs["format"] = "json"
        if "model" in url.params:
            kwargs["model"] = "core.pillar"
        unknown = url.params - {"org", "pk", "format", "model"}
        assert not unknown, f"teach the walk to fill {unknown} for {url.name}"
        return reverse(url.name, kwargs=kwargs)

    def test_the_walk_finds_pages_and_api(self) -> None:
        names = {u.name for u in self.urls}
        for expected in (
            "core:dashboard",
            "core:organisation_edit",
            "core:pillar_list",
            "core:pillar_history",
            "core:objectchange_detail",
            "core:job_progress",
            "core-pillars-list",
            "core-pillars-detail",
            "core-changes-detail",
            "core-jobs-list",
        ):
            assert expected in names, expected
        assert all(self.records[m] is not None for m in self.records)

    def snapshot(self) -> dict[str, int]:
        return {m.__name__: m._default_manager.count() for m in self.records}

    def test_user_without_a_role_gets_404_for_every_url(self) -> None:
        self.client.force_login(self.member)
        before = self.snapshot()
        for url in self.urls:
            address = self.fill(url)
            assert self.client.get(address).status_code == 404, address
            assert self.client.post(address, {}).status_code == 404, address
        assert self.snapshot() == before

    def test_operator_without_a_role_gets_404_for_every_url(self) -> None:
        self.client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
        for url in self.urls:
            address = self.fill(url)
            assert self.client.get(address).status_code == 404, address

    def test_unknown_organisation_is_404_too(self) -> None:
        self.client.force_login(self.member)
        for url in self.urls:
            address = self.fill(url).replace("/walk-other/", "/no-such-org/", 1)
            assert self.client.get(address).status_code == 404, address

    def test_anonymous_is_sent_to_sign_in_for_pages_and_refused_by_the_api(self) -> None:
        for url in self.urls:
            address = self.fill(url)
            response = self.client.get(address)
            if address.startswith("/api/"):
                assert response.status_code in (401, 403), (address, response.status_code)
            else:
                assert response.status_code == 302, (address, response.status_code)
                assert response["Location"].startswith(reverse("account_login")), address

    def test_own_organisation_urls_answer(self) -> None:
        # The 404s above must come from the missing role, not from broken URLs.
        self.client.force_login(self.member)
        own_job = JobFactory.create(organisation=self.own, user=self.member)
        own: dict[type[Model], Any] = {
            Organisation: self.own,
            Pillar: PillarFactory.create(organisation=self.own),
            RoleAssignment: RoleAssignment.objects.get(user=self.member),
            Invitation: InvitationFactory.create(organisation=self.own),
            Job: own_job,
            ObjectChange: ObjectChange.objects.filter(
                organisation=self.own, content_type=ContentType.objects.get_for_model(Pillar)
            ).first(),
        }
        for model, factory in FACTORIES.items():
            own.setdefault(model, factory.create(organisation=self.own))
        for url in self.urls:
            kwargs: dict[str, Any] = {"org": self.own.slug}
            if "pk" in url.params:
                kwargs["pk"] = own[model_of(url.callback) or Job].pk
            if "format" in url.params:
                kwargs["format"] = "json"
            if "model" in url.params:
                kwargs["model"] = "core.pillar"
            address = reverse(url.name, kwargs=kwargs)
            # 405: an action that only takes POST (it answers, so the URL works).
            assert self.client.get(address).status_code in (200, 405), address
