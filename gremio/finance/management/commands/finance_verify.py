"""python manage.py finance_verify --org SLUG

Recomputes what the ledger keeps and checks what it promises: maintained
balances equal the sum of the posted lines, every posted entry balances,
entry and invoice numbers are gapless, documents' paid and allocated amounts
equal their allocations and payments, and the trial balance sums to zero.
Exits with 1 when anything differs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gremio.core.models import Organisation
from gremio.finance.verify import books_check, count_text, counted


class Command(BaseCommand):
    help = (
        "Check an organisation's books: balances recomputed from the posted lines, "
        "balanced entries, gapless entry and invoice numbers, paid and allocated amounts, "
        "the trial balance. Exits with 1 when anything differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's short name (slug).")
        parser.add_argument(
            "--language",
            choices=["es-mx", "en"],
            help="Language of the messages; the organisation's by default.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(
                _("No organisation has the short name “{slug}”.").format(slug=options["org"]),
                returncode=1,
            )
        with translation.override(options["language"] or organisation.language):
            self.stdout.write(
                _("Checking the books of {name} ({slug}).").format(
                    name=organisation.name, slug=organisation.slug
                )
            )
            problems = 0
            for check in books_check(organisation):
                found = len(check.problems) + check.more
                problems += found
                status = (
                    self.style.SUCCESS(_("ok"))
                    if not found
                    else self.style.ERROR(
                        counted(ngettext("{count} problem", "{count} problems", found), found)
                    )
                )
                self.stdout.write(f"{check.title} ({check.checked}): {status}")
                for problem in check.problems:
                    self.stdout.write(f"  - {problem}")
                if check.more:
                    self.stdout.write(
                        "  " + _("… and {count} more.").format(count=count_text(check.more))
                    )
            if problems:
                raise CommandError(
                    counted(
                        ngettext(
                            "The books have {count} problem.",
                            "The books have {count} problems.",
                            problems,
                        ),
                        problems,
                    ),
                    returncode=1,
                )
            self.stdout.write(self.style.SUCCESS(_("The books are consistent.")))
