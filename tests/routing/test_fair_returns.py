"""An SDR who comes back (from being away, or reactivated, or rejoining)
takes a fair share of the next leads, not every lead until their tally
catches up with the others'."""

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from routing.models import Membership, Strategy
from routing.services import join_queue, route_mql, set_availability, update_membership


def route(make_mql, n: int) -> Counter:
    return Counter(route_mql(lead_id=make_mql().pk).sdr.username for _ in range(n))


def test_an_sdr_back_from_away_takes_a_fair_share_of_the_next_ten(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    make_sdr("olivia", queue=inbound)
    noor = make_sdr("noor", queue=inbound)
    set_availability(sdr=noor, away_until=timezone.now() + timedelta(days=5), by=noor)
    assert route(make_mql, 12) == {"sam": 6, "olivia": 6}

    set_availability(sdr=noor, away_until=None, by=noor)
    owners = route(make_mql, 10)

    # Level with the others: 3 of the first 9 each, the tenth to any of them.
    assert 3 <= owners["noor"] <= 4
    assert sorted(owners.values())[:2] == [3, 3]


def test_an_absence_that_simply_ends_is_as_fair_as_coming_back_by_hand(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    noor = make_sdr("noor", queue=inbound)
    Membership.objects.filter(sdr=noor).update(away_until=timezone.now() + timedelta(days=5))
    assert route(make_mql, 8) == {"sam": 8}

    # The absence ends with time; nobody marks noor back.
    Membership.objects.filter(sdr=noor).update(away_until=timezone.now() - timedelta(minutes=1))

    assert route(make_mql, 10) == {"sam": 5, "noor": 5}


def test_a_weighted_sdr_back_from_away_gets_their_weighted_share(inbound, make_sdr, make_mql):
    inbound.strategy = Strategy.WEIGHTED
    inbound.save()
    sam = make_sdr("sam", queue=inbound, weight=2)
    make_sdr("olivia", queue=inbound, weight=1)
    set_availability(sdr=sam, away_until=timezone.now() + timedelta(days=5), by=sam)
    assert route(make_mql, 6) == {"olivia": 6}

    set_availability(sdr=sam, away_until=None, by=sam)

    assert route(make_mql, 9) == {"sam": 6, "olivia": 3}


def test_a_reactivated_sdr_takes_a_fair_share_not_every_lead(inbound, make_sdr, make_mql):
    make_sdr("sam", queue=inbound)
    make_sdr("olivia", queue=inbound)
    noor = make_sdr("noor", queue=inbound)
    seat = Membership.objects.get(sdr=noor)
    update_membership(membership=seat, capacity=25, weight=1, is_active=False, away_until=None)
    assert route(make_mql, 10) == {"sam": 5, "olivia": 5}

    update_membership(membership=seat, capacity=25, weight=1, is_active=True, away_until=None)
    owners = route(make_mql, 10)

    assert 3 <= owners["noor"] <= 4


def test_rejoining_levels_an_sdr_who_fell_behind_and_never_lowers_one_ahead(inbound, make_sdr):
    sam = make_sdr("sam", queue=inbound)
    olivia = make_sdr("olivia", queue=inbound)
    Membership.objects.filter(sdr=sam).update(assigned_count=7)
    Membership.objects.filter(sdr=olivia).update(assigned_count=2, is_active=False)

    join_queue(queue=inbound, sdr=olivia)
    assert Membership.objects.get(sdr=olivia).assigned_count == 7

    Membership.objects.filter(sdr=olivia).update(assigned_count=3)
    join_queue(queue=inbound, sdr=sam)
    assert Membership.objects.get(sdr=sam).assigned_count == 7


def test_with_nobody_away_the_tallies_are_the_leads_given(inbound, make_sdr, make_mql):
    for name in ("sam", "olivia", "noor"):
        make_sdr(name, queue=inbound)

    assert route(make_mql, 12) == {"sam": 4, "olivia": 4, "noor": 4}
    assert set(Membership.objects.values_list("assigned_count", flat=True)) == {4}
