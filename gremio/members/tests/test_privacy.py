"""ARCO rights on a contact: a copy of the personal data held, and anonymisation."""

from __future__ import annotations

import json
from typing import ClassVar

from django.test import TestCase

from gremio.core.models import ObjectChange, Organisation, User
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members import services
from gremio.members.models import Company, Contact, Employment, ServiceDelivery

from .factories import (
    CompanyFactory,
    ContactFactory,
    InteractionFactory,
    ServiceDeliveryFactory,
    ServiceFactory,
)


class PrivacyTests(TestCase):
    org: ClassVar[Organisation]
    other: ClassVar[Organisation]
    admin: ClassVar[User]
    company: ClassVar[Company]
    contact: ClassVar[Contact]
    foreign: ClassVar[Contact]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="arco", language="en")
        cls.other = OrganisationFactory.create(slug="arco-otro")
        cls.admin = member_of(cls.org, "admin", email="admin@arco.mx")
        cls.company = CompanyFactory.create(organisation=cls.org, legal_name="Moldes Finos, S.A.")
        cls.contact = ContactFactory.create(
            organisation=cls.org,
            company=cls.company,
            first_name="Lucía",
            last_name="Zúñiga",
            email="lucia@moldes.mx",
            phone="+52 33 1111 2222",
            position="Gerente",
            notes="Prefiere llamadas por la mañana.",
        )
        previous = CompanyFactory.create(organisation=cls.org, legal_name="Anterior, S.A.")
        Employment.objects.create(
            organisation=cls.org, contact=cls.contact, company=previous, position="Analista"
        )
        service = ServiceFactory.create(organisation=cls.org, name="Asesoría en comercio exterior")
        for _n in range(3):
            delivery = ServiceDeliveryFactory.create(
                organisation=cls.org, company=cls.company, service=service, outcome="Resuelto"
            )
            delivery.contacts.add(cls.contact)
        ServiceDeliveryFactory.create(organisation=cls.org, company=cls.company, service=service)
        interaction = InteractionFactory.create(
            organisation=cls.org, company=cls.company, summary="Visita a planta"
        )
        interaction.contacts.add(cls.contact)
        cls.foreign = ContactFactory.create(organisation=cls.other)

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def url(self, contact: Contact, action: str, org: str = "arco") -> str:
        return f"/{org}/members/contacts/{contact.pk}/{action}/"

    def test_export_holds_everything_about_the_contact(self) -> None:
        self.contact.position = "Directora"
        self.contact.save()  # a change, so that the log has more than the creation
        response = self.client.get(self.url(self.contact, "personal-data"))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        assert f"contact-{self.contact.pk}-personal-data.json" in response["Content-Disposition"]
        data = json.loads(response.content)
        assert data["organisation"] == self.org.name
        person = data["contact"]
        assert (person["first_name"], person["last_name"], person["email"]) == (
            "Lucía",
            "Zúñiga",
            "lucia@moldes.mx",
        )
        assert person["phone"] == "+52 33 1111 2222"
        assert person["notes"] == "Prefiere llamadas por la mañana."
        assert person["company"]["legal_name"] == "Moldes Finos, S.A."
        assert [e["position"] for e in data["employment_history"]] == ["Analista"]
        assert len(data["services_delivered"]) == 3
        assert data["services_delivered"][0]["service"] == "Asesoría en comercio exterior"
        assert [i["summary"] for i in data["interactions"]] == ["Visita a planta"]
        actions = [(c["record"].split()[0], c["action"]) for c in data["change_log"]]
        assert ("contact", "create") in actions and ("contact", "update") in actions
        assert ("employment", "create") in actions
        assert "Lucía" in response.content.decode()  # UTF-8, not \\u escapes

    def test_anonymise_asks_first_then_erases_and_keeps_the_counts(self) -> None:
        deliveries = ServiceDelivery.objects.filter(organisation=self.org).count()
        confirm = self.client.get(self.url(self.contact, "anonymise"))
        assert confirm.status_code == 200
        content = confirm.content.decode()
        assert "Yes, anonymise" in content and "3 services delivered" in content
        self.contact.refresh_from_db()
        assert self.contact.anonymised is None  # nothing happens on GET
        response = self.client.post(self.url(self.contact, "anonymise"))
        assert response.status_code == 302
        self.contact.refresh_from_db()
        assert self.contact.anonymised is not None
        assert (self.contact.first_name, self.contact.email, self.contact.notes) == ("—", "", "")
        assert self.contact.deliveries.count() == 3
        assert self.contact.interactions.count() == 1
        assert self.company.deliveries.count() == 4
        assert ServiceDelivery.objects.filter(organisation=self.org).count() == deliveries
        assert ObjectChange.objects.filter(
            organisation=self.org, object_id=str(self.contact.pk), action="update", user=self.admin
        ).exists()
        again = self.client.post(self.url(self.contact, "anonymise"), follow=True)
        assert "already been anonymised" in again.content.decode()
        detail = self.client.get(self.url(self.contact, "")[:-1]).content.decode()
        assert "personal data was erased" in detail and "/anonymise/" not in detail

    def test_another_organisations_contact_is_404(self) -> None:
        for action in ("personal-data", "anonymise"):
            assert self.client.get(self.url(self.foreign, action)).status_code == 404
            assert self.client.post(self.url(self.foreign, action)).status_code == 404
            assert self.client.get(self.url(self.foreign, action, "arco-otro")).status_code == 404
            assert self.client.post(self.url(self.foreign, action, "arco-otro")).status_code == 404
        self.foreign.refresh_from_db()
        assert self.foreign.anonymised is None

    def test_permissions(self) -> None:
        director = member_of(self.org, "director", email="direccion@arco.mx")
        self.client.force_login(director)  # reads and exports, changes nothing
        assert self.client.get(self.url(self.contact, "personal-data")).status_code == 200
        assert self.client.post(self.url(self.contact, "anonymise")).status_code == 403
        viewer = member_of(self.org, "viewer", email="lector@arco.mx")
        self.client.force_login(viewer)
        assert self.client.get(self.url(self.contact, "personal-data")).status_code == 403
        detail = self.client.get(self.url(self.contact, "")[:-1]).content.decode()
        assert "/personal-data/" not in detail and "/anonymise/" not in detail
        relations = member_of(self.org, "relations", email="relaciones@arco.mx")
        self.client.force_login(relations)
        detail = self.client.get(self.url(self.contact, "")[:-1]).content.decode()
        assert "/personal-data/" in detail and "/anonymise/" in detail
        assert self.client.post(self.url(self.contact, "anonymise")).status_code == 302

    def test_after_anonymising_the_export_holds_no_name(self) -> None:
        services.contact_anonymise(contact=self.contact)
        data = json.loads(self.client.get(self.url(self.contact, "personal-data")).content)
        assert data["contact"]["first_name"] == "—"
        assert data["contact"]["email"] == ""
        assert data["contact"]["anonymised"]
