"""Demo data for a first look at Handoff: a user per role, accounts, leads and activity.

Everything comes from one ``random.Random(seed)``, so the same seed gives the
same people, companies and events (their times are relative to the moment of
loading). Rows are bulk-inserted in one transaction: the demo either loads
completely or not at all, which is what lets "the demo users exist" stand for
"the demo is loaded".

Leads are left at the initial stage and unscored: scoring and routing are their
own apps' work, which config.demo (the seed_demo command) does next through
their services. For the same reason no ``activities_recorded`` signal is sent;
a bulk load is followed by a full rescore, not by one rescore per lead.
"""

from __future__ import annotations

import math
import random
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from handoff import roles
from handoff.errors import DomainError
from leads.domains import is_personal_domain
from leads.models import Account, Activity, ActivityKind, Lead, LeadSource

DEFAULT_LEADS = 3000
DEFAULT_SEED = 1729
DEMO_PASSWORD = "handoff-demo"
# How far back the demo's activity goes; every event falls inside this window.
HISTORY = timedelta(days=90)
# Our own (fictional) company's website, where the page views happen.
SITE = "https://www.example.com"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str  # a role of handoff.roles, or "Superuser"
    does: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        username="sam.sdr", first_name="Sam", last_name="Reyes", role=roles.SDR,
        does="works the MQL queue (/queue/): accepts, rejects or recycles each lead",
    ),
    DemoUser(
        username="olivia.sdr", first_name="Olivia", last_name="Park", role=roles.SDR,
        does="a second SDR with her own accounts and queue; must not see Sam's leads",
    ),
    DemoUser(
        username="mo.ops", first_name="Mo", last_name="Okafor", role=roles.MARKETING_OPS,
        does="edits scoring models, sources and imports in the admin (/admin/)",
        is_staff=True,
    ),
    DemoUser(
        username="max.manager", first_name="Max", last_name="Lindqvist",
        role=roles.SALES_MANAGER,
        does="watches SLA breaches and conversion (/manager/), approves scoring models",
        is_staff=True,
    ),
    DemoUser(
        username="admin", first_name="", last_name="", role="Superuser",
        does="superuser: every page and everything in the admin",
        is_staff=True, is_superuser=True,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class DemoResult:
    loaded: bool  # False when the demo was already there and nothing was written
    users: int = 0
    accounts: int = 0
    leads: int = 0
    activities: int = 0
    seconds: float = 0.0


def demo_is_loaded() -> bool:
    return User.objects.filter(username__in=[u.username for u in DEMO_USERS]).exists()


def load_demo(
    *, leads: int = DEFAULT_LEADS, seed: int = DEFAULT_SEED, now: datetime | None = None
) -> DemoResult:
    """Load the demo users, ~leads/10 accounts, ``leads`` leads and their activity.

    Idempotent: when the demo users already exist nothing is written and
    ``loaded`` is False. Refuses (DomainError) to mix demo people into a
    database that already holds other leads. All or nothing: one transaction.
    """
    if leads < 1:
        raise DomainError("The demo needs at least one lead.", field="leads")
    started = time.perf_counter()
    with transaction.atomic():
        if demo_is_loaded():
            return DemoResult(loaded=False)
        if Lead.objects.exists():
            raise DomainError(
                "This database already holds leads; the demo loads only into an empty one."
            )
        builder = _DemoBuilder(rng=random.Random(seed), now=now or timezone.now())
        users = _create_users()
        sdrs = [users[u.username] for u in DEMO_USERS if u.role == roles.SDR]
        accounts = builder.accounts(count=max(3, round(leads / 10)), sdrs=sdrs)
        lead_rows = builder.leads(count=leads, accounts=accounts)
        activity_count = builder.activities(lead_rows)
    return DemoResult(
        loaded=True,
        users=len(users),
        accounts=len(accounts),
        leads=len(lead_rows),
        activities=activity_count,
        seconds=time.perf_counter() - started,
    )


def _create_users() -> dict[str, User]:
    validate_password(DEMO_PASSWORD)
    # One hash for all: hashing is deliberately slow, and these are demo logins.
    password = make_password(DEMO_PASSWORD)
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        user = User.objects.create(
            username=spec.username,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=f"{spec.username}@example.com",
            password=password,
            is_staff=spec.is_staff,
            is_superuser=spec.is_superuser,
        )
        if spec.role in groups:
            user.groups.add(groups[spec.role])
        users[spec.username] = user
    return users


# --- Vocabulary -------------------------------------------------------------
# Word lists stay in compact rows: one word per line would be 400 lines of noise.
# fmt: off

# country, weight, top-level domains, legal suffixes, phone prefix
COUNTRIES: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("United States", 38, (".com", ".com", ".io", ".co"), ("Inc.", "LLC", "Corp."), "+1"),
    ("United Kingdom", 12, (".co.uk", ".com", ".io"), ("Ltd", "plc"), "+44"),
    ("Germany", 10, (".de", ".com"), ("GmbH", "AG"), "+49"),
    ("France", 6, (".fr", ".com"), ("SAS", "SA"), "+33"),
    ("Netherlands", 5, (".nl", ".com"), ("B.V.",), "+31"),
    ("Canada", 5, (".ca", ".com"), ("Inc.", "Ltd"), "+1"),
    ("India", 5, (".in", ".com"), ("Pvt Ltd",), "+91"),
    ("Australia", 4, (".com.au",), ("Pty Ltd",), "+61"),
    ("Sweden", 3, (".se", ".com"), ("AB",), "+46"),
    ("Spain", 3, (".es", ".com"), ("S.L.", "S.A."), "+34"),
    ("Ireland", 2, (".ie", ".com"), ("Ltd",), "+353"),
    ("Brazil", 2, (".com.br",), ("Ltda.",), "+55"),
    ("Singapore", 2, (".sg", ".com"), ("Pte Ltd",), "+65"),
    ("Japan", 2, (".co.jp",), ("K.K.",), "+81"),
    ("Poland", 1, (".pl", ".com"), ("Sp. z o.o.",), "+48"),
)

