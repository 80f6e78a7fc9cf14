"""Queues in the admin: membership edits go through routing's services."""

from routing.models import AssignmentStatus, Membership
from routing.services import route_mql
from routing.tasks import assign_waiting_leads
from tests.admin_forms import change_form_data


def membership_field(response, membership: Membership, name: str) -> str:
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            if form.instance.pk == membership.pk:
                return form.add_prefix(name)
    raise AssertionError(f"no form for {membership} on the page")


def test_raising_a_capacity_in_the_admin_offers_the_waiting_leads_at_once(
    inbound,
    make_sdr,
    make_mql,
    client_as,
    marketing_ops,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    sam = make_sdr("sam", queue=inbound, capacity=1)
    route_mql(lead_id=make_mql().pk)
    waiting = route_mql(lead_id=make_mql().pk)
    assert waiting.status == AssignmentStatus.WAITING
    membership = Membership.objects.get(queue=inbound, sdr=sam)
    sent: list[dict] = []
    monkeypatch.setattr(assign_waiting_leads, "delay", lambda **kwargs: sent.append(kwargs))
    client = client_as(marketing_ops)
    url = f"/admin/routing/queue/{inbound.pk}/change/"
    page = client.get(url)
    data = change_form_data(page)
    data[membership_field(page, membership, "capacity")] = "2"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302
    assert sent == [{"queue_id": inbound.pk}]
    assign_waiting_leads(**sent[0])
    waiting.refresh_from_db()
    assert (waiting.status, waiting.sdr) == (AssignmentStatus.OPEN, sam)
    membership.refresh_from_db()
    assert (membership.capacity, membership.open_count) == (2, 2)


def test_lowering_a_capacity_offers_nothing(
    inbound, make_sdr, client_as, marketing_ops, monkeypatch, django_capture_on_commit_callbacks
):
    sam = make_sdr("sam", queue=inbound, capacity=3)
    membership = Membership.objects.get(queue=inbound, sdr=sam)
    sent: list[dict] = []
    monkeypatch.setattr(assign_waiting_leads, "delay", lambda **kwargs: sent.append(kwargs))
    client = client_as(marketing_ops)
    url = f"/admin/routing/queue/{inbound.pk}/change/"
    page = client.get(url)
    data = change_form_data(page)
    data[membership_field(page, membership, "capacity")] = "1"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302
    assert sent == []
    membership.refresh_from_db()
    assert membership.capacity == 1
