"""Membership status rules, member-since, contact moves and company aggregates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.test import TestCase

from gremio.core.models import ObjectChange
from gremio.core.tests.factories import OrganisationFactory
from gremio.members import services
from gremio.members.models import Company, Employment, Membership, MembershipPlan

from .factories import CompanyFactory, ContactFactory, MembershipPlanFactory, ServiceDeliveryFactory

D = dt.date


class StatusRulesTests(TestCase):
    org: Any
    plan: Any
    company: Any

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create()
        cls.plan = MembershipPlanFactory.create(organisation=cls.org, grace_days=30)
        cls.company = CompanyFactory.create(organisation=cls.org)

    def membership(self, **kwargs: object) -> Membership:
        fields = {
            "organisation": self.org,
            "company": self.company,
            "plan": self.plan,
            "start": D(2026, 1, 1),
        }
        fields.update(kwargs)
        return services.membership_save(membership=Membership(**fields), day=D(2026, 1, 1))

    def test_status_follows_the_dates(self) -> None:
        m = self.membership()
        self.assertEqual(m.end, D(2026, 12, 31))  # rolling year from the start
        cases = [
            (D(2025, 12, 31), "pending"),
            (D(2026, 1, 1), "active"),
            (D(2026, 12, 31), "active"),
            (D(2027, 1, 1), "grace"),
            (D(2027, 1, 30), "grace"),
            (D(2027, 1, 31), "lapsed"),
        ]
        for day, expected in cases:
            with self.subTest(day=day):
                self.assertEqual(services.membership_status_on(m, day), expected)

    def test_calendar_plans_end_on_31_december(self) -> None:
        plan = MembershipPlanFactory.create(
            organisation=self.org, period_type=MembershipPlan.PeriodType.CALENDAR
        )
        self.assertEqual(services.period_end(plan=plan, start=D(2026, 7, 15)), D(2026, 12, 31))
        rolling = MembershipPlanFactory.create(organisation=self.org)
        self.assertEqual(services.period_end(plan=rolling, start=D(2024, 2, 29)), D(2025, 2, 27))

    def test_resignation_wins_over_dates(self) -> None:
        m = self.membership(resigned_on=D(2026, 6, 30))
        self.assertEqual(services.membership_status_on(m, D(2026, 6, 29)), "active")
        self.assertEqual(services.membership_status_on(m, D(2026, 6, 30)), "resigned")

    def test_manual_override_holds_until_its_date_then_expires(self) -> None:
        m = self.membership(status_override="active", override_until=D(2027, 3, 31))
        self.assertEqual(services.membership_status_on(m, D(2027, 3, 1)), "active")
        services.membership_refresh(membership=m, day=D(2027, 4, 1))
        m.refresh_from_db()
        self.assertEqual(m.status, "lapsed")
        self.assertEqual(m.status_override, "")
        self.assertIsNone(m.override_until)

    def test_daily_recompute_moves_statuses_and_logs_each_change(self) -> None:
        m = self.membership()
        self.assertEqual(m.status, "active")
        membership_changes = ObjectChange.objects.filter(
            content_type=ContentType.objects.get_for_model(Membership),
            object_id=str(m.pk),
            action="update",
        )
        changes_before = membership_changes.count()
        self.assertEqual(
            services.memberships_recompute(organisation=self.org, day=D(2027, 1, 5)), 1
        )
        m.refresh_from_db()
        self.assertEqual(m.status, "grace")
        self.assertEqual(
            services.memberships_recompute(organisation=self.org, day=D(2027, 1, 6)), 0
        )
        self.assertEqual(
            services.memberships_recompute(organisation=self.org, day=D(2027, 2, 1)), 1
        )
        m.refresh_from_db()
        self.assertEqual(m.status, "lapsed")
        self.assertEqual(membership_changes.count(), changes_before + 2)
        latest = membership_changes.order_by("-time", "-pk").first()
        assert latest is not None and latest.prechange_data and latest.postchange_data
        self.assertEqual(
            (latest.prechange_data["status"], latest.postchange_data["status"]), ("grace", "lapsed")
        )
        self.company.refresh_from_db()
        self.assertEqual(self.company.membership_status, "lapsed")
        self.assertFalse(self.company.is_member)

    def test_member_since_survives_renewals_and_resets_after_a_gap(self) -> None:
        first = self.membership(start=D(2022, 1, 1))
        services.membership_renew(membership=first, day=D(2026, 1, 1))  # 2023
        second = Membership.objects.filter(company=self.company).order_by("-start").first()
        assert second is not None
        # Renewed late, but within the 30 grace days.
        third = self.membership(start=D(2024, 1, 20))
        self.membership(start=third.end + dt.timedelta(days=1))
        company = services.company_refresh(company=self.company, day=D(2025, 6, 1))
        self.assertEqual(company.membership_status, "active")
        self.assertEqual(company.member_since, D(2022, 1, 1))
        # A renewal after the grace days starts a new run.
        other = CompanyFactory.create(organisation=self.org)
        self.membership(company=other, start=D(2022, 1, 1))
        self.membership(company=other, start=D(2023, 3, 1))
        company = services.company_refresh(company=other, day=D(2023, 6, 1))
        self.assertEqual(company.member_since, D(2023, 3, 1))

    def test_renewal_starts_the_day_after_and_keeps_terms(self) -> None:
        m = self.membership(fee=Decimal("9000.00"))
        renewal = services.membership_renew(membership=m, day=D(2026, 12, 1))
        self.assertEqual((renewal.start, renewal.end), (D(2027, 1, 1), D(2027, 12, 31)))
        self.assertEqual(renewal.fee, Decimal("9000.00"))
        self.assertEqual(renewal.status, "pending")


class CompanyAggregatesTests(TestCase):
    def test_delivery_updates_last_service_date(self) -> None:
        delivery = ServiceDeliveryFactory.create(date=D(2026, 2, 1))
        services.delivery_save(delivery=delivery)
        later = ServiceDeliveryFactory.build(
            organisation=delivery.organisation,
            company=delivery.company,
            service=delivery.service,
            date=D(2026, 5, 5),
        )
        services.delivery_save(delivery=later)
        company = Company.objects.get(pk=delivery.company_id)
        self.assertEqual(company.last_service_on, D(2026, 5, 5))


class ContactMoveTests(TestCase):
    def test_moving_keeps_the_employment_history(self) -> None:
        contact = ContactFactory.create(position="Gerente de compras")
        first_company = contact.company
        new_company = CompanyFactory.create(organisation=contact.organisation)
        services.contact_move(
            contact=contact, company=new_company, position="Directora", on=D(2026, 4, 1)
        )
        contact.refresh_from_db()
        self.assertEqual((contact.company, contact.position), (new_company, "Directora"))
        history = list(Employment.objects.filter(contact=contact).order_by("pk"))
        self.assertEqual(
            [(h.company, h.position, h.end) for h in history],
            [
                (first_company, "Gerente de compras", D(2026, 4, 1)),
                (new_company, "Directora", None),
            ],
        )

    def test_anonymise_clears_personal_data_and_keeps_the_row(self) -> None:
        delivery = ServiceDeliveryFactory.create()
        contact = ContactFactory.create(
            organisation=delivery.organisation, company=delivery.company
        )
        delivery.contacts.add(contact)
        services.contact_anonymise(contact=contact)
        contact.refresh_from_db()
        self.assertEqual((contact.first_name, contact.email, contact.phone), ("—", "", ""))
        self.assertIsNotNone(contact.anonymised)
        self.assertEqual(delivery.contacts.count(), 1)


class RenewedStatusTests(TestCase):
    def test_a_period_followed_within_grace_is_renewed_not_lapsed(self) -> None:
        org = OrganisationFactory.create()
        plan = MembershipPlanFactory.create(organisation=org, grace_days=30)
        company = CompanyFactory.create(organisation=org)
        first = services.membership_save(
            membership=Membership(
                organisation=org, company=company, plan=plan, start=D(2025, 1, 1)
            ),
            day=D(2026, 1, 10),
        )
        self.assertEqual(first.status, "grace")
        services.membership_save(
            membership=Membership(
                organisation=org, company=company, plan=plan, start=D(2026, 1, 15)
            ),
            day=D(2026, 1, 20),
        )
        first.refresh_from_db()
        self.assertEqual(first.status, "renewed")
        company.refresh_from_db()
        self.assertEqual(
            (company.membership_status, company.member_since), ("active", D(2025, 1, 1))
        )
        # Renewed after the grace days: the first period lapsed.
        late = CompanyFactory.create(organisation=org)
        old = services.membership_save(
            membership=Membership(organisation=org, company=late, plan=plan, start=D(2024, 1, 1)),
            day=D(2026, 1, 1),
        )
        services.membership_save(
            membership=Membership(organisation=org, company=late, plan=plan, start=D(2025, 6, 1)),
            day=D(2026, 1, 1),
        )
        old.refresh_from_db()
        self.assertEqual(old.status, "lapsed")


class LastServiceDateTests(TestCase):
    def test_delete_and_move_keep_last_service_dates_right(self) -> None:
        first = ServiceDeliveryFactory.create(date=D(2026, 2, 1))
        services.delivery_save(delivery=first)
        later = ServiceDeliveryFactory.create(
            organisation=first.organisation,
            company=first.company,
            service=first.service,
            date=D(2026, 5, 5),
        )
        services.delivery_save(delivery=later)
        company = first.company
        other = CompanyFactory.create(organisation=first.organisation)
        later.company = other
        services.delivery_save(delivery=later)  # moved to another company
        company.refresh_from_db()
        other.refresh_from_db()
        self.assertEqual(
            (company.last_service_on, other.last_service_on), (D(2026, 2, 1), D(2026, 5, 5))
        )
        services.delivery_delete(delivery=first)
        company.refresh_from_db()
        self.assertIsNone(company.last_service_on)
