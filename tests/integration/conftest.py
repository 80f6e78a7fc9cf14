"""A real Celery worker, in its own process, on the real broker (Redis) and
the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(log_path: Path, **env_overrides: str | None) -> subprocess.Popen:
    """Starts `celery worker` against the test database and waits until it is
    ready. An override of None removes that variable from the worker's
    environment (so the worker falls back to its default)."""
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    for name, value in env_overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so it can be killed whole
        )
    process.log_path = log_path
    deadline = time.monotonic() + 30
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"The Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    return process


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker_starter(reference_data_kept, tmp_path):
    """Starts workers on demand (``start()``); stops whichever are left at the end."""
    # Messages left by earlier tests name rows that are gone: start clean.
    app.control.purge()
    started: list[subprocess.Popen] = []

    def start(**env_overrides: str | None) -> subprocess.Popen:
        process = start_worker(tmp_path / f"worker-{len(started)}.log", **env_overrides)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            stop_worker(process)


@pytest.fixture
def celery_worker_process(worker_starter):
    """One running worker for the test."""
    return worker_starter()


def wait_for(condition, *, timeout: float = 20, what: str = "the worker") -> None:
    """Polls until condition() is true; fails with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout}s waiting for {what}.")
        time.sleep(0.1)