# industry, weight, words that may follow the company's name
INDUSTRIES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Software", 22, ("Software", "Labs", "Systems", "Cloud", "")),
    ("Financial services", 10, ("Capital", "Finance", "Payments", "")),
    ("Healthcare", 8, ("Health", "Medical", "Care")),
    ("Manufacturing", 9, ("Industries", "Manufacturing", "Works", "")),
    ("Retail", 7, ("Retail", "Stores", "Commerce", "")),
    ("Professional services", 7, ("Consulting", "Partners", "Advisory")),
    ("Logistics", 5, ("Logistics", "Freight", "Shipping")),
    ("Telecommunications", 4, ("Telecom", "Networks", "")),
    ("Media", 4, ("Media", "Studios", "Publishing")),
    ("Education", 4, ("Learning", "Academy", "Education")),
    ("Insurance", 4, ("Insurance", "Assurance", "")),
    ("Energy", 3, ("Energy", "Power", "")),
    ("Real estate", 3, ("Properties", "Realty", "")),
    ("Hospitality", 3, ("Hotels", "Hospitality", "")),
    ("Public sector", 2, ("Agency", "Services", "")),
)

NAME_HEADS = (
    "North", "Blue", "Bright", "Iron", "Silver", "Red", "Green", "Clear", "Summit", "Cedar",
    "Harbor", "Pine", "Stone", "Swift", "Nova", "Alpine", "Atlas", "Beacon", "Cobalt", "Delta",
    "Ember", "Falcon", "Granite", "Helix", "Indigo", "Juniper", "Kestrel", "Lumen", "Maple",
    "Meridian", "Orbit", "Quartz", "River", "Sable", "Tidal", "Vertex", "Willow", "Zephyr",
    "Aurora", "Birch", "Copper", "Dune", "Echo", "Fjord", "Golden", "Horizon", "Lark", "Onyx",
)
NAME_TAILS = (
    "wind", "peak", "field", "bridge", "works", "stack", "line", "point", "gate", "wave",
    "path", "forge", "mark", "light", "stone", "ridge", "crest", "vale", "port", "leaf",
    "shore", "brook", "spark", "view", "", "", "",
)

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Daniel", "Karen", "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Emily", "Andrew", "Emma",
    "Oliver", "Sophie", "Lukas", "Hannah", "Jonas", "Lea", "Lucas", "Chloe", "Hugo", "Camille",
    "Daan", "Sanne", "Liam", "Aoife", "Arjun", "Priya", "Rahul", "Ananya", "Wei", "Mei", "Hiroshi",
    "Yuki", "Mateo", "Lucia", "Gabriel", "Ana", "Erik", "Astrid", "Jakub", "Zofia", "Noah", "Mia",
    "Ethan", "Zara", "Aisha", "Omar", "Fatima", "Kwame", "Amara", "Diego", "Valentina", "Sven",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson",
    "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois", "Laurent", "Bernard",
    "de Vries", "Jansen", "Bakker", "O'Brien", "Murphy", "Kelly", "Patel", "Sharma", "Gupta",
    "Iyer", "Chen", "Wang", "Li", "Tanaka", "Suzuki", "Sato", "Silva", "Santos", "Oliveira",
    "Andersson", "Johansson", "Nowak", "Kowalski", "Nguyen", "Kim", "Park", "Okafor", "Mensah",
    "Fernández", "González", "Rossi", "Novak", "Costa", "Ahmed",
)

