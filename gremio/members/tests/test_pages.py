"""Members pages: forms with bad input, the company 360 page, renewals, follow-ups, API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members import services
from gremio.members.models import Company, Contact, Employment, Membership, ServiceDelivery

from .factories import (
    CompanyFactory,
    ContactFactory,
    InteractionFactory,
    MembershipFactory,
    MembershipPlanFactory,
    ServiceDeliveryFactory,
    ServiceFactory,
)

VALID_RFC = "ABC680524P73"


class MembersTestCase(TestCase):
    org: Any
    other: Any
    user: Any
    viewer: Any

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="cam", language="en")
        cls.other = OrganisationFactory.create(slug="otra", language="en")
        cls.user = member_of(cls.org, "relations", email="relations@cam.example")
        cls.viewer = member_of(cls.org, "viewer", email="viewer@cam.example")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def url(self, name: str, *args: object) -> str:
        return reverse(f"members:{name}", args=[self.org.slug, *args])


class CompanyFormTests(MembersTestCase):
    def post(self, **data: object) -> Any:
        payload: dict[str, Any] = {
            "legal_name": "Aceros de Occidente, S.A. de C.V.",
            "entity_type": "legal",
            "state": "14",
        }
        payload.update(data)
        return self.client.post(self.url("company_add"), payload)

    def test_valid_company_is_created_with_normalised_rfc(self) -> None:
        response = self.post(rfc="abc-680524-p73", phone="33 3615 4400", website="aceros.example")
        company = Company.objects.get(organisation=self.org)
        self.assertRedirects(response, company.get_absolute_url())
        self.assertEqual(company.rfc, VALID_RFC)
        self.assertEqual(str(company.phone), "+52 33 3615 4400")
        self.assertEqual(company.website, "https://aceros.example")

    def test_bad_input_gives_field_errors_and_writes_nothing(self) -> None:
        cases = {
            "rfc": {"rfc": "ABC680524P74"},  # wrong check digit
            "phone": {"phone": "12"},
            "website": {"website": "not a url at all"},
            "legal_name": {"legal_name": ""},
        }
        for field, data in cases.items():
            with self.subTest(field=field):
                response = self.post(**data)
                self.assertEqual(response.status_code, 200)
                self.assertIn(field, response.context["form"].errors)
        self.assertFalse(Company.objects.exists())

    def test_rfc_length_must_match_the_entity_type(self) -> None:
        response = self.post(rfc=VALID_RFC, entity_type="natural")
        self.assertIn("13", response.context["form"].errors["rfc"][0])
        self.assertFalse(Company.objects.exists())

    def test_duplicate_rfc_links_to_the_existing_company(self) -> None:
        existing = CompanyFactory.create(organisation=self.org, rfc=VALID_RFC)
        response = self.post(rfc=VALID_RFC)
        error = str(response.context["form"].errors["rfc"][0])
        self.assertIn(existing.get_absolute_url(), error)
        self.assertEqual(Company.objects.count(), 1)
        # Another organisation may hold the same RFC: each keeps its own records.
        CompanyFactory.create(organisation=self.other, rfc="AAA010101AA1")
        self.assertEqual(self.post(rfc="AAA010101AA1").status_code, 302)


class ContactFormTests(MembersTestCase):
    def test_changing_company_records_employment_history(self) -> None:
        old = CompanyFactory.create(organisation=self.org)
        new = CompanyFactory.create(organisation=self.org)
        response = self.client.post(
            self.url("contact_add"),
            {
                "first_name": "Lucía",
                "last_name": "Ramírez",
                "company": old.pk,
                "position": "Compras",
                "language": "es",
            },
        )
        contact = Contact.objects.get(organisation=self.org)
        self.assertRedirects(response, contact.get_absolute_url())
        self.client.post(
            self.url("contact_edit", contact.pk),
            {
                "first_name": "Lucía",
                "last_name": "Ramírez",
                "company": new.pk,
                "position": "Dirección",
                "language": "es",
            },
        )
        contact.refresh_from_db()
        self.assertEqual(contact.company, new)
        jobs = list(
            Employment.objects.filter(contact=contact)
            .order_by("pk")
            .values_list("company", "position")
        )
        self.assertEqual(jobs, [(old.pk, "Compras"), (new.pk, "Dirección")])

    def test_bad_input(self) -> None:
        ContactFactory.create(organisation=self.org, email="ana@empresa.example")
        base = {"first_name": "Ana", "last_name": "Ruiz", "language": "es"}
        cases = {
            "email": {"email": "ana@empresa.example"},  # duplicate
            "mobile": {"mobile": "55"},
            "privacy_consent_on": {"privacy_consent": "on"},  # consent without its date
        }
        for field, data in cases.items():
            with self.subTest(field=field):
                response = self.client.post(self.url("contact_add"), {**base, **data})
                errors = response.context["form"].errors
                self.assertTrue(field in errors or "__all__" in errors, errors)
        self.assertEqual(Contact.objects.count(), 1)

    def test_other_organisations_company_is_not_a_valid_choice(self) -> None:
        foreign = CompanyFactory.create(organisation=self.other)
        response = self.client.post(
            self.url("contact_add"),
            {"first_name": "Ana", "last_name": "Ruiz", "language": "es", "company": foreign.pk},
        )
        self.assertIn("company", response.context["form"].errors)
        self.assertFalse(Contact.objects.exists())


class MembershipAndDeliveryFormTests(MembersTestCase):
    def test_membership_end_follows_from_the_plan_and_status_is_set(self) -> None:
        company = CompanyFactory.create(organisation=self.org)
        plan = MembershipPlanFactory.create(organisation=self.org)
        start = timezone.localdate() - dt.timedelta(days=10)
        self.client.post(
            self.url("membership_add"), {"company": company.pk, "plan": plan.pk, "start": start}
        )
        membership = Membership.objects.get(company=company)
        self.assertEqual(membership.end, services.period_end(plan=plan, start=start))
        self.assertEqual(membership.status, "active")
        company.refresh_from_db()
        self.assertEqual((company.membership_status, company.member_since), ("active", start))

    def test_membership_bad_input(self) -> None:
        company = CompanyFactory.create(organisation=self.org)
        plan = MembershipPlanFactory.create(organisation=self.org)
        base = {"company": company.pk, "plan": plan.pk, "start": "2026-05-01"}
        for field, data in {
            "end": {"end": "2026-04-01"},
            "override_until": {"status_override": "active"},
            "start": {"start": "31/31/2026"},
        }.items():
            with self.subTest(field=field):
                response = self.client.post(self.url("membership_add"), {**base, **data})
                errors = response.context["form"].errors
                self.assertTrue(field in errors or "__all__" in errors, errors)
        self.assertFalse(Membership.objects.exists())

    def test_delivery_contacts_must_work_at_the_company(self) -> None:
        company = CompanyFactory.create(organisation=self.org)
        stranger = ContactFactory.create(organisation=self.org)
        service = ServiceFactory.create(organisation=self.org)
        response = self.client.post(
            self.url("servicedelivery_add"),
            {
                "company": company.pk,
                "service": service.pk,
                "date": "2026-03-01",
                "contacts": [stranger.pk],
                "channel": "phone",
                "hours": "1",
            },
        )
        self.assertIn("contacts", response.context["form"].errors)
        self.assertFalse(ServiceDelivery.objects.exists())


class CompanyPageTests(MembersTestCase):
    def build(self, company: Company, n: int) -> None:
        service = ServiceFactory.create(organisation=self.org)
        for i in range(n):
            ContactFactory.create(organisation=self.org, company=company)
            ServiceDeliveryFactory.create(
                organisation=self.org,
                company=company,
                service=service,
                date=dt.date(2026, 1, 1 + i),
            )
            InteractionFactory.create(organisation=self.org, company=company)
        MembershipFactory.create(organisation=self.org, company=company)

    def test_360_page_shows_every_panel(self) -> None:
        company = CompanyFactory.create(organisation=self.org, legal_name="Tequilas Finos, S.A.")
        self.build(company, 3)
        response = self.client.get(company.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        keys = [panel["key"] for panel in response.context["panels"]]
        for key in ("contacts", "memberships", "deliveries", "interactions"):
            self.assertIn(key, keys)
        self.assertContains(response, "3 in all")

    def test_360_queries_do_not_grow_with_data(self) -> None:
        small = CompanyFactory.create(organisation=self.org)
        large = CompanyFactory.create(organisation=self.org)
        self.build(small, 2)
        self.build(large, 25)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts = []
        for company in (small, large):
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(company.get_absolute_url()).status_code, 200)
            counts.append(len(ctx.captured_queries))
        self.assertEqual(counts[0], counts[1])


class RenewalsAndFollowUpsTests(MembersTestCase):
    def test_renewals_lists_due_memberships_and_renews_them(self) -> None:
        today = timezone.localdate()
        due = MembershipFactory.create(
            organisation=self.org,
            start=today - dt.timedelta(days=340),
            end=today + dt.timedelta(days=25),
        )
        MembershipFactory.create(
            organisation=self.org, start=today, end=today + dt.timedelta(days=364)
        )
        response = self.client.get(self.url("renewals"))
        self.assertEqual([m.pk for m in response.context["due"]], [due.pk])
        self.client.post(self.url("membership_renew", due.pk))
        renewal = Membership.objects.filter(company=due.company).order_by("-start").first()
        assert renewal is not None
        self.assertEqual(renewal.start, due.end + dt.timedelta(days=1))
        self.assertEqual(list(self.client.get(self.url("renewals")).context["due"]), [])

    def test_viewer_may_see_but_not_renew(self) -> None:
        due = MembershipFactory.create(organisation=self.org)
        self.client.force_login(self.viewer)
        self.assertEqual(self.client.get(self.url("renewals")).status_code, 200)
        self.assertEqual(self.client.post(self.url("membership_renew", due.pk)).status_code, 403)
        self.assertEqual(Membership.objects.count(), 1)

    def test_follow_ups_due_show_on_the_start_page(self) -> None:
        today = timezone.localdate()
        InteractionFactory.create(
            organisation=self.org, staff=self.user, follow_up_on=today, summary="Enviar cotización"
        )
        InteractionFactory.create(
            organisation=self.org,
            staff=self.user,
            follow_up_on=today + dt.timedelta(days=5),
            summary="Más adelante",
        )
        response = self.client.get(reverse("core:dashboard", args=[self.org.slug]))
        self.assertContains(response, "Enviar cotización")
        self.assertNotContains(response, "Más adelante")


class MembersApiTests(MembersTestCase):
    def test_company_rfc_is_validated(self) -> None:
        url = f"/api/v1/{self.org.slug}/members/companies/"
        bad = self.client.post(
            url, {"legal_name": "X", "rfc": "XXX"}, content_type="application/json"
        )
        self.assertEqual(bad.status_code, 400)
        self.assertIn("rfc", bad.json())
        good = self.client.post(
            url, {"legal_name": "X", "rfc": VALID_RFC}, content_type="application/json"
        )
        self.assertEqual(good.status_code, 201, good.content)
        self.assertEqual(Company.objects.get().organisation, self.org)

    def test_membership_through_the_api_gets_end_and_status(self) -> None:
        company = CompanyFactory.create(organisation=self.org)
        plan = MembershipPlanFactory.create(organisation=self.org)
        start = timezone.localdate()
        response = self.client.post(
            f"/api/v1/{self.org.slug}/members/memberships/",
            {"company": company.pk, "plan": plan.pk, "start": start.isoformat()},
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(
            (body["status"], body["end"]),
            ("active", services.period_end(plan=plan, start=start).isoformat()),
        )

    def test_deleting_a_renewal_through_the_api_puts_the_company_back_in_grace(self) -> None:
        company = CompanyFactory.create(organisation=self.org)
        plan = MembershipPlanFactory.create(organisation=self.org, grace_days=30)
        today = timezone.localdate()
        first = services.membership_save(
            membership=Membership(
                organisation=self.org,
                company=company,
                plan=plan,
                start=today - dt.timedelta(days=370),
                end=today - dt.timedelta(days=6),
            )
        )
        renewal = services.membership_renew(membership=first)
        first.refresh_from_db()
        self.assertEqual(first.status, "renewed")
        response = self.client.delete(f"/api/v1/{self.org.slug}/members/memberships/{renewal.pk}/")
        self.assertEqual(response.status_code, 204, response.content)
        first.refresh_from_db()
        company.refresh_from_db()
        self.assertEqual((first.status, company.membership_status), ("grace", "grace"))
