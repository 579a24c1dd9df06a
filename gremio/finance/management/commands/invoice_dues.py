"""python manage.py invoice_dues --org SLUG --month 2026-01 [--commit]"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from gremio.core.changelog import change_context
from gremio.core.models import Organisation
from gremio.finance.billing import dues_invoice_batch, dues_to_bill


def month(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value}-01" if len(value) == 7 else value).replace(day=1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month (YYYY-MM).") from exc


class Command(BaseCommand):
    help = (
        "Issue the dues invoices of every membership whose billing interval starts in a "
        "month. Without --commit it only prints what it would bill; a second run bills "
        "nobody twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's short name (slug).")
        parser.add_argument("--month", required=True, type=month, help="The month, as 2026-01.")
        parser.add_argument("--commit", action="store_true", help="Issue the invoices.")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(
                _("No organisation has the short name “{slug}”.").format(slug=options["org"])
            )
        with translation.override(organisation.language):
            todo, already = dues_to_bill(organisation=organisation, month=options["month"])
            self.stdout.write(
                _("{count} intervals to bill, {already} already billed.").format(
                    count=len(todo), already=already
                )
            )
            if not options["commit"]:
                return
            try:
                with change_context(label="invoice_dues"):
                    result = dues_invoice_batch(organisation=organisation, month=options["month"])
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            self.stdout.write(
                _("{issued} invoices issued, total {total}.").format(
                    issued=result.issued, total=result.total
                )
            )
