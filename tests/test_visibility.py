"""The one visibility rule: who sees every lead, and who sees only their own."""

from django.contrib.auth.models import AnonymousUser, User

from handoff.visibility import visible_to
from leads.models import Account, Activity, Lead
from tests.factories import make_activity, make_lead


def test_an_sdr_sees_their_own_leads_only(sdr, other_sdr):
    mine, theirs = make_lead(owner=sdr), make_lead(owner=other_sdr)
    make_lead()

    assert list(visible_to(sdr, Lead.objects.all(), owner_field="owner")) == [mine]
    assert list(visible_to(other_sdr, Lead.objects.all(), owner_field="owner")) == [theirs]


def test_those_who_see_every_lead_get_the_queryset_whole(
    marketing_ops, manager, integration_user, sdr
):
    leads = [make_lead(owner=sdr), make_lead()]
    superuser = User.objects.create_superuser("root", password="x")

    for user in (marketing_ops, manager, integration_user, superuser):
        visible = visible_to(user, Lead.objects.all(), owner_field="owner")
        assert set(visible) == set(leads)


def test_nobody_signed_in_sees_nothing(db):
    make_lead()

    assert list(visible_to(AnonymousUser(), Lead.objects.all(), owner_field="owner")) == []


def test_the_owner_is_found_through_a_path(sdr, other_sdr):
    mine = make_activity(make_lead(owner=sdr))
    make_activity(make_lead(owner=other_sdr))

    assert list(visible_to(sdr, Activity.objects.all(), owner_field="lead__owner")) == [mine]


def test_a_to_many_path_lists_each_row_once(sdr):
    account = Account.objects.create(name="Acme", domain="acme.example")
    make_lead(owner=sdr, account=account)
    make_lead(owner=sdr, account=account)

    visible = visible_to(sdr, Account.objects.all(), owner_field="leads__owner", distinct=True)

    assert list(visible) == [account]