# title, seniority, department, weight
TITLES: tuple[tuple[str, str, str, int], ...] = (
    ("Chief Executive Officer", "C-level", "Executive", 2),
    ("Chief Technology Officer", "C-level", "Engineering", 2),
    ("Chief Marketing Officer", "C-level", "Marketing", 2),
    ("Chief Revenue Officer", "C-level", "Sales", 1),
    ("Chief Financial Officer", "C-level", "Finance", 1),
    ("Founder", "Owner", "Executive", 2),
    ("VP of Sales", "VP", "Sales", 3),
    ("VP Marketing", "VP", "Marketing", 4),
    ("VP Engineering", "VP", "Engineering", 2),
    ("VP Operations", "VP", "Operations", 1),
    ("Head of Revenue Operations", "Director", "Operations", 3),
    ("Director of Demand Generation", "Director", "Marketing", 4),
    ("Sales Director", "Director", "Sales", 3),
    ("IT Director", "Director", "IT", 2),
    ("Director of Finance", "Director", "Finance", 1),
    ("Marketing Operations Manager", "Manager", "Marketing", 6),
    ("Demand Generation Manager", "Manager", "Marketing", 4),
    ("Sales Manager", "Manager", "Sales", 4),
    ("Product Manager", "Manager", "Product", 3),
    ("Engineering Manager", "Manager", "Engineering", 2),
    ("IT Manager", "Manager", "IT", 3),
    ("Customer Success Manager", "Manager", "Customer success", 2),
    ("HR Manager", "Manager", "Human resources", 1),
    ("Marketing Specialist", "Individual contributor", "Marketing", 6),
    ("Content Marketing Specialist", "Individual contributor", "Marketing", 3),
    ("Account Executive", "Individual contributor", "Sales", 4),
    ("Sales Development Representative", "Individual contributor", "Sales", 2),
    ("Software Engineer", "Individual contributor", "Engineering", 5),
    ("Data Analyst", "Individual contributor", "Operations", 3),
    ("Business Analyst", "Individual contributor", "Operations", 2),
    ("Consultant", "Individual contributor", "Consulting", 2),
    ("Marketing Coordinator", "Entry level", "Marketing", 2),
    ("Marketing Intern", "Entry level", "Marketing", 1),
    ("", "", "", 8),  # many forms do not ask for a title
)
# People who are not buyers: free-mail only, for the disqualifier rules to catch.
NON_BUYER_TITLES: tuple[tuple[str, str, str], ...] = (
    ("Student", "Student", ""),
    ("MBA Candidate", "Student", ""),
    ("Looking for new opportunities", "", ""),
)

FREE_MAIL = (
    ("gmail.com", 10), ("outlook.com", 3), ("yahoo.com", 3), ("hotmail.com", 2),
    ("icloud.com", 1), ("gmx.de", 1), ("web.de", 1), ("proton.me", 1), ("yahoo.co.uk", 1),
    ("orange.fr", 1),
)
FREE_MAIL_SHARE = 0.18
NON_BUYER_SHARE = 0.15  # of the free-mail leads

# slug, weight, details used as source_detail
SOURCES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("website", 24, ("Organic search", "Paid search", "Direct", "LinkedIn ad", "Referral")),
    ("inbound_form", 18, ("Contact us", "Free trial", "Newsletter signup")),
    ("content", 15, ("Ebook: The MQL Playbook", "Report: State of RevOps", "Scoring template")),
    ("webinar", 11, ("Webinar: Scoring that sales trusts", "Webinar: SLAs for SDR teams")),
    ("event_list_import", 10, ()),  # detail: the event, set per import
    ("trade_show_badge_scan", 8, ()),
    ("cold_list", 5, ("Purchased list Q2", "Conference sponsor list")),
    ("partner", 6, ("Referral: Brightpath Consulting", "Co-marketing: Stackline")),
    ("api", 3, ("CRM sync",)),
)
EVENTS = (
    "SaaStr Europa attendee list", "B2B Marketing Expo attendee list",
    "RevOps Summit attendee list", "Local meetup: Growth & Demand Gen",
)
TRADE_SHOWS = ("Web Summit booth scans", "Dreamforce booth scans", "DMEXCO booth scans")
# Sources whose people did not ask to hear from us engage less, on average.
LOW_INTENT_SOURCES = frozenset({"event_list_import", "trade_show_badge_scan", "cold_list"})

