"""Contacts as vCards (version 3.0), for address books and phones."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import vobject

from .models import Contact


def _phone(value: Any) -> str:
    if not value:
        return ""
    return str(getattr(value, "as_international", value))


def contact_vcard(contact: Contact) -> vobject.base.Component:
    """One contact's card: N, FN, ORG, TITLE, EMAIL, TEL (work and cell), LANG and a UID."""
    card = vobject.vCard()
    # Both Mexican surnames are the family name; the given names are the given name.
    family = " ".join(p for p in (contact.last_name, contact.second_last_name) if p)
    card.add("n").value = vobject.vcard.Name(family=family, given=contact.first_name)
    card.add("fn").value = contact.full_name or contact.email or str(contact.pk)
    if contact.company_id is not None and contact.company is not None:
        card.add("org").value = [contact.company.legal_name]
    if contact.position:
        card.add("title").value = contact.position
    if contact.email:
        email = card.add("email")
        email.value = contact.email
        email.params["TYPE"] = ["INTERNET", "WORK"]
    for value, kinds in ((contact.phone, ["WORK", "VOICE"]), (contact.mobile, ["CELL", "VOICE"])):
        if _phone(value):
            tel = card.add("tel")
            tel.value = _phone(value)
            tel.params["TYPE"] = kinds
    if contact.language:
        card.add("lang").value = contact.language
    card.add("uid").value = f"gremio-{contact.organisation_id}-contact-{contact.pk}"
    return card


def serialize(contacts: Iterable[Contact]) -> Iterator[str]:
    """Cards one after another, as a .vcf file holds them."""
    for contact in contacts:
        yield contact_vcard(contact).serialize()
