"""403, 404 and 500 are pages of the site, with debug off as in production."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import path

from config import urls as site_urls
from config.views import NOT_ALLOWED, SERVER_ERROR, permission_denied, server_error


def _broken(request):
    raise RuntimeError("a bug")


# This module is the URL configuration of the 500 tests: the site's, plus a
# page that fails. Django reads the error handlers from the root URLconf.
urlpatterns = [path("broken/", _broken), path("api/broken/", _broken), *site_urls.urlpatterns]
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


@pytest.fixture(autouse=True)
def _debug_off(settings):
    settings.DEBUG = False


def test_a_refusal_shows_the_views_own_sentence_in_the_site_layout(client_as, sdr):
    response = client_as(sdr).get("/manager/")

    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    html = response.content.decode()
    assert "Only sales managers see the dashboard." in html
    assert '<nav aria-label="Main">' in html  # the site's navigation
    assert 'href="/queue/">My queue</a>' in html


def test_a_refusal_without_a_message_says_the_account_is_not_allowed(rf, sdr):
    request = rf.get("/somewhere/")
    request.user = sdr
    response = permission_denied(request, PermissionDenied())

    assert response.status_code == 403
    assert NOT_ALLOWED in response.content.decode()


def test_an_unknown_page_is_a_page_of_the_site_naming_the_address(client_as, sdr):
    response = client_as(sdr).get("/no-such-page/")

    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    html = response.content.decode()
    assert "There is no page at <code>/no-such-page/</code>." in html
    assert '<nav aria-label="Main">' in html


def test_an_unknown_page_for_an_anonymous_visitor_offers_the_login(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert 'href="/login/">Log in</a>' in response.content.decode()


def test_an_unknown_api_address_keeps_its_json_answer(client, db):
    response = client.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "No API endpoint at /api/no-such-thing/: the operations are listed at /api/docs/."
    }


def test_a_server_error_is_a_page_of_the_site(settings, db):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong</h1>" in html
    assert SERVER_ERROR in html
    assert '<nav aria-label="Main">' in html
    assert 'href="/definition/">MQL definition</a>' in html


def test_a_server_error_under_the_api_answers_json(settings, db):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/api/broken/")

    assert response.status_code == 500
    assert response.json() == {"detail": SERVER_ERROR}


def test_the_server_error_page_renders_without_the_database():
    # No `db` fixture: any query here fails the test.
    response = server_error(RequestFactory().get("/broken/"))

    assert response.status_code == 500
    assert SERVER_ERROR in response.content.decode()
