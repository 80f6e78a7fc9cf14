"""Processes the fault tests start, stop, freeze and restart: a Redis of their
own, a PostgreSQL cluster of their own, and the web app under gunicorn."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(condition, *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            detail = f"\n{log.read_text()}" if log is not None and log.exists() else ""
            pytest.fail(f"Timed out after {timeout}s waiting for {what}.{detail}")
        time.sleep(0.05)


# --- Redis -------------------------------------------------------------------------------


class RedisServer:
    """A redis-server on a port of its own, with nothing saved to disk: a
    restart comes back empty, as a broker restarted without persistence does."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_until(self._answers, timeout=10, what=f"Redis on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server cannot exit
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """Still accepts connections (the kernel does), never answers: a hung
        broker or a network partition, which a stopped server is not."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


# --- PostgreSQL ----------------------------------------------------------------------------


class PostgresCluster:
    """A throwaway cluster through scripts/services (which runs it as the
    postgres user when we are root), restartable in the middle of a test."""

    def __init__(self, name: str):
        self.name = name
        self.port = free_port()
        self.data = ROOT / "var" / "services" / name / "pg"

    @property
    def url(self) -> str:
        return f"postgres://handoff@127.0.0.1:{self.port}/handoff"

    def start(self) -> None:
        # The script starts a Redis too: it gets a port of its own, unused.
        subprocess.run(
            [
                str(ROOT / "scripts" / "services"),
                "start",
                self.name,
                str(self.port),
                str(free_port()),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        subprocess.run(
            [str(ROOT / "scripts" / "services"), "stop", self.name],
            check=False,
            capture_output=True,
            timeout=60,
        )

    def restart(self) -> None:
        """pg_ctl restart -m fast: every session is terminated, open
        transactions are rolled back, and the server comes back."""
        # -l: the server must not inherit (and hold open) this call's output pipe.
        self._pg_ctl("restart", "-m", "fast", "-w", "-t", "30", "-l", str(self.data / "server.log"))

    def _pg_ctl(self, *args: str) -> None:
        command = [_pg_bin("pg_ctl"), "-D", str(self.data), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def load(self, source_url: str) -> None:
        """Copies a database (schema and rows) into this cluster's."""
        dump = subprocess.run(
            [_pg_bin("pg_dump"), "--no-owner", "--no-privileges", _libpq(source_url)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [_pg_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", _libpq(self.url)],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )


def _pg_bin(name: str) -> str:
    """A PostgreSQL program of the same installation as scripts/services uses
    (pg_dump refuses a server newer than itself)."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        directory = Path(initdb).resolve().parent
    else:
        found = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
        if not found:
            pytest.fail("No PostgreSQL installation found (initdb is not on the PATH).")
        directory = found[-1]
    return str(directory / name)


def _libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


# --- The web app ------------------------------------------------------------------------------


def start_web(
    log_path: Path,
    *,
    database_url: str,
    broker_url: str,
    threads: int = 4,
) -> WebServer:
    """gunicorn serving the app on a free port, on the given database and broker.
    One process; each of its threads keeps its own database connection."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--timeout",
                "60",
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = WebServer(process=process, url=f"http://127.0.0.1:{port}", log_path=log_path)

    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    _wait_until(up, timeout=30, what="gunicorn to listen", log=log_path)
    return server


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class WebServer:
    process: subprocess.Popen
    url: str
    log_path: Path

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        authorization: str | None = None,
        timeout: float = 60,
    ) -> Answer:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if authorization is not None:
            headers["Authorization"] = authorization
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, answer_headers, text = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, text = error.code, error.headers, error.read()
        return Answer(
            status=status,
            headers=dict(answer_headers.items()),
            text=text.decode(),
            seconds=time.monotonic() - started,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
