import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _browser_tests_keep_reference_data(reference_data_kept, live_server):
    """Every browser test runs against the live server on committed data."""


@pytest.fixture(autouse=True)
def _static_files_by_their_own_names(settings):
    """The live server serves static files through the finders, which know
    them by their own names, not the manifest's hashed ones: without this,
    scripts and the stylesheet would answer 404 when DEBUG is off."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# Every document the browser opens reports each content security policy
# violation to the console, where csp_violations collects it.
WATCH_CSP = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  `CSP violation on ${location.pathname}: ${e.effectiveDirective} refused `
  + `${e.blockedURI || "inline code"} (${e.sourceFile || "the page"}:${e.lineNumber})`));"""


@pytest.fixture(autouse=True)
def csp_violations(request):
    """Every browser test fails if a page breaks the content security policy:
    a blocked script or style is a page that silently does not work."""
    if "page" not in request.fixturenames:
        yield []
        return
    page = request.getfixturevalue("page")
    found: list[str] = []
    page.add_init_script(WATCH_CSP)
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if message.type == "error"
            and (
                message.text.startswith("CSP violation")
                or "Content Security Policy" in message.text
            )
            else None
        ),
    )
    yield found
    assert found == [], "The content security policy was violated:\n" + "\n".join(found)


@pytest.fixture
def log_in(page, live_server):
    """Log in through the real login page, as a person would."""

    def as_user(user):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        return page

    return as_user


@pytest.fixture
def screenshot(page):
    """Saves a README screenshot when HANDOFF_UPDATE_SCREENSHOTS is set."""

    def take(name: str):
        if os.environ.get("HANDOFF_UPDATE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take
