"""A version of the MQL definition submitted for approval reaches the sales
managers: a notice (in the app, by email) and a card on their home page."""

from django.urls import reverse

from handoff.models import Delivery, Notice, NoticeKind
from scoring import services
from scoring.selectors import live_model


def test_submitting_a_version_tells_every_sales_manager_once(
    db, marketing_ops, manager, sdr, django_capture_on_commit_callbacks
):
    manager.email = "max@example.com"
    manager.save()
    draft = services.clone_model(source=live_model(), by=marketing_ops, name="Stricter")

    services.submit_model(model=draft, by=marketing_ops)

    notice = Notice.objects.get(kind=NoticeKind.APPROVAL)
    assert notice.user == manager
    assert notice.text == (
        f"Mo submitted v{draft.version} Stricter of the MQL definition: it awaits your approval."
    )
    assert notice.link == reverse("admin:scoring_scoringmodel_change", args=[draft.pk])
    assert notice.email == Delivery.PENDING
    assert not Notice.objects.filter(user__in=[sdr, marketing_ops]).exists()


def test_the_managers_home_page_shows_the_version_awaiting_approval(
    db, marketing_ops, manager, sdr, client_as
):
    draft = services.clone_model(source=live_model(), by=marketing_ops, name="Stricter")
    services.submit_model(model=draft, by=marketing_ops)

    html = client_as(manager).get(reverse("home")).content.decode()
    assert "Waiting for your approval" in html
    assert f"v{draft.version} Stricter</a>, submitted by Mo" in html
    assert "Waiting for your approval" not in client_as(sdr).get(reverse("home")).content.decode()
