"""Likely duplicates: what the search proposes, what it never does, and
marketing ops' list where pairs are merged or dismissed."""

import pytest
from django.db import connection
from django.urls import reverse

from handoff.models import AuditEntry
from leads import duplicates
from leads.models import Account, DuplicateCandidate, DuplicateReason, Lead
from leads.tasks import find_duplicate_candidates
from tests import factories


@pytest.fixture
def acme(db) -> Account:
    return Account.objects.create(name="Acme", domain="acme.com")


def _pairs() -> dict[frozenset[str], str]:
    return {
        frozenset({str(c.first), str(c.second)}): c.reason
        for c in DuplicateCandidate.objects.select_related("first", "second")
    }


def _people(acme: Account) -> None:
    lead = factories.make_lead
    # The same mailbox, written differently.
    lead("jane.doe@gmail.com")
    lead("janedoe+webinar@googlemail.com")
    lead("sam+news@outlook.com")
    lead("sam@outlook.com")
    # Not the same mailbox: dots count outside Gmail, and a company's own
    # server decides what a tag means.
    lead("s.am@outlook.com")
    lead("j.smith@acme.com", account=acme, first_name="Jo", last_name="Smith")
    lead("jsmith@acme.com", account=acme, first_name="Joanna", last_name="Smith")
    # The same name at the same company (two mailboxes, one person).
    lead("kim.lee@acme.com", account=acme, first_name="Kim", last_name="Lee")
    lead("k.lee@acme.com", account=acme, first_name=" kim ", last_name="LEE")
    # Look-alikes: same first name, another last name; another person at the
    # same company who shares its switchboard; a namesake at another company.
    lead("kim.park@acme.com", account=acme, first_name="Kim", last_name="Park", phone="+1 555 0100")
    lead("ray.lo@acme.com", account=acme, first_name="Ray", last_name="Lo", phone="555-0100")
    other = Account.objects.create(name="Other", domain="other.io")
    lead("kim.lee@other.io", account=other, first_name="Kim", last_name="Lee")
    # The same number written two ways, with the same last name.
    lead("ana@one.io", first_name="Ana", last_name="Diaz", phone="+44 20 7946 0958")
    lead("a.diaz@two.io", first_name="A.", last_name="Diaz", phone="020 7946 0958")


EXPECTED = {
    frozenset({"jane.doe@gmail.com", "janedoe+webinar@googlemail.com"}): DuplicateReason.MAILBOX,
    frozenset({"sam+news@outlook.com", "sam@outlook.com"}): DuplicateReason.MAILBOX,
    frozenset({"kim.lee@acme.com", "k.lee@acme.com"}): DuplicateReason.NAME_AT_COMPANY,
    frozenset({"ana@one.io", "a.diaz@two.io"}): DuplicateReason.PHONE,
}


def test_the_search_finds_the_same_person_and_none_of_the_look_alikes(acme):
    _people(acme)

    found = find_duplicate_candidates()

    assert _pairs() == EXPECTED
    assert found == 4


def test_the_python_search_for_sqlite_finds_the_same_pairs(acme):
    _people(acme)

    result = duplicates._find_in_python()

    assert _pairs() == EXPECTED
    assert result == {"mailbox": 2, "phone": 1, "name_at_company": 1}


def test_a_crowd_sharing_one_key_is_a_placeholder_not_a_person(acme):
    for n in range(duplicates.LARGEST_GROUP + 1):
        factories.make_lead(f"p{n}@acme.com", account=acme, first_name="Test", last_name="User")

    duplicates.find_duplicate_candidates()

    assert not DuplicateCandidate.objects.exists()


def test_a_dismissed_pair_is_never_proposed_again(acme, marketing_ops):
    _people(acme)
    duplicates.find_duplicate_candidates()
    pair = DuplicateCandidate.objects.get(reason=DuplicateReason.PHONE)

    assert duplicates.dismiss_candidates(candidate_ids=[pair.pk], by=marketing_ops) == 1
    again = duplicates.find_duplicate_candidates()

    assert again.total == 0
    pair.refresh_from_db()
    assert pair.dismissed_by == marketing_ops and pair.dismissed_at is not None
    assert AuditEntry.objects.filter(action="dismissed", actor=marketing_ops).count() == 1


def test_the_keys_in_sql_are_the_keys_in_python(acme):
    _people(acme)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {duplicates._MAILBOX_SQL}, {duplicates._PHONE_SQL} FROM leads_lead",
            {
                "gmail": list(duplicates.GMAIL),
                "plus": list(duplicates.PLUS_ADDRESSING),
                "shortest_phone": duplicates.SHORTEST_PHONE,
                "phone_digits": duplicates.PHONE_DIGITS,
            },
        )
        in_sql = {row[0]: row[1:] for row in cursor.fetchall()}
    in_python = {
        lead.pk: (
            duplicates.mailbox_key(lead.email),
            duplicates.phone_key(lead.phone, lead.last_name),
        )
        for lead in Lead.objects.all()
    }
    assert in_sql == in_python


def test_marketing_ops_list_merge_and_dismiss_pairs(
    acme, client_as, marketing_ops, django_assert_num_queries
):
    _people(acme)
    duplicates.find_duplicate_candidates()
    client = client_as(marketing_ops)
    url = reverse("admin:leads_duplicatecandidate_changelist")

    with django_assert_num_queries(8):  # the same for any number of pairs
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count("Merge…") == 4

    pair = DuplicateCandidate.objects.get(
        reason=DuplicateReason.MAILBOX, matched_on="sam@outlook.com"
    )
    answer = client.post(
        url, {"action": "dismiss_selected", "_selected_action": [pair.pk]}, follow=True
    )
    assert "Dismissed 1 pair;" in answer.content.decode()
    assert client.get(url).content.decode().count("Merge…") == 3
    assert "dismissed by" in client.get(url + "?status=dismissed").content.decode()

    other = DuplicateCandidate.objects.get(reason=DuplicateReason.PHONE)
    merge = client.post(
        f"{reverse('admin:leads_lead_merge')}?ids={other.first_id},{other.second_id}",
        {"survivor": other.first_id},
    )
    assert merge.status_code == 302
    assert not Lead.objects.filter(pk=other.second_id).exists()
    assert not DuplicateCandidate.objects.filter(pk=other.pk).exists()


def test_an_empty_list_says_so(db, client_as, marketing_ops):
    page = client_as(marketing_ops).get(reverse("admin:leads_duplicatecandidate_changelist"))

    assert "0 duplicate candidates" in page.content.decode()


def test_erasing_a_person_removes_the_pairs_that_quote_them(acme, marketing_ops):
    from privacy.services import erase_person

    _people(acme)
    duplicates.find_duplicate_candidates()
    lead = Lead.objects.get(email="ana@one.io")

    erasure = erase_person(lead=lead, by=marketing_ops, request_reference="PRIV-1")

    assert not DuplicateCandidate.objects.filter(matched_on__contains="diaz").exists()
    assert erasure.rows["duplicate pair"] == 1
    assert duplicates.find_duplicate_candidates().total == 0
