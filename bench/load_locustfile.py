"""The traffic of bench.load, for locust (run by bench.load as a subprocess:
locust's gevent must not patch the Django process that sets up and checks).

Three kinds of users, each at a steady pace (locust's constant_throughput, so
the rate stays the same while answers are quick, and falls if they are not):

- integrations POST activity events: single events, and now and then a batch
  of 100 (as a CRM sync does), each with a unique external id;
- SDRs, logged in through /login/ like a person, open My MQLs and their leads;
- API readers page through leads, scores and assignments with the token.

Everything the users need (token, logins, lead ids and emails) comes from the
JSON plan named by BENCH_LOAD_PLAN; what happened (every latency, every
status, events accepted) goes to the JSON named by BENCH_LOAD_OUT when locust
quits. It stops by itself: locust's --run-time, and BENCH_LOAD_MAX_REQUESTS.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, constant_throughput, events, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text())
OUT = os.environ["BENCH_LOAD_OUT"]
MAX_REQUESTS = int(PLAN["max_requests"])

# Request names, one per kind of traffic as the report groups them (locust
# shows the method beside them). bench.load reports every name but the login's.
EVENT, BATCH = "/api/activities/ (1 event)", "/api/activities/ (100 events)"
QUEUE, LEAD_PAGE = "/queue/", "/queue/<assignment>/"
API_LEADS, API_SCORES, API_ASSIGNMENTS = "/api/leads/", "/api/scores/", "/api/assignments/"
LOGIN = "/login/"

# Kinds of events by weight, as marketing tools send them (a few that score high).
KINDS = [
    ("page_view", 50),
    ("email_open", 15),
    ("email_click", 8),
    ("content_download", 8),
    ("pricing_page_view", 8),
    ("webinar_registration", 4),
    ("form_submit", 4),
    ("demo_request", 3),
]
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# What happened. One locust process, one thread of greenlets: no locks needed.
latencies: dict[str, list[float]] = defaultdict(list)  # ms, per request name
statuses: dict[str, Counter] = defaultdict(Counter)  # status (0: no answer) per name
per_second: Counter = Counter()  # requests started in each whole second
ingest = Counter()  # events sent / received / stored / duplicates, from the answers
first_error: dict[str, str] = {}
state = {
    "requests": 0,
    "user_errors": 0,
    "quitting": False,
    "started": None,
    "ended": None,
    "logged_in": 0,
    "all_logged_in": None,
}


@events.request.add_listener
def record(
    request_type,
    name,
    response_time,
    response_length,
    response=None,
    exception=None,
    start_time=None,
    **kwargs,
) -> None:
    status = getattr(response, "status_code", 0) or 0
    latencies[name].append(response_time)
    statuses[name][status] += 1
    started = start_time or time.time()
    per_second[int(started)] += 1
    state["started"] = min(state["started"] or started, started)
    state["ended"] = max(state["ended"] or 0, started + response_time / 1000)
    if (exception is not None or status >= 400) and name not in first_error:
        body = getattr(response, "text", "") or ""
        first_error[name] = f"{status} {exception or ''} {body[:300]}".strip()
    state["requests"] += 1
    if state["requests"] >= MAX_REQUESTS and not state["quitting"]:
        # Bounded in count as well as in time: stop the whole run, gracefully
        # (tasks under way finish, within --stop-timeout).
        state["quitting"] = True
        gevent.spawn(_environment.runner.quit)


_environment = None


@events.user_error.add_listener
def record_user_error(user_instance, exception, tb, **kwargs) -> None:
    state["user_errors"] += 1
    first_error.setdefault("user error", repr(exception)[:300])


@events.init.add_listener
def keep_environment(environment, **kwargs) -> None:
    global _environment
    _environment = environment


@events.quitting.add_listener
def write_results(environment, **kwargs) -> None:
    with open(OUT, "w") as f:
        json.dump(
            {
                "names": [EVENT, BATCH, QUEUE, LEAD_PAGE, API_LEADS, API_SCORES, API_ASSIGNMENTS],
                "latencies_ms": latencies,
                "statuses": {k: dict(v) for k, v in statuses.items()},
                "per_second": dict(per_second),
                "events": dict(ingest),
                "first_error": first_error,
                "requests": state["requests"],
                "user_errors": state["user_errors"],
                "stopped_by_count": state["quitting"],
                "started": state["started"],
                "ended": state["ended"],
                "all_logged_in": state["all_logged_in"],
            },
            f,
        )


def _counted(response, expected: tuple[int, ...]) -> None:
    """Marks an answer with an unexpected status as a failure in locust's stats."""
    if response.status_code not in expected:
        response.failure(f"{response.status_code}")
    else:
        response.success()


