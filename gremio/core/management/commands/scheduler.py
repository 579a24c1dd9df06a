import time

from django.core.management.base import BaseCommand

from gremio.core.jobs import SCHEDULES, scheduler_tick


class Command(BaseCommand):
    help = "Enqueue daily and monthly jobs when they fall due (run beside the worker)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Check once and exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between checks.")

    def handle(self, *args, **options):
        self.stdout.write(f"Schedules: {', '.join(sorted(SCHEDULES)) or 'none'}")
        while True:
            for name in scheduler_tick():
                self.stdout.write(f"Enqueued {name}")
            if options["once"]:
                return
            time.sleep(options["interval"])
