"""What the benchmarks share: a gunicorn to talk to, the leads and the token
the events need, HTTP clients on loopback, and the arithmetic of the results.

Import it only after Django is set up (bench.run does that first).
"""

from __future__ import annotations

import http.client
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.contrib.auth.models import Group, User
from django.db import connection

from bench.report import Report
from handoff import roles, tokens
from handoff.models import ApiTokenScope
from leads.models import Lead, LeadSource

RESULTS_DIR = Path(__file__).resolve().parent / "results"
HOST = "127.0.0.1"  # loopback only: nothing here listens on or talks to anything else

# 2 cores run gunicorn, PostgreSQL and the load generator at once: one worker
# per core plus one to cover the time a worker waits on PostgreSQL.
DEFAULT_WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))

BENCH_USER = "bench-integration"


# --- Data -------------------------------------------------------------------


def lead_email(i: int) -> str:
    return f"person{i}@bench-corp{i % 997}.example"


def lead_external_id(i: int) -> str:
    return f"bench-crm-{i}"


def ensure_leads(count: int) -> list[int]:
    """``count`` leads numbered 0..count-1 (email and external id from the
    number), created in bulk if missing. Returns their ids, in number order."""
    existing = dict(
        Lead.objects.filter(external_id__startswith="bench-crm-").values_list("external_id", "pk")
    )
    missing = [i for i in range(count) if lead_external_id(i) not in existing]
    if missing:
        source = LeadSource.objects.get(slug="inbound_form")
        Lead.objects.bulk_create(
            [
                Lead(
                    email=lead_email(i),
                    external_id=lead_external_id(i),
                    source=source,
                    first_name="Bench",
                    last_name=str(i),
                    company_name=f"Bench Corp {i % 997}",
                )
                for i in missing
            ],
            batch_size=2000,
        )
        existing = dict(
            Lead.objects.filter(external_id__startswith="bench-crm-").values_list(
                "external_id", "pk"
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Lead._meta.db_table}")
    return [existing[lead_external_id(i)] for i in range(count)]


def lead_ref(n: int, lead_number: int, lead_ids: list[int]) -> dict[str, Any]:
    """How event ``n`` names its lead: by email (3 in 5), external id or id (1 in 5 each),
    as integrations do, so that all three lookups are on the path being measured."""
    kind = n % 5
    if kind == 3:
        return {"lead_external_id": lead_external_id(lead_number)}
    if kind == 4:
        return {"lead": lead_ids[lead_number]}
    return {"lead_email": lead_email(lead_number)}


def integration_token() -> str:
    """A new API key (every scope) of a user in the Integration group, as an
    integration would hold it; ready for ``auth_headers``."""
    user, _ = User.objects.get_or_create(username=BENCH_USER)
    user.groups.add(Group.objects.get(name=roles.INTEGRATION))
    return tokens.issue_token(name="Benchmark", scopes=ApiTokenScope.values, user=user, by=None).key


def truncate_activities() -> None:
    from leads.models import Activity

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Activity._meta.db_table} RESTART IDENTITY")
        cursor.execute("CHECKPOINT")