class Integration(FastHttpUser):
    """A marketing tool or the CRM pushing events with its token."""

    fixed_count = int(PLAN["integrations"])
    wait_time = constant_throughput(float(PLAN["integration_rate"]))
    leads: list[list] = PLAN["event_leads"]  # [id, email], hottest first

    def on_start(self) -> None:
        self.headers = {"Authorization": PLAN["authorization"], "Content-Type": "application/json"}
        self.prefix = f"{PLAN['run']}-{id(self):x}"
        self.sent = 0
        self.rng = random.Random(id(self))

    def _event(self) -> dict:
        # A few leads are busy and most are quiet: the index of a lead is drawn
        # from a skewed distribution over the list.
        lead_id, email = self.leads[int(len(self.leads) * self.rng.random() ** 2)]
        kind = self.rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        self.sent += 1
        ref = {"lead": lead_id} if self.sent % 3 == 0 else {"lead_email": email}
        return {
            **ref,
            "kind": kind,
            "url": f"https://www.bench-vendor.example/{kind}/{self.sent % 40}",
            "properties": {"utm_source": ("newsletter", "ads", "organic")[self.sent % 3]},
            "occurred_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
            "source_system": PLAN["source_system"],
            "external_id": f"{self.prefix}-{self.sent}",
        }

    def _post(self, name: str, body: list[dict] | dict) -> None:
        count = len(body) if isinstance(body, list) else 1
        ingest["sent"] += count
        with self.client.post(
            "/api/activities/",
            data=json.dumps(body),
            headers=self.headers,
            name=name,
            catch_response=True,
        ) as response:
            _counted(response, (200, 201))
            if response.status_code in (200, 201):
                answer = response.json()
                for key in ("received", "stored", "duplicates"):
                    ingest[key] += answer[key]
                ingest["answered"] += count

    @task(19)
    def single_event(self) -> None:
        self._post(EVENT, self._event())

    @task(1)
    def batch(self) -> None:
        self._post(BATCH, [self._event() for _ in range(100)])


class Sdr(FastHttpUser):
    """An SDR working My MQLs in the browser: the list, then a lead's page."""

    fixed_count = len(PLAN["sdrs"])
    wait_time = constant_throughput(float(PLAN["sdr_rate"]))
    _next = iter(range(10**6))

    def on_start(self) -> None:
        me = PLAN["sdrs"][next(Sdr._next) % len(PLAN["sdrs"])]
        self.assignment_ids = me["assignment_ids"]
        self.rng = random.Random(me["username"])
        form = self.client.get("/login/", name=LOGIN)
        match = _CSRF.search(form.text or "")
        if form.status_code != 200 or match is None:
            raise StopUser()
        with self.client.post(
            "/login/",
            name=LOGIN,
            allow_redirects=False,
            catch_response=True,
            data=urlencode(
                {
                    "username": me["username"],
                    "password": me["password"],
                    "csrfmiddlewaretoken": match.group(1),
                }
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response:
            _counted(response, (302,))
        if response.status_code != 302:
            raise StopUser()
        # The steady state starts once every SDR is in: a login hashes the
        # password, on purpose slowly, and holds a web worker meanwhile.
        state["logged_in"] += 1
        state["all_logged_in"] = time.time() if state["logged_in"] == len(PLAN["sdrs"]) else None

    @task(1)
    def queue(self) -> None:
        with self.client.get("/queue/", name=QUEUE, catch_response=True) as response:
            _counted(response, (200,))

    @task(2)
    def lead_page(self) -> None:
        pk = self.rng.choice(self.assignment_ids)
        with self.client.get(f"/queue/{pk}/", name=LEAD_PAGE, catch_response=True) as response:
            _counted(response, (200,))


class ApiReader(FastHttpUser):
    """A reporting job or the CRM reading through the API with the token."""

    fixed_count = int(PLAN["readers"])
    wait_time = constant_throughput(float(PLAN["reader_rate"]))

    def on_start(self) -> None:
        self.headers = {"Authorization": PLAN["authorization"]}
        self.rng = random.Random(id(self))

    def _page(self, path: str, name: str, pages: int) -> None:
        # Mostly the first pages (the newest), sometimes deep in the list.
        page = self.rng.randint(1, 5) if self.rng.random() < 0.7 else self.rng.randint(1, pages)
        with self.client.get(
            f"{path}?page={min(page, pages)}", name=name, headers=self.headers, catch_response=True
        ) as response:
            _counted(response, (200,))

    @task(2)
    def leads(self) -> None:
        self._page("/api/leads/", API_LEADS, PLAN["pages"]["leads"])

    @task(2)
    def scores(self) -> None:
        self._page("/api/scores/", API_SCORES, PLAN["pages"]["scores"])

    @task(1)
    def assignments(self) -> None:
        self._page("/api/assignments/", API_ASSIGNMENTS, PLAN["pages"]["assignments"])
