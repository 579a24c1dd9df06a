"""The lookup endpoint behind the search-as-you-type selects."""

from __future__ import annotations

from typing import Any

from django.test import TestCase
from django.urls import reverse

from gremio.core.tests.factories import OrganisationFactory, PillarFactory, member_of


class LookupTests(TestCase):
    org: Any
    other: Any
    user: Any

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="look")
        cls.other = OrganisationFactory.create(slug="look-other")
        cls.user = member_of(cls.org, "viewer", email="viewer@look.example")
        for i in range(25):
            PillarFactory.create(
                organisation=cls.org, name_es=f"Eje agua {i}", name_en=f"Water {i}"
            )
        PillarFactory.create(organisation=cls.org, name_es="Energía", name_en="Energy")
        PillarFactory.create(
            organisation=cls.other, name_es="Eje agua ajeno", name_en="Foreign water"
        )

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def lookup(self, org: str = "look", model: str = "core.pillar", **params: str) -> Any:
        return self.client.get(reverse("core:lookup", args=[org, model]), params)

    def test_searches_with_the_models_own_filters_and_caps_at_twenty(self) -> None:
        results = self.lookup(q="agua").json()["results"]
        self.assertEqual(len(results), 20)
        self.assertTrue(
            all("agua" in r["text"].lower() or "water" in r["text"].lower() for r in results)
        )
        energy = self.lookup(q="energ").json()["results"]
        self.assertEqual([r["text"] for r in energy], ["Energía"])

    def test_other_organisations_records_never_appear(self) -> None:
        texts = [r["text"] for r in self.lookup(q="ajeno").json()["results"]]
        self.assertEqual(texts, [])
        self.assertEqual(self.lookup(org="look-other", q="agua").status_code, 404)

    def test_unknown_or_unlisted_models_are_404_and_permission_is_checked(self) -> None:
        self.assertEqual(self.lookup(model="core.nothing").status_code, 404)
        self.assertEqual(self.lookup(model="nonsense").status_code, 404)
        self.assertEqual(self.lookup(model="core.user").status_code, 404)  # no pages: not looked up
        self.assertEqual(
            self.lookup(model="core.roleassignment").status_code, 403
        )  # viewer may not
