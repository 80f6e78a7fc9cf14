import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_a_marketing_ops_user_logs_in_and_sees_their_places(
    log_in, live_server, marketing_ops, screenshot
):
    page = log_in(marketing_ops)

    expect(page.get_by_role("heading", name="Welcome, Mo")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Admin")).to_be_visible()
    expect(nav.get_by_role("link", name="My queue")).to_have_count(0)
    screenshot("home")


def test_a_wrong_password_is_refused_with_a_message(page, live_server, sdr):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(sdr.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Your username and password didn't match. Please try again."
    )
    assert page.url.endswith("/login/")


def test_logging_out_returns_to_the_login_page(log_in, sdr):
    page = log_in(sdr)
    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Log in to Handoff")).to_be_visible()


def test_guessing_passwords_locks_the_account_with_a_message(page, live_server, sdr):
    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.get_by_label("Username").fill(sdr.username)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed logins: the account “sam.sdr” is locked for 15 minutes. "
        "Try again later, or ask an administrator to unlock it."
    )
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("is locked for 15 minutes")
    expect(page.get_by_role("heading", name="Log in to Handoff")).to_be_visible()
