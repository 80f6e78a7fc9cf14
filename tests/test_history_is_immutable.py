"""Stage history, merges and the audit trail cannot be rewritten in the admin,
even by roles whose group grants them every permission on those models."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.db.models import ProtectedError, Value
from django.db.models.functions import Concat

from handoff import audit, tokens
from handoff.models import ApiToken, AuditEntry
from leads.models import LeadMerge, Stage, StageChange
from leads.services import change_stage, merge_leads
from routing.models import Queue, Touch
from routing.services.decisions import log_touch
from tests import factories
from tests.routing.test_queue_pages import mql_for, seat


@pytest.fixture
def desk(sdr):
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))


@pytest.fixture
def history(db, marketing_ops):
    lead = factories.make_lead()
    change = change_stage(lead=lead, to_stage=Stage.MQL, reason="test")
    entry = audit.record(actor=marketing_ops, action="changed", obj=lead)
    return change, entry


@pytest.mark.parametrize(
    "url",
    [
        "/admin/leads/stagechange/{change}/delete/",
        "/admin/leads/stagechange/add/",
        "/admin/handoff/auditentry/{entry}/delete/",
    ],
)
def test_history_cannot_be_added_or_deleted_in_the_admin(client_as, marketing_ops, history, url):
    change, entry = history

    response = client_as(marketing_ops).get(url.format(change=change.pk, entry=entry.pk))

    assert response.status_code == 403


def test_a_stage_change_can_be_read_but_not_edited(client_as, marketing_ops, history):
    change, _ = history

    page = client_as(marketing_ops).get(f"/admin/leads/stagechange/{change.pk}/change/")

    assert page.status_code == 200
    assert 'name="_save"' not in page.text


# --- People who leave: deactivated, never deleted while they have history --------------------


def test_an_audit_entry_keeps_its_actor_s_name_as_it_was(history, marketing_ops):
    _, entry = history

    marketing_ops.username = "mo.renamed"
    marketing_ops.is_active = False
    marketing_ops.save()

    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.actor, entry.actor_name, entry.who) == (marketing_ops, "mo.ops", "mo.ops")


def test_an_entry_the_system_wrote_names_the_system(db):
    entry = audit.record(actor=None, action="changed", obj=factories.make_lead())

    assert (entry.actor_name, entry.who) == ("", "system")


def test_a_person_with_audit_history_cannot_be_deleted(history, marketing_ops):
    _, entry = history

    with pytest.raises(ProtectedError):
        marketing_ops.delete()

    assert AuditEntry.objects.get(pk=entry.pk).actor == marketing_ops


def test_who_issued_or_revoked_a_token_cannot_be_deleted(db, integration_user):
    issuer = User.objects.create_user("ivy.issuer")
    revoker = User.objects.create_user("rex.revoker")
    issued = tokens.issue_token(name="CRM", scopes=["leads:read"], user=integration_user, by=issuer)
    tokens.revoke_token(token=issued.token, by=revoker)
    AuditEntry.objects.all().delete()  # only the token's own columns protect them now

    for person in (issuer, revoker):
        with pytest.raises(ProtectedError):
            person.delete()

    token = ApiToken.objects.get()
    assert (token.created_by, token.revoked_by) == (issuer, revoker)


def test_a_person_without_history_can_still_be_deleted(db):
    User.objects.create_user("temp.typo")

    User.objects.get(username="temp.typo").delete()

    assert not User.objects.filter(username="temp.typo").exists()


def test_the_admin_refuses_to_delete_a_person_with_history_and_says_to_deactivate(
    client_as, history, marketing_ops
):
    admin_user = User.objects.create_superuser("root.admin", password="x-long-password-1")
    client = client_as(admin_user)

    page = client.get(f"/admin/auth/user/{marketing_ops.pk}/delete/")
    client.post(f"/admin/auth/user/{marketing_ops.pk}/delete/", {"post": "yes"})

    assert "<title>Cannot delete user | Handoff admin</title>" in page.text
    assert "Deactivate the account instead (untick Active on its page)" in page.text
    assert User.objects.filter(pk=marketing_ops.pk).exists()


def test_the_audit_trail_in_the_admin_shows_the_name_as_it_was(client_as, history, marketing_ops):
    User.objects.filter(pk=marketing_ops.pk).update(username="mo.renamed")
    marketing_ops.refresh_from_db()

    page = client_as(marketing_ops).get("/admin/handoff/auditentry/")

    assert '<td class="field-who">mo.ops</td>' in page.text


def test_the_migration_names_the_actors_of_earlier_entries(history, marketing_ops):
    _, entry = history
    AuditEntry.objects.filter(pk=entry.pk).update(actor_name="")

    migration = importlib.import_module(
        "handoff.migrations.0005_audit_actor_name_and_protected_people"
    )
    migration.fill_actor_names(django_apps, None)

    assert AuditEntry.objects.get(pk=entry.pk).actor_name == "mo.ops"


# --- Stage changes, merges and touches: their actors are kept like the trail's -----------


def test_a_stage_change_a_merge_and_a_touch_keep_their_actor_s_name_as_it_was(
    db, marketing_ops, sdr, desk
):
    change = change_stage(lead=factories.make_lead(), to_stage=Stage.MQL, by=marketing_ops)
    survivor, duplicate = factories.make_lead(), factories.make_lead()
    merge = merge_leads(survivor=survivor, duplicate=duplicate, by=marketing_ops)
    touch = log_touch(assignment=mql_for(sdr, 1), by=sdr, kind="call")
    User.objects.filter(pk__in=[marketing_ops.pk, sdr.pk]).update(
        username=Concat("username", Value(".renamed")), is_active=False
    )

    change = StageChange.objects.get(pk=change.pk)
    merge = LeadMerge.objects.get(pk=merge.pk)
    touch = Touch.objects.get(pk=touch.pk)
    assert (change.changed_by, change.who) == (marketing_ops, "mo.ops")
    assert (merge.merged_by, merge.who) == (marketing_ops, "mo.ops")
    assert (touch.by, touch.who) == (sdr, "sam.sdr")


def test_a_change_the_system_made_names_the_system(db):
    change = change_stage(lead=factories.make_lead(), to_stage=Stage.MQL)

    assert (change.changed_by, change.changed_by_name, change.who) == (None, "", "system")


def test_a_person_who_changed_a_stage_or_merged_cannot_be_deleted(db):
    changer = User.objects.create_user("cy.changer")
    merger = User.objects.create_user("mel.merger")
    change = change_stage(lead=factories.make_lead(), to_stage=Stage.MQL, by=changer)
    merge = merge_leads(survivor=factories.make_lead(), duplicate=factories.make_lead(), by=merger)

    for person in (changer, merger):
        with pytest.raises(ProtectedError):
            person.delete()

    assert StageChange.objects.get(pk=change.pk).changed_by == changer
    assert LeadMerge.objects.get(pk=merge.pk).merged_by == merger


def test_the_stage_history_in_the_admin_shows_the_name_as_it_was(client_as, marketing_ops):
    lead = factories.make_lead()
    change_stage(lead=lead, to_stage=Stage.MQL, by=marketing_ops)
    User.objects.filter(pk=marketing_ops.pk).update(username="mo.renamed")
    marketing_ops.refresh_from_db()

    page = client_as(marketing_ops).get("/admin/leads/stagechange/")

    assert '<td class="field-who">mo.ops</td>' in page.text


def test_the_migrations_name_the_actors_of_earlier_history(db, marketing_ops, sdr, desk):
    change = change_stage(lead=factories.make_lead(), to_stage=Stage.MQL, by=marketing_ops)
    merge = merge_leads(
        survivor=factories.make_lead(), duplicate=factories.make_lead(), by=marketing_ops
    )
    touch = log_touch(assignment=mql_for(sdr, 1), by=sdr, kind="call")
    StageChange.objects.update(changed_by_name="")
    LeadMerge.objects.update(merged_by_name="")
    Touch.objects.update(by_name="")

    for module in (
        "leads.migrations.0013_history_actor_names_and_protected_people",
        "routing.migrations.0007_touch_actor_name",
    ):
        importlib.import_module(module).fill_actor_names(django_apps, None)

    assert StageChange.objects.get(pk=change.pk).changed_by_name == "mo.ops"
    assert set(
        StageChange.objects.filter(changed_by=None).values_list("changed_by_name", flat=True)
    ) == {""}
    assert LeadMerge.objects.get(pk=merge.pk).merged_by_name == "mo.ops"
    assert Touch.objects.get(pk=touch.pk).by_name == "sam.sdr"