def checkpoint() -> None:
    """Flush dirty pages now, so that a timed phase does not pay for an earlier one."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


# --- gunicorn ---------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(
    *, name: str, workers: int = DEFAULT_WORKERS, ready_timeout: float = 60
) -> Iterator[Server]:
    """A gunicorn serving Handoff on loopback; yields its URL and pid, stops it on exit."""
    port = free_port()
    RESULTS_DIR.mkdir(exist_ok=True)
    log = RESULTS_DIR / f"{name}.gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base_url = f"http://{HOST}:{port}"
    try:
        _wait_until_ready(process, base_url, ready_timeout, log)
        yield Server(base_url, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen, base_url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            # Unauthenticated, so 401: any answer below 500 means Django is serving.
            if httpx.get(f"{base_url}/api/activities/", timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {log}")


def warm_up(base_url: str, token: str, lead_id: int, *, workers: int) -> None:
    """A few requests per worker, so that first-request imports are not timed.
    Their events go to source system 'bench-warmup', which no check counts."""
    with httpx.Client(base_url=base_url, headers=auth_headers(token), timeout=30) as client:
        for i in range(workers * 5):
            response = client.post(
                "/api/activities/",
                json={
                    "lead": lead_id,
                    "kind": "page_view",
                    "occurred_at": "2026-01-01T00:00:00Z",
                    "source_system": "bench-warmup",
                    "external_id": f"warm-{time.time_ns()}-{i}",
                },
            )
            response.raise_for_status()


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


# --- Load ---------------------------------------------------------------------


@dataclass
class Outcome:
    """What one request got: its latency (s), status (0 on a transport error) and body."""

    latency: float
    status: int
    body: Any = None


@dataclass
class LoadResult:
    elapsed: float
    outcomes: list[Outcome] = field(default_factory=list)
    stopped_by_time: bool = False

    @property
    def latencies(self) -> list[float]:
        return [o.latency for o in self.outcomes]


def post_concurrently(
    base_url: str,
    token: str,
    bodies: list[bytes],
    *,
    clients: int,
    time_limit: float,
    keep_body: Callable[[int], bool] = lambda status: True,
    path: str = "/api/activities/",
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """POST each pre-encoded body to ``path`` from ``clients`` threads, each
    with its own connection, until all are sent or ``time_limit`` seconds passed."""
    work: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        work.put(body)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + time_limit
    timed_out = threading.Event()

    # http.client rather than httpx: the load generator shares the two cores with
    # the server, and http.client costs it about a third of the CPU per request.
    parsed = urlsplit(base_url)
    headers = headers or auth_headers(token)

    def client_loop() -> None:
        mine: list[Outcome] = []
        conn: http.client.HTTPConnection | None = None
        while True:
            if time.perf_counter() >= deadline:
                timed_out.set()
                break
            try:
                body = work.get_nowait()
            except queue.Empty:
                break
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                status, data = response.status, response.read()
                if response.will_close:  # gunicorn's sync workers close after each answer
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                status, data = 0, repr(exc).encode()
                if conn is not None:
                    conn.close()
                    conn = None
            mine.append(
                Outcome(time.perf_counter() - t0, status, data if keep_body(status) else None)
            )
        if conn is not None:
            conn.close()
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(time.perf_counter() - start, outcomes, timed_out.is_set())


def post_at_rate(
    base_url: str,
    token: str,
    bodies: list[bytes],
    *,
    rate: float,
    senders: int = 32,
    time_limit: float = 60.0,
) -> LoadResult:
    """POST the bodies at a steady ``rate`` per second, whatever the answers' pace
    (an open loop, as independent integrations send). Each latency runs from the
    moment the request was due, so a server that falls behind shows it. Requests
    still unsent after ``time_limit`` seconds are not sent (stopped_by_time)."""
    parsed = urlsplit(base_url)
    headers = auth_headers(token)
    start = time.perf_counter() + 0.2
    due: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()
    for n, body in enumerate(bodies):
        due.put((start + n / rate, body))
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    deadline = start + time_limit
    timed_out = threading.Event()

    def sender() -> None:
        mine: list[Outcome] = []
        while True:
            if time.perf_counter() >= deadline:
                timed_out.set()
                break
            try:
                at, body = due.get_nowait()
            except queue.Empty:
                break
            time.sleep(max(0.0, at - time.perf_counter()))
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
            try:
                conn.request("POST", "/api/activities/", body=body, headers=headers)
                response = conn.getresponse()
                status, data = response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                status, data = 0, repr(exc).encode()
            finally:
                conn.close()
            mine.append(Outcome(time.perf_counter() - at, status, data if status != 201 else None))
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(time.perf_counter() - start, outcomes, timed_out.is_set())


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def count_where(source_system: str) -> int:
    from leads.models import Activity

    return Activity.objects.filter(source_system=source_system).count()


def describe_failures(failures: list[Outcome]) -> str:
    if not failures:
        return ""
    first = failures[0]
    body = first.body.decode(errors="replace")[:200] if first.body else ""
    return f"{len(failures)} failed; first: {first.status} {body}"


# --- Whose CPU --------------------------------------------------------------------
# The machine may be shared: a phase that ran beside someone else's load is slower
# for reasons of its own. CpuMeter tells how much CPU went to other processes.

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy() -> float:
    """CPU seconds the machine spent busy since boot (all cores)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICKS


