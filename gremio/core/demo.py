"""Demo organisations: deterministic, realistic Mexican data, in three scales.

Each module adds its part by registering a step; ``python manage.py demo``
runs the steps in order inside one transaction. A step receives the
organisation, the scale and a seeded ``random.Random`` and ``Faker('es_MX')``,
so the same seed always gives the same data.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from faker import Faker
from stdnum.mx import rfc as stdnum_rfc

from . import services
from .changelog import change_context
from .models import Organisation
from .roles import Role

SCALES = ("small", "medium", "ccij")


@dataclass
class DemoContext:
    organisation: Organisation
    scale: str
    rng: random.Random
    fake: Faker
    users: dict[str, Any]
    log: Callable[[str], None]


DemoStep = Callable[[DemoContext], None]
_steps: list[tuple[int, str, DemoStep]] = []


def register(*, order: int, name: str) -> Callable[[DemoStep], DemoStep]:
    """Add a demo step; steps run by ascending ``order``."""

    def decorator(step: DemoStep) -> DemoStep:
        _steps[:] = [s for s in _steps if s[1] != name]
        _steps.append((order, name, step))
        return step

    return decorator


_HOMOCLAVE = string.ascii_uppercase.replace("I", "").replace("O", "") + "123456789"
# The homoclave's first character runs only up to V (python-stdnum checks this).
_HOMOCLAVE_FIRST = _HOMOCLAVE.translate(str.maketrans("", "", "WXYZ"))


def company_rfc(rng: random.Random, initials: str, founded: Any) -> str:
    """A valid 12-character RFC (legal entity) with its check digit."""
    letters = "".join(c for c in initials.upper() if c.isalpha() and c.isascii())[:3].ljust(3, "X")
    base = f"{letters}{founded:%y%m%d}{rng.choice(_HOMOCLAVE_FIRST)}{rng.choice(_HOMOCLAVE)}"
    return base + stdnum_rfc.calc_check_digit(base)


def person_rfc(
    rng: random.Random, last_name: str, second_last: str, first_name: str, born: Any
) -> str:
    """A valid 13-character RFC (natural person) with its check digit."""

    def letters(value: str) -> str:
        return "".join(c for c in value.upper() if c.isalpha() and c.isascii()) or "X"

    last = letters(last_name)
    vowel = next((c for c in last[1:] if c in "AEIOU"), "X")
    base = f"{last[0]}{vowel}{letters(second_last)[0]}{letters(first_name)[0]}{born:%y%m%d}"
    base += f"{rng.choice(_HOMOCLAVE_FIRST)}{rng.choice(_HOMOCLAVE)}"
    candidate = base + stdnum_rfc.calc_check_digit(base)
    try:
        stdnum_rfc.validate(candidate, validate_check_digits=True)
    except Exception:  # A blacklisted word: change the first letter.
        base = "X" + base[1:]
        candidate = base + stdnum_rfc.calc_check_digit(base)
    return candidate


ORGANISATION_NAMES = {
    "demo": ("Consejo de Cámaras Industriales de Jalisco (demo)", "CCIJ Demo, A.C.", "CCI"),
    "other": (
        "Cámara de la Industria Electrónica de Occidente (demo)",
        "Cámara Electrónica Demo, A.C.",
        "CIE",
    ),
}


def user_email(role: str, slug: str) -> str:
    return f"{role}@{slug}.example"


@transaction.atomic
def build(
    *, slug: str, scale: str, password: str, seed: int = 2026, log: Callable[[str], None] = print
) -> Organisation:
    """Create or refresh the demo organisation ``slug`` at ``scale``."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")
    rng = random.Random(f"{seed}:{slug}")
    fake = Faker("es_MX")
    fake.seed_instance(f"{seed}:{slug}")
    name, legal_name, initials = ORGANISATION_NAMES.get(
        slug,
        (
            f"Cámara {slug.replace('-', ' ').title()} (demo)",
            f"Cámara {slug.title()} Demo, A.C.",
            slug[:3],
        ),
    )
    with change_context(None, label="demo"):
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            import datetime as dt

            organisation = services.organisation_create(
                name=name,
                slug=slug,
                legal_name=legal_name,
                rfc=company_rfc(rng, initials, dt.date(1985, 1, 1)),
            )
            log(f"Created organisation {organisation.name} (/{slug}/)")
        users = _ensure_users(organisation, password, fake)
        context = DemoContext(
            organisation=organisation, scale=scale, rng=rng, fake=fake, users=users, log=log
        )
        for _order, step_name, step in sorted(_steps, key=lambda s: s[0]):
            log(f"Demo data: {step_name} ({scale})")
            step(context)
    return organisation


def _ensure_users(organisation: Organisation, password: str, fake: Faker) -> dict[str, Any]:
    User = get_user_model()
    users = {}
    for role in Role.values:
        email = user_email(role, organisation.slug)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, first_name=fake.first_name(), last_name=fake.last_name())
        user.set_password(password)
        user.is_active = True
        user.save()
        services.role_grant(organisation=organisation, user=user, role=role)
        users[role] = user
    return users


def ensure_operator(*, password: str) -> Any:
    """The platform operator of the demo installation (creates organisations)."""
    User = get_user_model()
    user = User.objects.filter(email="operator@gremio.example").first()
    if user is None:
        user = User(email="operator@gremio.example", first_name="Operador", last_name="Plataforma")
    user.is_superuser = user.is_staff = True
    user.set_password(password)
    user.save()
    return user
