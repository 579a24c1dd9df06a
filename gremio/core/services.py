"""Writes of core's data: keyword-only, typed, atomic, validated."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import REFERENCE_PILLARS, ApiToken, Invitation, Organisation, Pillar, RoleAssignment
from .roles import Role

# Functions each module registers to set up a new organisation's own records
# (finance seeds its chart of accounts); core imports no module.
ORGANISATION_SETUP: list[Callable[[Organisation], None]] = []


@transaction.atomic
def organisation_create(
    *, user: Any = None, seed_pillars: bool = True, **fields: Any
) -> Organisation:
    """Create an organisation with the reference strategic pillars."""
    organisation = Organisation(**fields)
    organisation.full_clean()
    organisation.save()
    if seed_pillars:
        for order, (name_es, name_en, colour) in enumerate(REFERENCE_PILLARS, start=1):
            pillar = Pillar(
                organisation=organisation,
                name_es=name_es,
                name_en=name_en,
                colour=colour,
                order=order,
            )
            pillar.full_clean()
            pillar.save()
    for setup in ORGANISATION_SETUP:
        setup(organisation)
    return organisation


@transaction.atomic
def role_grant(*, organisation: Organisation, user: Any, role: str) -> RoleAssignment:
    """Give ``user`` a role in ``organisation`` (idempotent)."""
    assignment, _created = RoleAssignment.objects.get_or_create(
        organisation=organisation, user=user, role=role
    )
    user.__dict__.pop("_gremio_roles", None)
    return assignment


@transaction.atomic
def invitation_send(
    *, organisation: Organisation, email: str, role: str, invited_by: Any, base_url: str = ""
) -> Invitation:
    """Invite someone by e-mail to hold ``role`` in ``organisation``.

    The e-mail goes out only once the invitation is committed.
    """
    invitation = Invitation(organisation=organisation, email=email.strip().lower(), role=role)
    invitation.invited_by = invited_by
    invitation.full_clean()
    invitation.save()
    link = base_url + reverse("invitation_accept", kwargs={"token": invitation.token})
    language = organisation.language

    def send() -> None:
        with translation.override(language):
            send_mail(
                subject=_("You are invited to {organisation} on Gremio").format(
                    organisation=organisation.name
                ),
                message=_(
                    "{inviter} invites you to join {organisation} as {role}.\n\n"
                    "Accept the invitation here: {link}\n\nThe link is valid for 14 days."
                ).format(
                    inviter=invited_by or "Gremio",
                    organisation=organisation.name,
                    role=Role(role).label,
                    link=link,
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[invitation.email],
            )

    transaction.on_commit(send)
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: Any = None,
    first_name: str = "",
    last_name: str = "",
    password: str = "",
) -> Any:
    """Accept an open invitation: create the user if new, then grant the role."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValueError("invitation is not open")
    if user is None:
        User = get_user_model()
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            user = User.objects.create_user(
                email=invitation.email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
    role_grant(organisation=invitation.organisation, user=user, role=invitation.role)
    invitation.accepted = timezone.now()
    invitation.save(update_fields=["accepted"])
    return user


def pillar_delete(*, pillar: Pillar) -> bool:
    """Delete an unused pillar; deactivate one in use. True when deleted."""
    try:
        with transaction.atomic():
            pillar.delete()
        return True
    except ProtectedError:
        pillar.active = False
        pillar.save(update_fields=["active"])
        return False


def api_token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a named token; returns it and the key, which is never shown again."""
    key = secrets.token_urlsafe(30)
    token = ApiToken(user=user, name=name, prefix=key[:8], key_hash=ApiToken.hash_key(key))
    token.full_clean()
    token.save()
    return token, key
