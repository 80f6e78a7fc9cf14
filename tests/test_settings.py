import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from handoff.env import env_bool, env_int

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "x9Qz7Lm2Vb8Nc4Rt6Yw1Pe5Ua3Is0Od" * 2,
    "ALLOWED_HOSTS": "handoff.example.com",
    "DATABASE_URL": "postgres://handoff@db.example.com:5432/handoff",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
    "SMTP_HOST": "smtp.example.com",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    test_only = {"HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_the_deployment_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_a_malformed_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match=r"DEBUG must be true or false \(got 'maybe'\)"):
        env_bool("DEBUG", False)


def test_a_malformed_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("CONN_MAX_AGE", "ten")

    with pytest.raises(ImproperlyConfigured, match="CONN_MAX_AGE must be a whole number"):
        env_int("CONN_MAX_AGE", 0)


# Asks the live stack for the stylesheet, as a browser would, and prints what
# it got: the status, and the address the templates give the stylesheet.
FETCH_STYLESHEET = """
from django.templatetags.static import static
from django.test import Client
url = static("handoff/handoff.css")
response = Client(HTTP_HOST="127.0.0.1").get(url)
print(url, response.status_code, b"".join(response.streaming_content)[:5].decode())
"""


def test_debug_off_serves_static_files_from_their_apps_without_collecting_them(tmp_path):
    # As `make run` starts Handoff: debug off, nothing collected in var/.
    env = {
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
        "STATIC_FROM_SOURCE": "true",
        "HANDOFF_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'handoff.sqlite3'}",
    }

    result = run_manage("shell", "--no-imports", "-c", FETCH_STYLESHEET, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/static/handoff/handoff.css", "200", ":root"]
    assert not (tmp_path / "static").exists()


def test_the_embedded_default_starts_with_no_warning_to_act_on(tmp_path):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
        "HANDOFF_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'handoff.sqlite3'}",
    }

    result = run_manage("check", env=env)

    assert result.returncode == 0, result.stderr
    # Only the SQLite index warnings are silenced (how many follows the models).
    assert result.stdout.startswith("System check identified no issues (")
    assert result.stderr == ""
