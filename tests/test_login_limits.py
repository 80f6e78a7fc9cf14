"""Password guessing is stopped: a username is locked after a few failed
logins, an address after more, for a while; a good login clears the count;
the admin's login is covered; API tokens are not."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.conftest import PASSWORD

LOCKED_SAM = (
    "Too many failed logins: the account “sam.sdr” is locked for 15 minutes. "
    "Try again later, or ask an administrator to unlock it."
)
LOCKED_NETWORK = (
    "Too many failed logins from your network: logging in from it is locked "
    "for 15 minutes. Try again later."
)


@pytest.fixture(autouse=True)
def _limits(settings):
    # The defaults, stated here so that the tests read on their own.
    settings.LOGIN_FAILURES_PER_USERNAME = settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 30
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    # Dozens of logins per test: a fast hash keeps them quick (the users are made after this).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client, username, password, path="/login/", address="10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username, times, **where):
    for _ in range(times):
        response = log_in(client, username, "not-the-password", **where)
    return response


def alert(response) -> str:
    return response.context.get("locked_out", "")


def test_four_failures_leave_the_account_open(client, sdr):
    response = fail(client, "sam.sdr", 4)
    assert response.status_code == 200
    assert response.context["form"].errors  # the ordinary "didn't match"
    assert alert(response) == ""

    response = log_in(client, "sam.sdr", PASSWORD)

    assert response.status_code == 302
    assert response.url == "/"


def test_the_fifth_failure_locks_the_account_and_says_for_how_long(client, sdr):
    fail(client, "sam.sdr", 4)

    response = fail(client, "sam.sdr", 1)

    assert response.status_code == 429
    assert alert(response) == LOCKED_SAM
    assert LOCKED_SAM in response.content.decode()
    # Even the right password is refused now, from any address.
    response = log_in(client, "sam.sdr", PASSWORD, address="10.9.9.9")
    assert response.status_code == 429
    assert alert(response) == LOCKED_SAM
    assert "_auth_user_id" not in client.session


def test_the_lock_lifts_after_the_cool_off(client, sdr):
    fail(client, "sam.sdr", 5)
    assert log_in(client, "sam.sdr", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, "sam.sdr", PASSWORD).status_code == 302


def test_a_good_login_clears_the_failures(client, sdr):
    # Its username's and its address's: an office's typos do not add up all day.
    fail(client, "sam.sdr", 4)
    assert log_in(client, "sam.sdr", PASSWORD).status_code == 302
    client.logout()

    assert fail(client, "sam.sdr", 4).status_code == 200  # counting starts again
    assert AccessAttempt.objects.get().failures_since_start == 4


def test_one_account_locked_leaves_the_others_open(client, sdr, other_sdr):
    fail(client, "sam.sdr", 5)

    assert log_in(client, "olivia.sdr", PASSWORD).status_code == 302


def test_an_address_guessing_many_usernames_is_locked(client, sdr, other_sdr):
    for n in range(29):
        response = log_in(client, f"guess{n}", "x", address="10.6.6.6")
    assert response.status_code == 200

    response = log_in(client, "guess29", "x", address="10.6.6.6")

    assert response.status_code == 429
    assert alert(response) == LOCKED_NETWORK
    # Sam from that address is refused too; Sam from elsewhere is not.
    assert log_in(client, "sam.sdr", PASSWORD, address="10.6.6.6").status_code == 429
    assert log_in(client, "sam.sdr", PASSWORD, address="10.0.0.2").status_code == 302


def test_the_admin_login_is_limited_too(client, marketing_ops):
    fail(client, "mo.ops", 4, path="/admin/login/")

    response = fail(client, "mo.ops", 1, path="/admin/login/")

    assert response.status_code == 429
    assert "the account “mo.ops” is locked for 15 minutes" in alert(response)
    assert log_in(client, "mo.ops", PASSWORD, path="/admin/login/").status_code == 429
    assert log_in(client, "mo.ops", PASSWORD).status_code == 429  # the same account


def test_behind_the_proxy_the_client_is_the_address_it_forwarded(client, sdr, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    for n in range(30):
        client.post(
            "/login/",
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7",
            HTTP_X_FORWARDED_PROTO="https",
            secure=True,
        )

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    # Another client behind the same proxy is not locked out.
    response = client.post(
        "/login/",
        {"username": "sam.sdr", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
        HTTP_X_FORWARDED_PROTO="https",
        secure=True,
    )
    assert response.status_code == 302


def test_api_tokens_are_not_counted_nor_locked(integration_client, integration_user, client):
    fail(client, integration_user.username, 5)
    assert log_in(client, integration_user.username, PASSWORD).status_code == 429

    response = integration_client.get("/api/leads/")

    assert response.status_code == 200
