"""Marketing ops answer a request to be forgotten in the browser: the lead
under a legal hold is refused with the reason, the other is erased, and the
erasure is listed with its request."""

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from privacy.models import Erasure
from tests import factories

pytestmark = pytest.mark.e2e


def test_marketing_ops_erase_a_person_and_a_legal_hold_stops_them(
    page, live_server, log_in, marketing_ops
):
    held = factories.make_lead("held@acme.example", first_name="Hal", legal_hold=True)
    lead = factories.make_lead("zelda@acme.example", first_name="Zelda", last_name="Quixotic")
    log_in(marketing_ops)

    page.goto(f"{live_server.url}/admin/privacy/erasure/")
    page.get_by_role("link", name="Erase a person").click()
    page.get_by_label("Lead id").fill(str(held.pk))
    page.get_by_label("Request").fill("Ticket PRIV-9")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase").click()
    expect(page.locator(".errornote, .errorlist").first).to_contain_text(
        f"Lead #{held.pk} is under a legal hold"
    )

    page.get_by_label("Lead id").fill(str(lead.pk))
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase").click()

    erasure = Erasure.objects.get()
    expect(page.locator(".messagelist")).to_have_text(
        f"Erased lead #{lead.pk}: it is now {erasure.pseudonym}."
    )
    expect(page.locator("td.field-request_reference")).to_have_text(["Ticket PRIV-9"])
    assert Lead.objects.get(pk=lead.pk).email is None
    assert Lead.objects.get(pk=held.pk).email == "held@acme.example"