SITE_PAGES = (
    ("/", 10), ("/product", 8), ("/product/scoring", 5), ("/product/routing", 4),
    ("/product/sla", 3), ("/integrations", 3), ("/customers", 4), ("/blog/what-is-an-mql", 4),
    ("/blog/lead-scoring-decay", 3), ("/blog/sdr-follow-up-sla", 3), ("/security", 2),
    ("/about", 2), ("/docs/api", 2),
)
ASSETS = (
    ("The MQL Playbook", "ebook"), ("State of RevOps 2025", "report"),
    ("Lead scoring template", "template"), ("SLA design for SDR teams", "whitepaper"),
    ("Buyer's guide to lead routing", "ebook"), ("ROI calculator", "tool"),
)
WEBINARS = (
    "Scoring that sales trusts", "SLAs for SDR teams", "From MQL to pipeline",
    "Account-based scoring in practice",
)
CAMPAIGNS = (
    "Monthly newsletter", "Product update", "Nurture: scoring 101", "Nurture: routing",
    "Webinar invite", "Customer story: Stackline", "Event follow-up",
)
FORMS = (("contact", 4), ("newsletter", 5), ("free_trial", 2))

# temperature: weight, weight for low-intent sources, touches (min, max),
# recency skew (<1 pulls events toward now), chance of a demo request
TEMPERATURES: dict[str, tuple[int, int, tuple[int, int], float, float]] = {
    "hot": (3, 1, (20, 40), 0.35, 0.7),
    "warm": (12, 6, (6, 15), 0.6, 0.12),
    "lukewarm": (35, 30, (2, 7), 1.0, 0.0),
    "cold": (40, 48, (1, 4), 1.6, 0.0),
    "silent": (10, 15, (0, 0), 1.0, 0.0),
}
# touch type: weight by temperature (hot, warm, lukewarm, cold)
TOUCHES: dict[str, tuple[int, int, int, int]] = {
    "visit": (10, 8, 5, 3),
    "email": (5, 7, 8, 10),
    "content": (3, 3, 2, 1),
    "webinar": (2, 2, 1, 0),
    "form": (1, 1, 1, 0),
}

# fmt: on

BATCH_SIZE = 1000


# --- Builder ----------------------------------------------------------------


