"""What a browser is told about security: the content security policy on every
page, and, in production (HTTPS on), HSTS and cookies that stay on HTTPS and
out of scripts' reach."""

import json

from django.conf import settings
from django.utils.csp import build_policy

from tests.test_settings import PRODUCTION_ENV, run_manage

# Run in a process of its own, with the production environment: the login page
# over HTTPS, and over plain HTTP. No database is needed for either.
PROBE = """
import json
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="handoff.example.com")
page = client.get("/login/", secure=True)
plain = client.get("/login/")
csrf = page.cookies[settings.CSRF_COOKIE_NAME]
print(json.dumps({
    "status": page.status_code,
    "headers": dict(page.headers),
    "csrf_cookie": {k: csrf[k] for k in ("secure", "httponly", "samesite")},
    "session_cookie": {"secure": settings.SESSION_COOKIE_SECURE,
                       "httponly": settings.SESSION_COOKIE_HTTPONLY,
                       "samesite": settings.SESSION_COOKIE_SAMESITE},
    "plain": [plain.status_code, plain.headers.get("Location")],
}))
"""


def test_every_page_is_sent_with_the_content_security_policy(client, sdr):
    policy = build_policy(settings.SECURE_CSP)

    assert client.get("/login/").headers["Content-Security-Policy"] == policy
    client.force_login(sdr)
    assert client.get("/queue/").headers["Content-Security-Policy"] == policy
    assert client.get("/api/docs/").headers["Content-Security-Policy"] == policy
    assert "Content-Security-Policy-Report-Only" not in client.get("/queue/").headers


def test_production_answers_with_hsts_and_safe_cookies():
    result = run_manage("shell", "-c", PROBE, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe["status"] == 200
    headers = probe["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert probe["csrf_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert probe["session_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    # Plain HTTP is sent to HTTPS.
    assert probe["plain"] == [301, "https://handoff.example.com/login/"]
