"""Accounts beyond the exact domain: other domains, subdomains, public suffixes,
and the lead page saying how the account was found."""

import pytest
from django.urls import reverse

from leads.domains import parent_domains, registrable_domain
from leads.models import Account, AccountDomain, AccountMatch, Lead
from leads.services import upsert_lead
from routing.models import Assignment, Queue
from tests import factories


@pytest.mark.parametrize(
    ("domain", "registrable", "parents"),
    [
        ("acme.com", "acme.com", []),
        ("eu.acme.com", "acme.com", ["acme.com"]),
        ("a.b.acme.com", "acme.com", ["b.acme.com", "acme.com"]),
        ("sales.acme.co.uk", "acme.co.uk", ["acme.co.uk"]),
        ("acme.co.uk", "acme.co.uk", []),
        ("shop.acme.com.au", "acme.com.au", ["acme.com.au"]),
    ],
)
def test_parents_stop_at_the_registrable_domain(domain, registrable, parents):
    assert registrable_domain(domain) == registrable
    assert parent_domains(domain) == parents


def _lead(email: str) -> Lead:
    lead, _ = upsert_lead(source=factories.source(), email=email, company_name="Acme")
    return lead


def test_a_subdomain_joins_its_parents_account(db):
    acme = Account.objects.create(name="Acme", domain="acme.com")

    lead = _lead("jo@eu.acme.com")

    assert lead.account == acme
    assert (lead.account_match, lead.account_matched_domain) == ("parent_domain", "acme.com")
    assert Account.objects.count() == 1


def test_another_domain_of_the_account_and_its_subdomains_join_it(db):
    acme = Account.objects.create(name="Acme", domain="acme.com")
    AccountDomain.objects.create(account=acme, domain="acme-brand.de")

    direct, below = _lead("a@acme-brand.de"), _lead("b@shop.acme-brand.de")

    assert direct.account == below.account == acme
    assert direct.account_match == AccountMatch.OTHER_DOMAIN
    assert below.account_match == AccountMatch.PARENT_OTHER_DOMAIN


def test_the_nearest_domain_wins(db):
    Account.objects.create(name="Acme", domain="acme.com")
    europe = Account.objects.create(name="Acme Europe", domain="eu.acme.com")

    lead = _lead("jo@fr.eu.acme.com")

    assert lead.account == europe


def test_a_public_suffix_is_no_company(db):
    Account.objects.create(name="Not a company", domain="co.uk")

    lead = _lead("jo@sales.widgets.co.uk")

    assert lead.account.domain == "widgets.co.uk"
    assert lead.account_match == AccountMatch.NEW


def test_the_first_person_from_a_subdomain_makes_the_companys_account(db):
    first, second = _lead("jo@eu.acme.com"), _lead("al@acme.com")

    assert first.account.domain == "acme.com"
    assert first.account_match == AccountMatch.NEW
    assert second.account == first.account
    assert second.account_match == AccountMatch.DOMAIN


def test_free_mail_never_joins_an_account(db):
    assert _lead("jo@gmail.com").account is None


def test_the_lead_page_says_how_the_account_was_matched(db, client_as, sdr):
    Account.objects.create(name="Acme", domain="acme.com")
    lead = _lead("jo@eu.acme.com")
    Lead.objects.filter(pk=lead.pk).update(stage="mql", owner=sdr)
    assignment = Assignment.objects.create(
        lead=lead, queue=Queue.objects.get(name="Inbound MQLs"), sdr=sdr, status="open"
    )

    page = client_as(sdr).get(reverse("routing:lead", kwargs={"pk": assignment.pk}))

    assert "its email domain eu.acme.com, a subdomain of acme.com" in page.content.decode()


def test_an_account_chosen_by_hand_says_so(db, client_as, marketing_ops):
    lead = _lead("jo@eu.acme.com")
    other = Account.objects.create(name="Other", domain="other.io")
    Lead.objects.filter(pk=lead.pk).update(account=other, account_match="")
    lead.refresh_from_db()

    assert lead.account_match_text == "chosen by hand"
    # A lead that joined before matches were recorded says what its domain shows.
    Lead.objects.filter(pk=lead.pk).update(account=lead.account, account_match="")
    lead.refresh_from_db()
    assert lead.account_match_text == "chosen by hand"
    Lead.objects.filter(pk=lead.pk).update(email="jo@other.io")
    lead.refresh_from_db()
    assert lead.account_match_text == "its email domain, other.io"
