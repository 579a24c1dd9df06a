"""Recompute what the members module keeps beside its records: how each membership moved,
and each service delivery's previous one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from gremio.core.models import Organisation
from gremio.members import movements, repeats
from gremio.members.models import Membership, MembershipPlan, ServiceDelivery


class Command(BaseCommand):
    help = (
        "Recompute how every membership of an organisation moved (renewal, lapse, resignation, "
        "runs of membership) and each service delivery's previous one for the company: after "
        "memberships or deliveries were written to the database by hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organisation's short name (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation has the short name “{options['org']}”.")
        with transaction.atomic():
            changed = movements.rebuild(Membership, MembershipPlan, organisation=organisation)
            deliveries = repeats.rebuild(ServiceDelivery, organisation_id=organisation.pk)
        self.stdout.write(
            f"{changed} memberships updated, {deliveries} services delivered updated."
        )
