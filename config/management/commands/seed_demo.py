"""Load the demo once (see config.demo) and print a login per role."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.demo import seed_demo
from handoff.errors import DomainError
from leads import demo


class Command(BaseCommand):
    help = (
        "Load demo users, accounts, leads and activity (only once), score every lead, "
        "staff the queues, play twelve weeks of hand-offs and route today's MQLs; "
        "print the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=demo.DEFAULT_LEADS)
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the app is served."
        )

    def handle(self, *args, leads: int, seed: int, url: str, **options) -> None:
        try:
            result = seed_demo(leads=leads, seed=seed)
        except DomainError as error:
            raise CommandError(error.message) from error
        data = result.data
        if data.loaded:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded demo data in {result.seconds:.1f} s: {data.users} users, "
                    f"{data.accounts:,} accounts, {data.leads:,} leads, "
                    f"{data.activities:,} activities; every lead scored, "
                    f"{result.mqls:,} MQL{'s' if result.mqls != 1 else ''} routed "
                    f"({result.waiting:,} waiting for a free SDR); "
                    f"{result.handed_off:,} hand-off{'s' if result.handed_off != 1 else ''} "
                    "of the last twelve weeks decided."
                )
            )
        else:
            self.stdout.write("Demo data is already loaded; nothing was added.")

        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"Open {url} and log in as:"))
        width = max(len(u.username) for u in demo.DEMO_USERS)
        role_width = max(len(u.role) for u in demo.DEMO_USERS)
        for user in demo.DEMO_USERS:
            self.stdout.write(
                f"  {user.role:<{role_width}}  {user.username:<{width}}  "
                f"password {demo.DEMO_PASSWORD}  - {user.does}"
            )
        self.stdout.write("")
