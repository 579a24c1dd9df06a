"""Filter panels offer only the organisation's own plans, tags, chambers and staff."""

from __future__ import annotations

from django.test import TestCase

from gremio.core.tests.factories import OrganisationFactory, member_of

from .factories import ChamberFactory, MembershipPlanFactory, TagFactory


class FilterChoicesTests(TestCase):
    def test_another_organisations_choices_are_not_offered(self) -> None:
        mine, theirs = (
            OrganisationFactory.create(slug="mine"),
            OrganisationFactory.create(slug="theirs"),
        )
        for org, suffix in ((mine, "Mine"), (theirs, "Theirs")):
            MembershipPlanFactory.create(organisation=org, name=f"Plan{suffix}")
            ChamberFactory.create(organisation=org, name=f"Chamber{suffix}", acronym="")
            TagFactory.create(organisation=org, name=f"Tag{suffix}")
        member_of(theirs, "staff", email="staff@theirs.example")
        self.client.force_login(member_of(mine, "admin", email="admin@mine.example"))
        page = self.client.get("/mine/members/companies/").content.decode()
        for name in ("PlanMine", "ChamberMine", "TagMine"):
            assert name in page
        for name in ("PlanTheirs", "ChamberTheirs", "TagTheirs"):
            assert name not in page
        deliveries = self.client.get("/mine/members/deliveries/").content.decode()
        assert "staff@theirs.example" not in deliveries
