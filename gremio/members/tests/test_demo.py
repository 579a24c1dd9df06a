"""The members demo step: deterministic, valid, consistent with the rules, and idempotent."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import phonenumbers
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import RequestFactory, TestCase
from stdnum.mx import rfc as stdnum_rfc

from gremio.core import demo
from gremio.core.models import ObjectChange, Organisation
from gremio.members import movements, services
from gremio.members.demo import SIZES
from gremio.members.filtersets import CompanyFilterSet
from gremio.members.models import (
    Chamber,
    Company,
    Contact,
    Employment,
    Interaction,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Service,
    ServiceDelivery,
    Tag,
)

MODELS = (
    Chamber,
    Tag,
    MembershipPlan,
    Service,
    Company,
    Contact,
    Employment,
    Membership,
    ServiceDelivery,
    Interaction,
)


def build(slug: str, seed: int = 2026) -> Organisation:
    return demo.build(
        slug=slug, scale="small", password="pw-12345678", seed=seed, log=lambda _: None
    )


def fingerprint(organisation: Organisation) -> list[tuple[Any, ...]]:
    companies = Company.objects.filter(organisation=organisation).order_by("rfc")
    return list(companies.values_list("legal_name", "rfc", "membership_status", "member_since"))


def counts(organisation: Organisation) -> dict[str, int]:
    return {m.__name__: m.objects.filter(organisation=organisation).count() for m in MODELS}


class DemoDeterminismTests(TestCase):
    def test_same_seed_same_data_and_another_org_other_data(self) -> None:
        with transaction.atomic():
            first = fingerprint(build("uno", seed=7))
            transaction.set_rollback(True)
        assert not Company.objects.exists()
        again = fingerprint(build("uno", seed=7))
        assert again == first
        other = fingerprint(build("dos", seed=7))
        assert {row[1] for row in other}.isdisjoint({row[1] for row in first})
        assert [row[0] for row in other] != [row[0] for row in first]

    def test_running_the_demo_again_duplicates_nothing(self) -> None:
        call_command(
            "demo", org="demo", scale="small", password="pw-12345678", stdout=io.StringIO()
        )
        organisation = Organisation.objects.get(slug="demo")
        before, changes = counts(organisation), ObjectChange.objects.count()
        out = io.StringIO()
        call_command("demo", org="demo", scale="medium", password="pw-12345678", stdout=out)
        assert "left as they are" in out.getvalue()
        assert counts(organisation) == before
        assert ObjectChange.objects.count() == changes


class SmallDemoTests(TestCase):
    organisation: Organisation

    @classmethod
    def setUpTestData(cls) -> None:
        cls.organisation = build("demo")

    def scoped(self, model: Any) -> Any:
        return model.objects.filter(organisation=self.organisation)

    def test_sizes(self) -> None:
        size = SIZES["small"]
        assert self.scoped(Company).count() == size.companies
        assert abs(self.scoped(Contact).count() - size.contacts) <= size.contacts * 0.1
        events = self.scoped(ServiceDelivery).count() + self.scoped(Interaction).count()
        assert events == size.events
        assert 3 <= self.scoped(MembershipPlan).count() <= 5
        assert 12 <= self.scoped(Service).count() <= 20
        assert self.scoped(Service).filter(pillar__isnull=True).count() == 0
        assert self.scoped(Chamber).filter(acronym="CANIETI Occidente").exists()

    def test_the_load_writes_no_change_log(self) -> None:
        assert not ObjectChange.objects.filter(
            organisation=self.organisation, content_type__app_label="members"
        ).exists()

    def test_rfcs_are_valid_and_unique(self) -> None:
        rows = list(self.scoped(Company).values_list("rfc", "entity_type"))
        for rfc, entity_type in rows:
            stdnum_rfc.validate(rfc, validate_check_digits=True)
            assert len(rfc) == (12 if entity_type == Company.EntityType.LEGAL else 13), rfc
        assert len({rfc for rfc, _t in rows}) == len(rows)

    def test_phones_are_valid_mexican_numbers(self) -> None:
        numbers = [
            str(p) for p in self.scoped(Company).exclude(phone="").values_list("phone", flat=True)
        ]
        for contact in self.scoped(Contact):
            numbers += [str(p) for p in (contact.phone, contact.mobile) if p]
        assert len(numbers) > 500
        for number in numbers:
            parsed = phonenumbers.parse(number)
            assert parsed.country_code == 52 and phonenumbers.is_valid_number(parsed), number

    def test_every_row_passes_model_validation(self) -> None:
        for model in (Company, Contact, Membership, ServiceDelivery, Interaction):
            for obj in self.scoped(model)[:200]:
                obj.full_clean()

    def test_contacts_write_from_their_company_domain(self) -> None:
        contacts = self.scoped(Contact).exclude(email="").select_related("company")
        with_company = [c for c in contacts if c.company and c.company.website]
        assert with_company
        for contact in with_company:
            assert contact.company.website.endswith(contact.email.split("@")[1])
        emails = list(self.scoped(Contact).exclude(email="").values_list("email", flat=True))
        assert len(emails) == len(set(emails))

    def test_statuses_follow_the_rules_today(self) -> None:
        today = services.today()
        for membership in self.scoped(Membership).select_related("plan"):
            renewed = services.is_renewed(membership, today)
            assert membership.status == services.membership_status_on(
                membership, today, renewed=renewed
            )
        statuses = Counter(self.scoped(Membership).values_list("status", flat=True))
        for status in (
            MembershipStatus.ACTIVE,
            MembershipStatus.LAPSED,
            MembershipStatus.RESIGNED,
            MembershipStatus.RENEWED,
        ):
            assert statuses[status], status
        assert self.scoped(Membership).exclude(status_override="").exists()

    def test_company_fields_agree_with_company_refresh(self) -> None:
        fields = ("membership_status", "member_since", "last_service_on", "is_member")
        for company in self.scoped(Company):
            before = [getattr(company, f) for f in fields]
            services.company_refresh(company=company)
            assert [getattr(company, f) for f in fields] == before, company

    def test_membership_movements_agree_with_a_rebuild(self) -> None:
        assert self.scoped(Membership).filter(renews=True).exists()
        assert self.scoped(Membership).filter(left_as="lapsed").exists()
        assert movements.rebuild(Membership, MembershipPlan, organisation=self.organisation) == 0

    def test_realistic_mix(self) -> None:
        companies = self.scoped(Company)
        manufacturing = companies.filter(sector__parent__code="31-33").count()
        assert manufacturing > companies.count() * 0.5
        assert companies.filter(state="14").count() > companies.count() * 0.75
        assert companies.exclude(state="14").exists()
        for company in companies.exclude(employees=None):
            band = {"micro": (0, 10), "small": (11, 50), "medium": (51, 250)}.get(
                company.size_band, (251, 10**6)
            )
            assert band[0] <= company.employees <= band[1], company

    def test_few_members_are_served_often_most_rarely(self) -> None:
        served = sorted(
            self.scoped(ServiceDelivery)
            .values("company")
            .annotate(n=Count("pk"))
            .values_list("n", flat=True),
            reverse=True,
        )
        total = sum(served)
        assert sum(served[: len(served) // 10]) > total * 0.4  # the top tenth takes a big share
        never = self.scoped(Company).filter(deliveries=None).count()
        assert never > self.scoped(Company).count() * 0.3
        ratings = Counter(self.scoped(ServiceDelivery).values_list("satisfaction", flat=True))
        rated = sum(n for k, n in ratings.items() if k)
        assert ratings[4] + ratings[5] > rated * 0.7

    def test_follow_ups_some_open_and_due(self) -> None:
        today = services.today()
        open_ = self.scoped(Interaction).filter(follow_up_done=False, follow_up_on__isnull=False)
        assert open_.filter(follow_up_on__lte=today).exists()
        assert open_.filter(follow_up_on__gt=today).exists()
        staff = set(self.scoped(ServiceDelivery).values_list("staff__email", flat=True))
        assert "relations@demo.example" in staff

    def test_company_filters_agree_with_the_records(self) -> None:
        request = RequestFactory().get("/")
        request.organisation = self.organisation  # type: ignore[attr-defined]
        companies = self.scoped(Company)

        def matching(**params: Any) -> set[int]:
            filterset = CompanyFilterSet(params, queryset=companies, request=request)
            assert filterset.is_valid(), filterset.errors
            return set(filterset.qs.values_list("pk", flat=True))

        every = set(companies.values_list("pk", flat=True))
        deliveries = self.scoped(ServiceDelivery)
        since = services.today() - dt.timedelta(days=180)
        served = set(deliveries.filter(date__gte=since).values_list("company", flat=True))
        assert served and served != every
        assert matching(served_from=since, served="true") == served
        assert matching(served_from=since, served="false") == every - served
        year = (since - dt.timedelta(days=365), since)
        served = set(deliveries.filter(date__range=year).values_list("company", flat=True))
        assert matching(served_from=year[0], served_to=year[1], served="true") == served
        assert matching(served_from=year[0], served_to=year[1], served="false") == every - served
        plan = self.scoped(MembershipPlan).get(name="Pequeña empresa")
        current = self.scoped(Membership).filter(plan=plan, status__in=services.CURRENT)
        assert matching(plan=plan.pk) == set(current.values_list("company", flat=True))