def _tree_cpu(root: int) -> float:
    """CPU seconds of a process, its live descendants and the children it reaped."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(v) for v in fields[11:15]) / _TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def postmaster_pid() -> int | None:
    """The database server's pid when it runs on this machine, else None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        with open(f"/proc/{backend}/stat") as f:
            return int(f.read().rpartition(")")[2].split()[1])
    except OSError:
        return None


def wait_for_quiet(*, threshold: float = 0.25, patience: float = 60.0) -> float:
    """Wait (up to ``patience`` seconds) until processes other than the
    benchmark's use less than ``threshold`` cores; returns what they used last.
    A shared machine then gives figures that can be compared from run to run."""
    if not os.path.exists("/proc/stat"):
        return math.nan
    deadline = time.monotonic() + patience
    waited = False
    while True:
        start_busy, start_ours, t0 = _machine_busy(), sum(os.times()[:2]), time.perf_counter()
        time.sleep(2)
        elapsed = time.perf_counter() - t0
        others = (_machine_busy() - start_busy - (sum(os.times()[:2]) - start_ours)) / elapsed
        if others < threshold:
            return others
        if time.monotonic() >= deadline:
            print(
                f"   going ahead while other processes use {others:.1f} cores: "
                "the figures below are lower than this machine gives alone",
                flush=True,
            )
            return others
        if not waited:
            print(
                f"   other processes use {others:.1f} cores; waiting up to {patience:.0f} s "
                "for a quieter machine",
                flush=True,
            )
            waited = True


class CpuMeter:
    """CPU used during a phase, in cores: by this process (the load generator), by
    the web server's and the database's process trees, and by everything else."""

    def __init__(self, *, web: int | None = None, database: int | None = None):
        self.roots = {"web": web, "database": database}
        self.available = os.path.exists("/proc/stat")

    def _sample(self) -> dict[str, float]:
        sample = {
            "time": time.perf_counter(),
            "machine": _machine_busy(),
            "client": sum(os.times()[:2]),
        }
        for name, pid in self.roots.items():
            sample[name] = _tree_cpu(pid) if pid else 0.0
        return sample

    def __enter__(self) -> CpuMeter:
        if self.available:
            self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client = self.web = self.database = self.others = math.nan
        if not self.available:
            return
        end = self._sample()
        elapsed = end["time"] - self._start["time"]
        self.elapsed = elapsed
        used = {k: (end[k] - self._start[k]) / elapsed for k in end if k != "time"}
        self.client, self.web, self.database = used["client"], used["web"], used["database"]
        self.others = max(0.0, used["machine"] - self.client - self.web - self.database)

    def report(
        self, report: Report, *, prefix: str = "", count: int = 0, unit: str = "", scale: int = 1
    ) -> None:
        """Cores used by each part; with ``count`` units of work done, also the CPU
        of ours per ``scale`` units and the rate all the machine's cores would give:
        figures that others' load on the machine changes less than rates."""
        for part in ("client", "web", "database", "others"):
            if part == "web" and not self.roots["web"]:
                continue
            report.figure(f"{prefix}CPU: {part}", getattr(self, part), "cores")
        if count and self.available:
            seconds = (self.client + self.web + self.database) * self.elapsed
            per = f"{scale:,} {unit}s" if scale > 1 else unit
            report.figure(f"{prefix}CPU per {per}", seconds / count * scale * 1000, "ms")
            cores = os.cpu_count() or 1
            report.figure(
                f"{prefix}{unit}s/s if all {cores} cores were ours",
                count / seconds * cores,
                f"{unit}s/s",
            )
