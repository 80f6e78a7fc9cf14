"""What happens after an SDR accepts: the SQL qualification and the CRM's
opportunities, each moving the lead through its lifecycle."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from feedback.models import Opportunity, SQLQualification
from feedback.services import qualify_sql, record_opportunity
from handoff.errors import ConflictError, DomainError
from handoff.models import AuditEntry
from leads.models import Stage, StageChange
from leads.services import change_stage
from routing.models import Assignment, AssignmentStatus, Queue
from routing.services import accept_mql, recycle_mql
from tests import factories

BANT = {
    "budget": "  40k this quarter ",
    "authority": "VP Sales signs",
    "need": "Leads lost between teams",
    "timeline": "Decision in May",
}


def assign(lead, sdr) -> Assignment:
    return Assignment.objects.create(
        lead=lead,
        queue=Queue.objects.get(name="Inbound MQLs"),
        sdr=sdr,
        status=AssignmentStatus.OPEN,
        assigned_at=timezone.now(),
    )


def make_sal(by, **fields):
    """A lead made an MQL and accepted by ``by``: a SAL."""
    lead = factories.make_lead(**fields)
    change_stage(lead=lead, to_stage=Stage.MQL)
    accept_mql(assignment=assign(lead, by), by=by)
    lead.refresh_from_db()
    return lead


def stages(lead) -> list[tuple[str, str]]:
    return list(
        StageChange.objects.filter(lead=lead)
        .order_by("changed_at", "pk")
        .values_list("from_stage", "to_stage")
    )


def audit_of(obj) -> list[tuple[str, dict]]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )
        .order_by("pk")
        .values_list("action", "changes")
    )


# --- SQL qualification -------------------------------------------------------------------------


def test_the_sdr_who_accepted_a_sal_makes_it_an_sql_with_bant(db, sdr):
    lead = make_sal(sdr)

    qualification = qualify_sql(lead=lead, by=sdr, **BANT)

    lead.refresh_from_db()
    assert lead.stage == Stage.SQL
    assert stages(lead)[-1] == (Stage.SAL, Stage.SQL)
    assert StageChange.objects.filter(lead=lead).first().changed_by == sdr
    assert (
        qualification.budget,
        qualification.authority,
        qualification.need,
        qualification.timeline,
    ) == ("40k this quarter", "VP Sales signs", "Leads lost between teams", "Decision in May")
    assert qualification.qualified_by == sdr
    assert audit_of(qualification) == [("qualified", {"stage": ["sal", "sql"]})]


def test_another_sdr_cannot_qualify_the_lead(db, sdr, other_sdr):
    lead = make_sal(sdr)

    with pytest.raises(DomainError, match="Only the SDR who accepted this lead"):
        qualify_sql(lead=lead, by=other_sdr, **BANT)

    lead.refresh_from_db()
    assert lead.stage == Stage.SAL
    assert SQLQualification.objects.count() == 0


def test_after_a_recycle_the_sdr_who_accepted_it_last_owns_the_lead(db, sdr, other_sdr):
    lead = factories.make_lead()
    change_stage(lead=lead, to_stage=Stage.MQL)
    recycle_mql(assignment=assign(lead, sdr), by=sdr)
    change_stage(lead=lead, to_stage=Stage.MQL)
    accept_mql(assignment=assign(lead, other_sdr), by=other_sdr)
    lead.refresh_from_db()

    with pytest.raises(DomainError):
        qualify_sql(lead=lead, by=sdr, **BANT)
    qualify_sql(lead=lead, by=other_sdr, **BANT)


def test_only_a_sal_becomes_an_sql(db, sdr):
    lead = make_sal(sdr)
    qualify_sql(lead=lead, by=sdr, **BANT)

    with pytest.raises(DomainError, match="This lead is SQL: only a sales accepted lead"):
        qualify_sql(lead=lead, by=sdr, **BANT)

    assert SQLQualification.objects.count() == 1


def test_a_stale_lead_is_refused_as_a_conflict(db, sdr):
    lead = make_sal(sdr)
    stale = type(lead).objects.get(pk=lead.pk)
    qualify_sql(lead=lead, by=sdr, **BANT)  # in another tab, a moment earlier

    with pytest.raises(ConflictError, match="already SQL"):
        qualify_sql(lead=stale, by=sdr, **BANT)


@pytest.mark.parametrize("field", ["budget", "authority", "need", "timeline"])
def test_each_bant_answer_is_required(db, sdr, field):
    lead = make_sal(sdr)

    with pytest.raises(DomainError) as refused:
        qualify_sql(lead=lead, by=sdr, **{**BANT, field: "   "})

    assert refused.value.field == field
    lead.refresh_from_db()
    assert lead.stage == Stage.SAL


# --- Opportunities -----------------------------------------------------------------------------


def opportunity(lead, **overrides):
    return record_opportunity(
        **{
            "crm_id": "OPP-1",
            "lead": lead,
            "amount": Decimal("12000"),
            "status": "open",
            "created_on": date(2025, 3, 12),
            "name": "Acme platform",
            **overrides,
        }
    )


@pytest.fixture
def sql_lead(sdr):
    lead = make_sal(sdr)
    qualify_sql(lead=lead, by=sdr, **BANT)
    lead.refresh_from_db()
    return lead


def test_a_new_opportunity_takes_an_sql_to_the_opportunity_stage(sql_lead, integration_user):
    result = opportunity(sql_lead, by=integration_user)

    sql_lead.refresh_from_db()
    assert (result.created, result.changed) == (True, True)
    assert sql_lead.stage == Stage.OPPORTUNITY
    assert stages(sql_lead)[-1] == (Stage.SQL, Stage.OPPORTUNITY)
    assert audit_of(result.opportunity) == [
        (
            "created",
            {
                "lead_id": [None, sql_lead.pk],
                "name": [None, "Acme platform"],
                "amount": [None, "12000.00"],
                "currency": [None, "USD"],
                "status": [None, "open"],
                "created_on": [None, "2025-03-12"],
                "closed_on": [None, None],
            },
        )
    ]
    assert (
        AuditEntry.objects.get(object_id=str(result.opportunity.pk), action="created").actor
        == integration_user
    )


def test_the_crm_may_open_an_opportunity_straight_from_a_sal(db, sdr):
    lead = make_sal(sdr)

    opportunity(lead)

    lead.refresh_from_db()
    assert lead.stage == Stage.OPPORTUNITY
    assert stages(lead)[-1] == (Stage.SAL, Stage.OPPORTUNITY)


def test_the_same_payload_twice_changes_nothing_the_second_time(sql_lead):
    first = opportunity(sql_lead, amount=Decimal("12000"))
    again = opportunity(sql_lead, amount=Decimal("12000.00"))

    assert (again.created, again.changed) == (False, False)
    assert again.opportunity.pk == first.opportunity.pk
    assert Opportunity.objects.count() == 1
    assert len(audit_of(first.opportunity)) == 1
    assert stages(sql_lead).count((Stage.SQL, Stage.OPPORTUNITY)) == 1


def test_an_update_is_recorded_with_what_changed(sql_lead):
    first = opportunity(sql_lead)

    result = opportunity(sql_lead, amount=Decimal("15000.50"), name="Acme platform + support")

    assert (result.created, result.changed) == (False, True)
    assert audit_of(first.opportunity)[-1] == (
        "updated",
        {"name": ["Acme platform", "Acme platform + support"], "amount": ["12000.00", "15000.50"]},
    )


def test_won_takes_the_lead_to_won(sql_lead):
    opportunity(sql_lead)

    opportunity(sql_lead, status="won", closed_on=date(2025, 4, 2))

    sql_lead.refresh_from_db()
    assert sql_lead.stage == Stage.WON
    assert stages(sql_lead)[-2:] == [(Stage.SQL, Stage.OPPORTUNITY), (Stage.OPPORTUNITY, Stage.WON)]


def test_an_opportunity_reported_already_won_passes_through_the_opportunity_stage(sql_lead):
    opportunity(sql_lead, status="won", closed_on=date(2025, 3, 30))

    sql_lead.refresh_from_db()
    assert sql_lead.stage == Stage.WON
    assert stages(sql_lead)[-2:] == [(Stage.SQL, Stage.OPPORTUNITY), (Stage.OPPORTUNITY, Stage.WON)]


def test_the_lead_is_lost_only_when_its_last_open_opportunity_is_lost(sql_lead):
    opportunity(sql_lead, crm_id="OPP-1")
    opportunity(sql_lead, crm_id="OPP-2", name="Acme add-on")

    opportunity(sql_lead, crm_id="OPP-1", status="lost", closed_on=date(2025, 4, 1))
    sql_lead.refresh_from_db()
    assert sql_lead.stage == Stage.OPPORTUNITY  # OPP-2 is still open

    opportunity(
        sql_lead, crm_id="OPP-2", name="Acme add-on", status="lost", closed_on=date(2025, 4, 3)
    )
    sql_lead.refresh_from_db()
    assert sql_lead.stage == Stage.LOST


def test_a_second_opportunity_for_a_lead_in_the_pipeline_moves_nothing(sql_lead):
    opportunity(sql_lead, crm_id="OPP-1")
    before = stages(sql_lead)

    opportunity(sql_lead, crm_id="OPP-2")

    assert stages(sql_lead) == before


def test_a_lead_sales_has_not_accepted_cannot_have_an_opportunity(db):
    lead = factories.make_lead()
    change_stage(lead=lead, to_stage=Stage.MQL)

    with pytest.raises(DomainError, match="This lead is MQL: an opportunity can only") as refused:
        opportunity(lead)

    assert refused.value.field == "lead"
    assert Opportunity.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"status": "won"}, "closed_on", "A won or lost opportunity needs its close date."),
        ({"closed_on": date(2025, 4, 1)}, "closed_on", "An open opportunity has no close date."),
        (
            {"status": "lost", "closed_on": date(2025, 3, 1)},
            "closed_on",
            "The close date cannot be before the creation date.",
        ),
        ({"status": "pending"}, "status", "Unknown status 'pending': use open, won or lost."),
        ({"amount": Decimal("-1")}, "amount", "The amount cannot be negative."),
        (
            {"amount": Decimal("1.005")},
            "amount",
            "Give the amount in cents at most, up to 999999999999.99.",
        ),
        (
            {"currency": "dollars"},
            "currency",
            "Give the currency as a three-letter code such as USD.",
        ),
        ({"crm_id": "  "}, "crm_id", "Give the CRM's id of the opportunity."),
    ],
)
def test_invalid_opportunities_are_refused_naming_the_field(sql_lead, overrides, field, message):
    with pytest.raises(DomainError) as refused:
        opportunity(sql_lead, **overrides)

    assert (refused.value.field, refused.value.message) == (field, message)
    assert Opportunity.objects.count() == 0


def test_a_closed_opportunity_stays_closed(sql_lead):
    opportunity(sql_lead, status="won", closed_on=date(2025, 4, 2))

    with pytest.raises(DomainError, match="OPP-1 is already won; a closed opportunity stays"):
        opportunity(sql_lead)


def test_an_opportunity_keeps_its_lead(sql_lead, sdr):
    opportunity(sql_lead)
    other = make_sal(sdr)

    with pytest.raises(DomainError, match="OPP-1 belongs to another lead") as refused:
        opportunity(other)

    assert refused.value.field == "lead"
    assert Opportunity.objects.get().lead == sql_lead


# --- The SDR's SQL page ------------------------------------------------------------------------


def sql_url(lead) -> str:
    return f"/feedback/leads/{lead.pk}/sql/"


FORM = {name: value.strip() for name, value in BANT.items()}


def test_the_sdr_who_accepted_the_lead_gets_the_form(client_as, sdr):
    lead = make_sal(sdr)

    response = client_as(sdr).get(sql_url(lead))

    assert response.status_code == 200
    assert response.context["can_qualify"] is True
    assert b'hx-post="/feedback/leads/' in response.content


@pytest.mark.parametrize("who", ["other_sdr", "manager", "marketing_ops"])
def test_anyone_else_gets_404(request, client_as, sdr, who):
    lead = make_sal(sdr)
    client = client_as(request.getfixturevalue(who))

    assert client.get(sql_url(lead)).status_code == 404
    assert client.post(sql_url(lead), FORM).status_code == 404
    lead.refresh_from_db()
    assert lead.stage == Stage.SAL


def test_anonymous_visitors_are_sent_to_log_in(client, db, sdr):
    lead = make_sal(sdr)

    response = client.get(sql_url(lead))

    assert (response.status_code, response["Location"]) == (
        302,
        f"/login/?next=/feedback/leads/{lead.pk}/sql/",
    )


def test_submitting_the_form_makes_it_an_sql_and_shows_the_answers(client_as, sdr):
    lead = make_sal(sdr)
    client = client_as(sdr)

    response = client.post(sql_url(lead), FORM)
    page = client.get(sql_url(lead))

    assert (response.status_code, response["Location"]) == (302, sql_url(lead))
    lead.refresh_from_db()
    assert lead.stage == Stage.SQL
    assert page.context["qualification"].budget == "40k this quarter"
    assert b"Qualified as an SQL by Sam Reyes" in page.content


def test_with_htmx_the_answer_is_the_panel_alone(client_as, sdr):
    lead = make_sal(sdr)

    response = client_as(sdr).post(sql_url(lead), FORM, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('\n<section class="card sql-panel" id="sql-panel"')
    assert "<html" not in html
    assert "is a sales qualified lead (SQL) now." in html


def test_a_blank_answer_shows_on_its_field(client_as, sdr):
    lead = make_sal(sdr)
    client = client_as(sdr)

    plain = client.post(sql_url(lead), {**FORM, "need": ""})
    htmx = client.post(sql_url(lead), {**FORM, "need": "  "}, HTTP_HX_REQUEST="true")

    assert plain.status_code == 400
    assert plain.context["form"].errors == {"need": ["This field is required."]}
    assert htmx.status_code == 200  # so that htmx swaps the errors in
    assert htmx.context["form"].errors == {"need": ["This field is required."]}
    lead.refresh_from_db()
    assert lead.stage == Stage.SAL


def test_a_refusal_of_the_service_shows_above_the_form(client_as, sdr):
    lead = make_sal(sdr)
    change_stage(lead=lead, to_stage=Stage.NURTURE, by=sdr)  # since the form was opened

    response = client_as(sdr).post(sql_url(lead), FORM)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "This lead is Nurture: only a sales accepted lead (SAL) can become an SQL."
    ]


# --- The admin ---------------------------------------------------------------------------------


def admin_form(**overrides):
    return {
        "name": "Acme platform",
        "amount": "12000.00",
        "currency": "USD",
        "status": "open",
        "created_on": "2025-03-12",
        "closed_on": "",
        "_save": "Save",
        **overrides,
    }


def test_marketing_ops_edit_an_opportunity_through_the_service(client_as, marketing_ops, sql_lead):
    result = opportunity(sql_lead)
    url = f"/admin/feedback/opportunity/{result.opportunity.pk}/change/"

    response = client_as(marketing_ops).post(url, admin_form(status="won", closed_on="2025-04-02"))

    assert response.status_code == 302
    sql_lead.refresh_from_db()
    assert sql_lead.stage == Stage.WON
    entry = AuditEntry.objects.filter(action="updated").get()
    assert (entry.actor, entry.changes) == (
        marketing_ops,
        {"status": ["open", "won"], "closed_on": [None, "2025-04-02"]},
    )


def test_the_admin_shows_the_services_refusal_on_its_field(client_as, marketing_ops, sql_lead):
    result = opportunity(sql_lead, status="won", closed_on=date(2025, 4, 2))
    url = f"/admin/feedback/opportunity/{result.opportunity.pk}/change/"

    response = client_as(marketing_ops).post(url, admin_form())

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "status": ["Opportunity OPP-1 is already won; a closed opportunity stays closed."]
    }
    assert Opportunity.objects.get().status == "won"


def test_sql_qualifications_are_read_only_in_the_admin(client_as, marketing_ops, sdr):
    lead = make_sal(sdr)
    qualification = qualify_sql(lead=lead, by=sdr, **BANT)
    client = client_as(marketing_ops)

    assert client.get("/admin/feedback/sqlqualification/").status_code == 200
    assert (
        client.get(f"/admin/feedback/sqlqualification/{qualification.pk}/change/").status_code
        == 200
    )
    assert client.get("/admin/feedback/sqlqualification/add/").status_code == 403
    assert (
        client.post(
            f"/admin/feedback/sqlqualification/{qualification.pk}/change/", {"budget": "changed"}
        ).status_code
        == 403
    )
