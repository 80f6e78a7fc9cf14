"""A person's data erased on request: nothing that names them is left in any
text or JSON column of any table, while counts, scores, stages and outcomes
(and so the manager's dashboard) stay exactly as they were."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

from feedback.rollup import refresh_weekly_counts
from feedback.services import qualify_sql, record_opportunity
from handoff import audit
from handoff.errors import DomainError
from handoff.models import AuditEntry
from leads.models import Activity, ImportJob, Lead, Stage
from leads.services import merge_leads
from privacy.models import Erasure
from privacy.services import erase_person
from routing.models import Queue
from routing.services import accept_mql
from scoring.models import LeadScore
from tests import factories
from tests.routing.test_queue_pages import mql_for, seat

EMAIL = "zelda.quixotic@acme1.example"
OLD_EMAIL = "zq@oldmail.example"
FIRST, LAST = "Zelda", "Quixotic"
PHONE = "+44 20 7946 0958"
NEEDLES = [EMAIL, OLD_EMAIL, f"{FIRST} {LAST}", FIRST, LAST, PHONE]


def where_found(needles: list[str]) -> list[str]:
    """Every text and JSON column of every table, searched for each needle:
    "<table>.<column>: <needle>" for each hit."""
    hits = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                rows = model._default_manager.annotate(_text=Cast(field.name, models.TextField()))
                column = "_text"
            elif isinstance(field, (models.CharField, models.TextField)):
                rows, column = model._default_manager.all(), field.name
            else:
                continue
            for needle in needles:
                if rows.filter(Q(**{f"{column}__icontains": needle})).exists():
                    hits.append(f"{model._meta.db_table}.{field.column}: {needle}")
    return hits


@pytest.fixture
def desk(sdr):
    seat([sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))


@pytest.fixture
def person(db, desk, sdr, marketing_ops, settings, tmp_path):
    """Zelda, through the whole lifecycle: scored, handed off, accepted,
    qualified, an opportunity, a duplicate merged in, quoted by audit
    entries, notices, the admin's history and an import's errors and file."""
    settings.MEDIA_ROOT = tmp_path
    assignment = mql_for(sdr, 1, first_name=FIRST, last_name=LAST, email=EMAIL)
    lead = assignment.lead
    Lead.objects.filter(pk=lead.pk).update(
        phone=PHONE, attributes={"mobile": PHONE, "contact": f"{FIRST} {LAST}", "plan": "pro"}
    )
    lead.refresh_from_db()
    factories.make_activity(
        lead,
        "form_submit",
        url="https://acme.example/thanks?email=zelda.quixotic%40acme1.example&who=Zelda+Quixotic",
        properties={"form": {"name": f"{FIRST} {LAST}", "phone": PHONE}, "plan": "pro"},
    )
    accept_mql(assignment=assignment, by=sdr, note=f"Called {FIRST}: wants a demo next week.")
    lead.refresh_from_db()
    qualify_sql(
        lead=lead,
        by=sdr,
        budget="50k this year",
        authority=f"{FIRST} {LAST} signs",
        need="Routing",
        timeline="Q3",
    )
    record_opportunity(
        crm_id="OPP-1",
        lead=lead,
        amount=Decimal("50000"),
        status="open",
        created_on=date.today(),
        name=f"{LAST} / Acme",
    )
    duplicate = factories.make_lead(OLD_EMAIL, first_name=FIRST, last_name=LAST, phone=PHONE)
    merge_leads(survivor=lead, duplicate=duplicate, by=marketing_ops)
    audit.record(
        actor=marketing_ops,
        action="changed",
        obj=lead,
        changes={"phone": ["", PHONE]},
        note=f"Phone given by {FIRST} on the call",
    )
    LogEntry.objects.create(
        user=marketing_ops,
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=str(lead.pk),
        object_repr=str(lead),
        action_flag=CHANGE,
        change_message=f"Changed phone of {FIRST} {LAST}.",
    )
    job = ImportJob.objects.create(
        mapping={"email": "Email"},
        status=ImportJob.Status.DONE,
        errors=[{"line": 2, "column": "Phone", "message": f"{PHONE!r} is not a phone number."}],
    )
    job.file.save(
        "people.csv",
        ContentFile(
            f"Email,First,Last,Phone\n{EMAIL},{FIRST},{LAST},{PHONE}\nbob@b.example,Bob,Stone,1\n"
        ),
    )
    lead.refresh_from_db()
    return lead


def dashboard(client) -> str:
    refresh_weekly_counts(full=True)
    page = client.get("/manager/")
    assert page.status_code == 200
    # When it was drawn is the one thing that differs between two drawings.
    return dataclasses.replace(page.context["report"], as_of=None)


def test_the_fixture_leaves_the_person_in_every_kind_of_row(person):
    # The search finds what it is meant to: without this, "nothing found" proves nothing.
    found = where_found(NEEDLES)

    for table in [
        "leads_lead.email",
        "leads_activity.url",
        "leads_activity.properties",
        "leads_leadmerge.merged_email",
        "leads_leadmerge.merged_snapshot",
        "routing_touch.note",
        "feedback_sqlqualification.authority",
        "feedback_opportunity.name",
        "handoff_auditentry.object_repr",
        "handoff_auditentry.changes",
        "handoff_notice.text",
        "django_admin_log.object_repr",
        "leads_importjob.errors",
    ]:
        assert any(hit.startswith(table) for hit in found), table


def test_after_erasure_nothing_names_the_person_anywhere(person, marketing_ops):
    erasure = erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    assert where_found(NEEDLES) == []
    assert where_found([erasure.pseudonym]) != []


def test_the_kept_import_file_has_the_person_s_row_rewritten(person, marketing_ops):
    erasure = erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    job = ImportJob.objects.get()
    with job.file.open("r") as handle:
        lines = handle.read().splitlines()
    p = erasure.pseudonym
    assert lines == ["Email,First,Last,Phone", f"{p},{p},{p},{p}", "bob@b.example,Bob,Stone,1"]
    assert erasure.files == 1


def test_counts_scores_stages_and_outcomes_stay(person, marketing_ops):
    score = LeadScore.objects.get(lead=person)
    before = (
        Activity.objects.filter(lead=person).count(),
        (score.fit, score.engagement, score.total, score.grade),
        person.stage,
        list(person.opportunities.values_list("amount", "status")),
        Lead.objects.count(),
    )

    erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    person.refresh_from_db()
    score = LeadScore.objects.get(lead=person)
    after = (
        Activity.objects.filter(lead=person).count(),
        (score.fit, score.engagement, score.total, score.grade),
        person.stage,
        list(person.opportunities.values_list("amount", "status")),
        Lead.objects.count(),
    )
    assert after == before
    assert person.stage == Stage.OPPORTUNITY
    assert person.attributes["plan"] == "pro"


def test_the_dashboard_s_figures_are_identical_before_and_after(
    person, marketing_ops, manager, client_as
):
    client = client_as(manager)
    before = dashboard(client)

    erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    assert dashboard(client) == before
    assert [step.count for step in before.funnel.steps] == [1, 1, 1, 1, 0]


def test_the_erasure_is_recorded_who_when_which_request(person, marketing_ops):
    erasure = erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    erasure = Erasure.objects.get()
    person.refresh_from_db()
    assert (erasure.lead, erasure.erased_by_name, erasure.request_reference) == (
        person,
        "mo.ops",
        "Ticket PRIV-42",
    )
    assert (person.email, person.external_id) == (None, erasure.pseudonym)
    assert erasure.rows["activity"] == Activity.objects.filter(lead=person).count() == 4
    assert AuditEntry.objects.filter(action="erased", actor=marketing_ops).count() == 1


def test_a_lead_under_legal_hold_is_not_erased(person, marketing_ops):
    Lead.objects.filter(pk=person.pk).update(legal_hold=True)

    with pytest.raises(DomainError, match="under a legal hold"):
        erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    assert Erasure.objects.count() == 0
    assert Lead.objects.get(pk=person.pk).email == EMAIL


def test_an_erasure_needs_the_request_it_answers(person, marketing_ops):
    with pytest.raises(DomainError, match="Name the request"):
        erase_person(lead=person, by=marketing_ops, request_reference="  ")


def test_a_lead_is_erased_once(person, marketing_ops):
    erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    with pytest.raises(DomainError, match="already erased"):
        erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-43")


def test_a_first_name_alone_is_left_in_other_people_s_texts(person, marketing_ops, sdr):
    other = mql_for(sdr, 2, first_name="Zelda", last_name="Other", email="zelda@other.example")

    erase_person(lead=person, by=marketing_ops, request_reference="Ticket PRIV-42")

    other.lead.refresh_from_db()
    assert (other.lead.first_name, other.lead.email) == ("Zelda", "zelda@other.example")


def test_a_person_known_only_by_a_short_id_leaves_everyone_else_s_texts_alone(
    db, marketing_ops, sdr
):
    lead = factories.make_lead(external_id="7")
    other = factories.make_lead("ada@acme.example", first_name="Ada")
    audit.record(actor=marketing_ops, action="changed", obj=other, note="Ada asked for 7 seats")

    erase_person(lead=lead, by=marketing_ops, request_reference="Ticket 1")

    assert AuditEntry.objects.get(object_id=str(other.pk)).note == "Ada asked for 7 seats"
    assert Lead.objects.get(pk=lead.pk).external_id == Erasure.objects.get().pseudonym