def _weighted(rng: random.Random, items: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Müller' -> 'muller'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


class _DemoBuilder:
    """Builds and bulk-inserts the demo rows; one instance per load."""

    def __init__(self, *, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        self.start = now - HISTORY
        self.sources = {s.slug: s for s in LeadSource.objects.all()}
        self.emails: set[str] = set()
        self.event_seq = 0
        # One import date per event list and trade show: a list arrives as one batch.
        self.imports = {name: self._moment(0.05, 0.9) for name in (*EVENTS, *TRADE_SHOWS)}

    def _moment(self, low: float, high: float) -> datetime:
        """A time between the given fractions of the history window."""
        return self.start + HISTORY * self.rng.uniform(low, high)

    # -- accounts --

    def accounts(self, *, count: int, sdrs: Sequence[User]) -> list[Account]:
        rng = self.rng
        domains: set[str] = set()
        rows: list[Account] = []
        for _ in range(count):
            country, _w, tlds, legal, _p = _weighted(rng, COUNTRIES, [c[1] for c in COUNTRIES])
            industry, _w, words = _weighted(rng, INDUSTRIES, [i[1] for i in INDUSTRIES])
            name, domain = self._company_name(tlds=tlds, words=words, taken=domains)
            domains.add(domain)
            employees = self._employee_count()
            revenue = None
            if rng.random() < 0.85:
                revenue = Decimal(round(employees * rng.uniform(80_000, 400_000), -3))
            funded = None
            if rng.random() < 0.22:
                funded = (self.now - timedelta(days=rng.randint(10, 900))).date()
            rows.append(
                Account(
                    name=f"{name} {rng.choice(legal)}",
                    domain=domain,
                    industry=industry,
                    employee_count=employees,
                    annual_revenue=revenue,
                    country=country,
                    last_funding_date=funded,
                )
            )
        self._assign_owners_and_targets(rows, sdrs)
        return Account.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    def _company_name(
        self, *, tlds: Sequence[str], words: Sequence[str], taken: set[str]
    ) -> tuple[str, str]:
        rng = self.rng
        for attempt in range(100):
            base = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS)
            word = rng.choice(words)
            name = f"{base} {word}".strip()
            stem = _slug(base) if rng.random() < 0.6 or not word else _slug(name)
            if attempt > 10:
                stem = f"{stem}{_slug(word) or 'group'}{attempt}"
            domain = stem + rng.choice(tlds)
            if domain not in taken and not is_personal_domain(domain):
                return name, domain
        raise RuntimeError("Ran out of demo company names.")  # pragma: no cover

    def _employee_count(self) -> int:
        # Many small companies, a long tail of large ones (log-uniform per band).
        low, high = _weighted(
            self.rng,
            [(2, 50), (51, 200), (201, 1000), (1001, 5000), (5001, 80_000)],
            [30, 26, 22, 13, 9],
        )
        return round(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    def _assign_owners_and_targets(self, rows: list[Account], sdrs: Sequence[User]) -> None:
        rng = self.rng
        # Named accounts are mostly the larger ones, and each has an owner.
        by_size = sorted(rows, key=lambda a: a.employee_count or 0, reverse=True)
        targets = max(1, round(len(rows) * 0.05))
        for account in rng.sample(by_size[: max(targets, len(rows) // 4)], targets):
            account.is_target_account = True
            account.owner = rng.choice(sdrs)
        for account in rows:
            if account.owner is None and rng.random() < 0.15:
                account.owner = rng.choice(sdrs)

    # -- leads --

    def leads(self, *, count: int, accounts: Sequence[Account]) -> list[Lead]:
        rng = self.rng
        free_mail = round(count * FREE_MAIL_SHARE)
        corporate = count - free_mail
        # Every account gets one lead, the rest follow a long tail: a few
        # accounts with dozens of people, most with one to five.
        weights = [
            min(rng.paretovariate(1.5), 25.0) * math.log10((a.employee_count or 10) + 10)
            for a in accounts
        ]
        homes: list[Account | None] = list(accounts[:corporate])
        homes += rng.choices(accounts, weights=weights, k=max(0, corporate - len(homes)))
        homes += [None] * free_mail
        rng.shuffle(homes)

        built = [self._lead(account) for account in homes]
        rows = Lead.objects.bulk_create([lead for lead, _ in built], batch_size=BATCH_SIZE)
        # created_at is auto_now_add, so bulk_create stamped every row "now";
        # put each lead back at its arrival time (bulk_update does not re-stamp).
        for lead, (_, created) in zip(rows, built, strict=True):
            lead.created_at = lead.updated_at = created
        Lead.objects.bulk_update(rows, ["created_at", "updated_at"], batch_size=500)
        first_lead = {}
        for lead in rows:
            if lead.account_id and lead.created_at < first_lead.get(lead.account_id, self.now):
                first_lead[lead.account_id] = lead.created_at
        for account in accounts:
            account.created_at = account.updated_at = first_lead.get(account.pk, self.start)
        Account.objects.bulk_update(accounts, ["created_at", "updated_at"], batch_size=500)
        return rows

    def _lead(self, account: Account | None) -> tuple[Lead, datetime]:
        """An unsaved lead and the moment it arrived."""
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        source_slug, _w, details = _weighted(rng, SOURCES, [s[1] for s in SOURCES])
        if source_slug == "event_list_import":
            detail = rng.choice(EVENTS)
        elif source_slug == "trade_show_badge_scan":
            detail = rng.choice(TRADE_SHOWS)
        else:
            detail = rng.choice(details)
        created = self.imports.get(detail) or self._moment(0.0, 0.995)

        if account is not None:
            title, seniority, department, _w = _weighted(rng, TITLES, [t[3] for t in TITLES])
            email = self._unique_email(self._company_local_part(first, last), account.domain)
            country = account.country if rng.random() < 0.9 else self._country()
            company = account.name
            # The account owner owns its people, so each SDR has leads in view.
            owner_id = account.owner_id
        else:
            if rng.random() < NON_BUYER_SHARE:
                title, seniority, department = rng.choice(NON_BUYER_TITLES)
            else:
                title, seniority, department, _w = _weighted(rng, TITLES, [t[3] for t in TITLES])
            domain = _weighted(rng, [d for d, _ in FREE_MAIL], [w for _, w in FREE_MAIL])
            local = f"{_slug(first)}.{_slug(last)}{rng.randint(1, 99)}"
            email = self._unique_email(local, domain)
            country = self._country()
            # Half type a company into the form; it joins no account either way.
            company = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS) if rng.random() < 0.5 else ""
            owner_id = None

        lead = Lead(
            email=email,
            first_name=first,
            last_name=last,
            title=title,
            seniority=seniority,
            department=department,
            phone=self._phone(country) if rng.random() < 0.35 else "",
            country=country,
            company_name=company,
            account=account,
            source=self.sources[source_slug],
            source_detail=detail,
            owner_id=owner_id,
            do_not_contact=rng.random() < 0.01,
        )
        return lead, created

    def _company_local_part(self, first: str, last: str) -> str:
        f, la = _slug(first), _slug(last)
        pattern = _weighted(self.rng, ["first.last", "flast", "first", "firstl"], [6, 3, 1, 1])
        return {
            "first.last": f"{f}.{la}",
            "flast": f"{f[0]}{la}",
            "first": f,
            "firstl": f"{f}{la[0]}",
        }[pattern]

    def _unique_email(self, local: str, domain: str) -> str:
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def _country(self) -> str:
        return _weighted(self.rng, [c[0] for c in COUNTRIES], [c[1] for c in COUNTRIES])

    def _phone(self, country: str) -> str:
        prefix = next(c[4] for c in COUNTRIES if c[0] == country)
        if prefix == "+1":
            return f"+1 555 01{self.rng.randint(0, 99):02d}"  # reserved for fiction
        return f"{prefix} {self.rng.randint(100, 999)} {self.rng.randint(100000, 999999)}"

    # -- activities --

    def activities(self, leads: Sequence[Lead]) -> int:
        """Generate and insert every lead's events; returns how many."""
        total = 0
        batch: list[Activity] = []
        for lead in leads:
            batch.extend(self._lead_activities(lead))
            if len(batch) >= 5 * BATCH_SIZE:
                total += len(Activity.objects.bulk_create(batch, batch_size=BATCH_SIZE))
                batch = []
        if batch:
            total += len(Activity.objects.bulk_create(batch, batch_size=BATCH_SIZE))
        return total

    def _lead_activities(self, lead: Lead) -> list[Activity]:
        rng = self.rng
        names = list(TEMPERATURES)
        column = 1 if lead.source.slug in LOW_INTENT_SOURCES else 0
        temperature = _weighted(rng, names, [TEMPERATURES[n][column] for n in names])
        _w, _wl, (low, high), skew, demo_chance = TEMPERATURES[temperature]
        touches = rng.randint(low, high)
        if not touches:
            return []
        tindex = names.index(temperature)
        touch_kinds = list(TOUCHES)
        touch_weights = [TOUCHES[k][min(tindex, 3)] for k in touch_kinds]
        non_buyer = lead.seniority == "Student" or lead.title.startswith("Looking")
        events: list[Activity] = []
        for _ in range(touches):
            at = self._touch_time(lead.created_at, skew)
            kind = _weighted(rng, touch_kinds, touch_weights)
            events += getattr(self, f"_touch_{kind}")(lead, at, temperature, non_buyer)
        if rng.random() < demo_chance:
            at = self._touch_time(lead.created_at, 0.3)
            events.append(self._event(lead, ActivityKind.PRICING_PAGE_VIEW, at, url="/pricing"))
            events.append(
                self._event(
                    lead,
                    ActivityKind.DEMO_REQUEST,
                    at + timedelta(minutes=rng.randint(1, 20)),
                    url="/demo",
                    properties={"form": "demo"},
                )
            )
        return [e for e in events if self.start < e.occurred_at < self.now]

    def _touch_time(self, since: datetime, skew: float) -> datetime:
        # u ** skew: skew < 1 pulls events toward now (a hot lead is hot lately).
        span = self.now - since
        return since + span * (self.rng.random() ** skew)

    def _touch_visit(
        self, lead: Lead, at: datetime, temperature: str, non_buyer: bool
    ) -> list[Activity]:
        rng = self.rng
        pages = [p for p, _ in SITE_PAGES]
        weights = [w for _, w in SITE_PAGES]
        events = []
        for _ in range(rng.randint(1, 6 if temperature in ("hot", "warm") else 3)):
            if non_buyer and rng.random() < 0.5:
                path = "/careers"
            else:
                path = _weighted(rng, pages, weights)
            events.append(self._event(lead, ActivityKind.PAGE_VIEW, at, url=path))
            at += timedelta(seconds=rng.randint(15, 240))
        pricing = {"hot": 0.6, "warm": 0.3, "lukewarm": 0.06, "cold": 0.02}[temperature]
        if rng.random() < pricing:
            events.append(self._event(lead, ActivityKind.PRICING_PAGE_VIEW, at, url="/pricing"))
        return events

    def _touch_email(
        self, lead: Lead, at: datetime, temperature: str, non_buyer: bool
    ) -> list[Activity]:
        rng = self.rng
        props = {"campaign": rng.choice(CAMPAIGNS)}
        events = [self._event(lead, ActivityKind.EMAIL_OPEN, at, properties=props)]
        if rng.random() < 0.2:  # opened again later
            at += timedelta(hours=rng.randint(1, 48))
            events.append(self._event(lead, ActivityKind.EMAIL_OPEN, at, properties=props))
        click = {"hot": 0.5, "warm": 0.35, "lukewarm": 0.15, "cold": 0.05}[temperature]
        if rng.random() < click:
            at += timedelta(minutes=rng.randint(0, 30))
            path = rng.choice(("/blog/what-is-an-mql", "/product/scoring", "/customers"))
            events.append(
                self._event(lead, ActivityKind.EMAIL_CLICK, at, url=path, properties=props)
            )
        elif temperature == "cold" and rng.random() < 0.03:
            events.append(self._event(lead, ActivityKind.EMAIL_UNSUBSCRIBE, at, properties=props))
        return events

    def _touch_content(
        self, lead: Lead, at: datetime, temperature: str, non_buyer: bool
    ) -> list[Activity]:
        asset, asset_type = self.rng.choice(ASSETS)
        slug = asset.lower().replace(" ", "-").replace("'", "")
        return [
            self._event(lead, ActivityKind.PAGE_VIEW, at, url=f"/resources/{slug}"),
            self._event(
                lead,
                ActivityKind.CONTENT_DOWNLOAD,
                at + timedelta(seconds=40),
                url=f"/resources/{slug}",
                properties={"asset": asset, "asset_type": asset_type},
            ),
        ]

    def _touch_webinar(
        self, lead: Lead, at: datetime, temperature: str, non_buyer: bool
    ) -> list[Activity]:
        rng = self.rng
        title = rng.choice(WEBINARS)
        held = at + timedelta(days=rng.randint(1, 14))
        props = {"webinar": title, "webinar_date": held.date().isoformat()}
        events = [
            self._event(
                lead, ActivityKind.WEBINAR_REGISTRATION, at, url="/webinars", properties=props
            )
        ]
        if held < self.now and rng.random() < {"hot": 0.8, "warm": 0.5}.get(temperature, 0.3):
            events.append(
                self._event(lead, ActivityKind.WEBINAR_ATTENDANCE, held, properties=props)
            )
        return events

    def _touch_form(
        self, lead: Lead, at: datetime, temperature: str, non_buyer: bool
    ) -> list[Activity]:
        form = _weighted(self.rng, [f for f, _ in FORMS], [w for _, w in FORMS])
        path = {"contact": "/contact", "newsletter": "/blog", "free_trial": "/trial"}[form]
        props = {"form": form}
        return [self._event(lead, ActivityKind.FORM_SUBMIT, at, url=path, properties=props)]

    def _event(
        self,
        lead: Lead,
        kind: str,
        at: datetime,
        *,
        url: str = "",
        properties: dict[str, Any] | None = None,
    ) -> Activity:
        self.event_seq += 1
        if kind.startswith("email_"):
            system = "marketing_automation"
        elif kind.startswith("webinar_"):
            system = "webinar_platform"
        else:
            system = "website"
        return Activity(
            lead_id=lead.pk,
            kind=kind,
            url=f"{SITE}{url}" if url else "",
            properties=properties or {},
            occurred_at=at,
            source_system=system,
            external_id=f"demo-{self.event_seq:08d}",
        )
