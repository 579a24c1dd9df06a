"""python manage.py export_journal --org SLUG [--format ledger] [--output FILE] [--from D --to D]"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from gremio.core.models import Organisation
from gremio.finance.ledger_export import journal_write


def day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        # argparse shows this message after the option's name, also on the command line.
        raise argparse.ArgumentTypeError(
            _("{value} is not a date (YYYY-MM-DD).").format(value=repr(value))
        ) from exc


class Command(BaseCommand):
    help = (
        "Write every posted journal entry, in date and number order, as a plain-text "
        "journal that hledger and Ledger read (hledger -f FILE check; hledger -f FILE bal)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's short name (slug).")
        parser.add_argument(
            "--format", choices=("ledger",), default="ledger", help="ledger: hledger and Ledger."
        )
        parser.add_argument("--output", help="The file to write; standard output by default.")
        parser.add_argument("--from", dest="date_from", type=day, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", type=day, help="Last day, YYYY-MM-DD.")
        parser.add_argument(
            "--language",
            choices=["es-mx", "en"],
            help="Language of the pillar names; the organisation's by default.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(
                _("No organisation has the short name “{slug}”.").format(slug=options["org"])
            )
        date_from, date_to = options["date_from"], options["date_to"]
        if date_from and date_to and date_from > date_to:
            raise CommandError(_("--from must not be after --to."))
        with translation.override(options["language"] or organisation.language):
            if not options["output"]:
                try:
                    journal_write(
                        organisation=organisation,
                        stream=self.stdout,
                        date_from=date_from,
                        date_to=date_to,
                    )
                except BrokenPipeError:
                    # The reader (head, a pager) stopped early: not an error. Python would
                    # report the pipe again when it flushes stdout at exit.
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
            path = Path(options["output"])
            try:
                with path.open("w", encoding="utf-8", newline="\n") as handle:
                    result = journal_write(
                        organisation=organisation,
                        stream=handle,
                        date_from=date_from,
                        date_to=date_to,
                    )
            except OSError as exc:
                raise CommandError(
                    _("{file} cannot be written: {error}").format(file=path, error=exc.strerror)
                ) from exc
            self.stdout.write(
                _("{entries} entries ({lines} lines) written to {file}.").format(
                    entries=result.entries, lines=result.lines, file=path
                )
            )
