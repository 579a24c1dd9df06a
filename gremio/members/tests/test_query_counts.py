"""The members pages ask the database the same number of questions for 5 rows as for 50."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members.models import Company, MembershipStatus, Sector

from .factories import (
    ChamberFactory,
    CompanyFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    MembershipPlanFactory,
    ServiceDeliveryFactory,
    ServiceFactory,
    TagFactory,
)


class QueryCountTests(TestCase):
    """Grow every list and the busiest company's 360 page from 5 to 50 rows."""

    organisation: Any
    user: Any
    sector: Sector
    chamber: Any
    tags: list[Any]
    plan: Any
    service: Any
    busy: Company
    made: int

    @classmethod
    def setUpTestData(cls) -> None:
        cls.organisation = OrganisationFactory.create(slug="counts")
        cls.user = member_of(cls.organisation, "admin", email="admin@counts.example")
        org = cls.organisation
        cls.sector = Sector.objects.get(code="334")
        cls.chamber = ChamberFactory.create(organisation=org)
        cls.tags = [TagFactory.create(organisation=org), TagFactory.create(organisation=org)]
        cls.plan = MembershipPlanFactory.create(organisation=org)
        cls.service = ServiceFactory.create(organisation=org)
        cls.busy = CompanyFactory.create(organisation=org, sector=cls.sector, chamber=cls.chamber)
        cls.made = 0

    def grow(self, to: int) -> None:
        """Add rows everywhere until each list and the busy company have ``to`` of them."""
        org, today = self.organisation, timezone.localdate()
        for i in range(self.made, to):
            company = CompanyFactory.create(
                organisation=org,
                sector=self.sector,
                chamber=self.chamber,
                size_band="small",
                membership_status=MembershipStatus.ACTIVE,
                rfc="",
            )
            company.tags.set(self.tags)
            self.busy.tags.add(*self.tags)
            MembershipFactory.create(
                organisation=org,
                company=company,
                plan=self.plan,
                start=today - dt.timedelta(days=300),
                end=today + dt.timedelta(days=i % 50 + 1),
                status=MembershipStatus.ACTIVE,
            )
            MembershipFactory.create(
                organisation=org,
                company=self.busy,
                plan=self.plan,
                start=today - dt.timedelta(days=400 + 366 * i),
                end=today - dt.timedelta(days=35 + 366 * i),
                status=MembershipStatus.GRACE if i == 0 else MembershipStatus.LAPSED,
            )
            person = ContactFactory.create(organisation=org, company=self.busy)
            ContactFactory.create(organisation=org, company=company)
            for target in (company, self.busy):
                delivery = ServiceDeliveryFactory.create(
                    organisation=org,
                    company=target,
                    service=self.service,
                    staff=self.user,
                    date=today - dt.timedelta(days=i),
                )
                delivery.contacts.add(person)
            InteractionFactory.create(
                organisation=org,
                company=self.busy,
                staff=self.user,
                date=today - dt.timedelta(days=i + 5),
                follow_up_on=today - dt.timedelta(days=i % 3),
            )
        self.made = to

    def queries(self, url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return len(ctx.captured_queries)

    def assert_flat(self, *urls: str) -> None:
        self.client.force_login(self.user)
        self.grow(5)
        few = {url: self.queries(url) for url in urls}
        self.grow(50)
        many = {url: self.queries(url) for url in urls}
        assert many == few

    def test_company_list(self) -> None:
        base = "/counts/members/companies/"
        self.assert_flat(
            base,
            f"{base}?membership_status=active&size_band=small",
            f"{base}?plan={self.plan.pk}&chamber={self.chamber.pk}&tags={self.tags[0].pk}",
            f"{base}?sector={self.sector.parent_id}&state=14",
            f"{base}?served_from=2020-01-01&served=true",
            f"{base}?served_from=2020-01-01&served_to=2030-01-01&served=false",
        )

    def test_company_360(self) -> None:
        self.assert_flat(f"/counts/members/companies/{self.busy.pk}/")

    def test_contact_list(self) -> None:
        self.assert_flat(
            "/counts/members/contacts/", f"/counts/members/contacts/?company={self.busy.pk}"
        )

    def test_deliveries_and_interactions(self) -> None:
        self.assert_flat(
            "/counts/members/deliveries/",
            f"/counts/members/deliveries/?company={self.busy.pk}&date_from=2020-01-01",
            "/counts/members/interactions/",
        )

    def test_memberships_and_renewals(self) -> None:
        self.assert_flat("/counts/members/memberships/", "/counts/members/renewals/")

    def test_start_page(self) -> None:
        self.assert_flat("/counts/")
