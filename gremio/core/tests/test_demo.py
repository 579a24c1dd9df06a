"""The demo command: one user per role, idempotent; generated RFCs are valid."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import TestCase
from stdnum.mx import rfc as stdnum_rfc

from gremio.core import demo
from gremio.core.models import ObjectChange, Organisation, Pillar, RoleAssignment
from gremio.core.roles import Role

User = get_user_model()
PASSWORD = "pw-12345678"


def run_demo(**options: object) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **{"scale": "small", "password": PASSWORD, **options})
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model._default_manager.count()
        for model in (Organisation, User, RoleAssignment, Pillar, ObjectChange)
    }


class DemoCommandTests(TestCase):
    def test_one_user_per_role(self) -> None:
        run_demo(org="demo")
        organisation = Organisation.objects.get(slug="demo")
        assert organisation.rfc
        stdnum_rfc.validate(organisation.rfc, validate_check_digits=True)
        for role in Role.values:
            user = User.objects.get(email=f"{role}@demo.example")
            assert user.check_password(PASSWORD), role
            assert set(
                RoleAssignment.objects.filter(user=user, organisation=organisation).values_list(
                    "role", flat=True
                )
            ) == {role}
        assert Pillar.objects.filter(organisation=organisation).count() == 4
        operator = User.objects.get(email="operator@gremio.example")
        assert operator.is_superuser and operator.check_password(PASSWORD)
        assert not RoleAssignment.objects.filter(user=operator).exists()

    def test_the_demo_users_can_sign_in_and_reach_the_organisation(self) -> None:
        run_demo(org="demo")
        assert self.client.login(email="finance@demo.example", password=PASSWORD)
        assert self.client.get("/demo/").status_code == 200
        assert self.client.get("/demo/roles/").status_code == 403

    def test_two_runs_are_idempotent(self) -> None:
        run_demo(org="demo")
        first = counts()
        run_demo(org="demo", password="another-pw-987")
        assert counts() == first
        assert User.objects.get(email="admin@demo.example").check_password("another-pw-987")

    def test_if_new_leaves_an_existing_organisation_alone(self) -> None:
        run_demo(org="demo")
        first = counts()
        out = run_demo(org="demo", password="changed-pw-987", if_new=True)
        assert "already exists" in out
        assert counts() == first
        assert User.objects.get(email="admin@demo.example").check_password(PASSWORD)

    def test_another_org(self) -> None:
        run_demo(org="camara-dos")
        organisation = Organisation.objects.get(slug="camara-dos")
        admin = User.objects.get(email="admin@camara-dos.example")
        assert RoleAssignment.objects.filter(
            user=admin, organisation=organisation, role=Role.ADMIN
        ).exists()
        assert not User.objects.filter(email="admin@demo.example").exists()

    def test_a_bad_org_or_scale_is_refused(self) -> None:
        with self.assertRaises(CommandError):
            run_demo(org="Not a slug!")
        with self.assertRaises(CommandError):  # as typed on the command line
            call_command("demo", "--org=demo", "--scale=huge", stdout=io.StringIO())
        assert not Organisation.objects.exists()

    def test_build_is_deterministic(self) -> None:
        run_demo(org="uno", seed=5)
        run_demo(org="dos", seed=5)
        uno, dos = Organisation.objects.get(slug="uno"), Organisation.objects.get(slug="dos")
        again = demo.company_rfc(random.Random("5:uno"), "uno", dt.date(1985, 1, 1))
        assert uno.rfc == again
        assert uno.rfc != dos.rfc


def test_company_rfcs_are_valid() -> None:
    rng = random.Random(2026)
    names = ["Cámara", "Ñandú Industrial", "Éxito", "AB", "x", "3M de México", "Ávila y Cía"]
    for i in range(200):
        founded = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(27000))
        value = demo.company_rfc(rng, names[i % len(names)], founded)
        assert len(value) == 12, value
        stdnum_rfc.validate(value, validate_check_digits=True)
        assert value[3:9] == f"{founded:%y%m%d}"


@pytest.mark.parametrize("seed", [1, 2026])
def test_person_rfcs_are_valid(seed: int) -> None:
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("es_MX")
    fake.seed_instance(seed)
    for _ in range(200):
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25000))
        value = demo.person_rfc(rng, fake.last_name(), fake.last_name(), fake.first_name(), born)
        assert len(value) == 13, value
        stdnum_rfc.validate(value, validate_check_digits=True)


def test_person_rfc_avoids_forbidden_words() -> None:
    # C-A-C-A would spell a word the SAT never issues.
    value = demo.person_rfc(random.Random(1), "Cabrera", "Castro", "Ana", dt.date(1980, 2, 3))
    stdnum_rfc.validate(value, validate_check_digits=True)
    assert value.startswith("XACA")
