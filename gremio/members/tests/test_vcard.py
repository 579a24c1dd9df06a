"""Contacts as vCards: one contact, or the filtered list."""

from __future__ import annotations

from typing import Any, ClassVar

import vobject
from django.test import TestCase

from gremio.core.models import Organisation, User
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members.models import Company, Contact

from .factories import CompanyFactory, ContactFactory


def cards(response: Any) -> list[Any]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(vobject.readComponents(content.decode("utf-8")))


class VCardTests(TestCase):
    org: ClassVar[Organisation]
    other: ClassVar[Organisation]
    admin: ClassVar[User]
    company: ClassVar[Company]
    maria: ClassVar[Contact]
    pedro: ClassVar[Contact]
    foreign: ClassVar[Contact]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(slug="tarjetas", language="en")
        cls.other = OrganisationFactory.create(slug="tarjetas-otro")
        cls.admin = member_of(cls.org, "admin", email="admin@tarjetas.mx")
        cls.company = CompanyFactory.create(
            organisation=cls.org, legal_name="Electrónica Tapatía, S.A. de C.V."
        )
        cls.maria = ContactFactory.create(
            organisation=cls.org,
            company=cls.company,
            first_name="María José",
            last_name="Núñez",
            second_last_name="Peña",
            position="Directora de Compras",
            email="mjose@tapatia.mx",
            phone="+52 33 1234 5678",
            mobile="+52 33 8765 4321",
            language="es",
        )
        cls.pedro = ContactFactory.create(
            organisation=cls.org,
            company=CompanyFactory.create(organisation=cls.org),
            first_name="Pedro",
            last_name="Ávila",
            second_last_name="",
            email="pedro@otra.mx",
            language="en",
        )
        cls.foreign = ContactFactory.create(organisation=cls.other, email="ajeno@otro.mx")

    def setUp(self) -> None:
        self.client.force_login(self.admin)

    def test_one_contact_as_a_vcard_3(self) -> None:
        response = self.client.get(f"/tarjetas/members/contacts/{self.maria.pk}/vcard/")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/vcard; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        assert "maria-jose-nunez-pena.vcf" in response["Content-Disposition"]
        [card] = cards(response)
        assert card.version.value == "3.0"
        assert card.fn.value == "María José Núñez Peña"
        assert (card.n.value.family, card.n.value.given) == ("Núñez Peña", "María José")
        assert card.org.value == ["Electrónica Tapatía, S.A. de C.V."]
        assert card.title.value == "Directora de Compras"
        assert card.email.value == "mjose@tapatia.mx"
        phones = {tuple(t.params["TYPE"]): t.value for t in card.tel_list}
        assert phones == {
            ("WORK", "VOICE"): "+52 33 1234 5678",
            ("CELL", "VOICE"): "+52 33 8765 4321",
        }
        assert card.lang.value == "es"

    def test_the_filtered_list_as_one_file(self) -> None:
        url = "/tarjetas/members/contacts/vcards/"
        everyone = cards(self.client.get(url))
        assert {c.email.value for c in everyone} == {"mjose@tapatia.mx", "pedro@otra.mx"}
        one_company = cards(self.client.get(f"{url}?company={self.company.pk}"))
        assert [c.fn.value for c in one_company] == ["María José Núñez Peña"]
        searched = cards(self.client.get(f"{url}?q=%C3%81vila"))
        assert [c.n.value.family for c in searched] == ["Ávila"]
        response = self.client.get(f"{url}?language=en")
        assert "tarjetas-contacts.vcf" in response["Content-Disposition"]
        assert [c.email.value for c in cards(response)] == ["pedro@otra.mx"]
        # A filter that is not valid gives nothing rather than everything.
        assert cards(self.client.get(f"{url}?company=999999")) == []

    def test_anonymised_contacts_are_left_out_of_the_list(self) -> None:
        from gremio.members import services

        services.contact_anonymise(contact=self.pedro)
        emails = [
            c.email.value for c in cards(self.client.get("/tarjetas/members/contacts/vcards/"))
        ]
        assert emails == ["mjose@tapatia.mx"]

    def test_another_organisations_contacts_are_404(self) -> None:
        assert (
            self.client.get(f"/tarjetas/members/contacts/{self.foreign.pk}/vcard/").status_code
            == 404
        )
        assert (
            self.client.get(f"/tarjetas-otro/members/contacts/{self.foreign.pk}/vcard/").status_code
            == 404
        )
        assert self.client.get("/tarjetas-otro/members/contacts/vcards/").status_code == 404
        listed = cards(self.client.get("/tarjetas/members/contacts/vcards/"))
        assert "ajeno@otro.mx" not in {c.email.value for c in listed}

    def test_exporting_needs_the_export_permission(self) -> None:
        viewer = member_of(self.org, "viewer", email="lector@tarjetas.mx")
        self.client.force_login(viewer)
        assert (
            self.client.get(f"/tarjetas/members/contacts/{self.maria.pk}/vcard/").status_code == 403
        )
        assert self.client.get("/tarjetas/members/contacts/vcards/").status_code == 403
        detail = self.client.get(f"/tarjetas/members/contacts/{self.maria.pk}/").content.decode()
        assert "/vcard/" not in detail
        assert "vcards-link" not in self.client.get("/tarjetas/members/contacts/").content.decode()
        director = member_of(self.org, "director", email="direccion@tarjetas.mx")
        self.client.force_login(director)
        assert (
            self.client.get(f"/tarjetas/members/contacts/{self.maria.pk}/vcard/").status_code == 200
        )

    def test_buttons_on_the_contact_pages(self) -> None:
        detail = self.client.get(f"/tarjetas/members/contacts/{self.maria.pk}/").content.decode()
        assert f'href="/tarjetas/members/contacts/{self.maria.pk}/vcard/"' in detail
        listing = self.client.get("/tarjetas/members/contacts/?q=Pedro").content.decode()
        assert 'href="/tarjetas/members/contacts/vcards/?q=Pedro"' in listing
