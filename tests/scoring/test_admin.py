"""Marketing ops and sales managers working on scoring versions in the admin."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from handoff import audit, roles
from handoff.errors import DomainError
from handoff.models import AuditEntry
from scoring import services
from scoring.admin import job_progress
from scoring.models import (
    JobStatus,
    Layer,
    LeadScore,
    ModelStatus,
    MQLSnapshot,
    RescoreJob,
    Rule,
    ScoringModel,
)
from scoring.selectors import live_model
from tests import factories
from tests.admin_forms import change_form_data


@pytest.fixture
def draft(marketing_ops):
    return services.clone_model(source=live_model(), by=marketing_ops, name="Stricter")


@pytest.fixture
def submitted(draft, marketing_ops):
    return services.submit_model(model=draft, by=marketing_ops)


@pytest.fixture
def approved(submitted, manager):
    return services.approve_model(model=submitted, by=manager)


def change_url(model: ScoringModel) -> str:
    return reverse("admin:scoring_scoringmodel_change", args=[model.pk])


def step_url(model: ScoringModel, step: str) -> str:
    return reverse("admin:scoring_scoringmodel_step", args=[model.pk, step])


def messages_of(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def trail(model: ScoringModel) -> list[tuple[str, str, dict]]:
    """(action, note, changes) of a version's audit entries, oldest first."""
    return [
        (e.action, e.note, e.changes)
        for e in AuditEntry.objects.filter(
            object_id=str(model.pk), content_type__model="scoringmodel"
        ).order_by("at", "id")
    ]


def rule_form(response, name: str):
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            if form.instance.name == name:
                return form
    raise AssertionError(f"no rule named {name!r} on the page")


def inline_prefix(response, layer: str) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.opts.layer == layer:
            return inline.formset.prefix
    raise AssertionError(f"no inline for {layer}")


# --- The services behind the admin --------------------------------------------------


def test_save_rule_stores_a_drafts_rule_and_records_the_diff(draft, marketing_ops):
    rule = draft.rules.get(name="Senior title")

    rule.points = 20
    services.save_rule(rule=rule, by=marketing_ops)

    assert Rule.objects.get(pk=rule.pk).points == 20
    assert trail(draft)[-1] == ("rule changed", "Senior title", {"points": [15, 20]})
    entry = AuditEntry.objects.latest("pk")
    assert audit.summary(entry) == "Senior title: points 15 → 20"


def test_save_rule_adds_a_rule_to_a_draft(draft, marketing_ops):
    rule = Rule(
        model=draft,
        layer=Layer.ENGAGEMENT,
        name="Webinar attended",
        activity_kinds=["webinar_attended"],
        points=10,
        window_days=60,
    )

    services.save_rule(rule=rule, by=marketing_ops)

    action, note, changes = trail(draft)[-1]
    assert (action, note) == ("rule added", "Webinar attended")
    assert audit.summary(AuditEntry.objects.latest("pk")) == (
        "Webinar attended: added with name Webinar attended, layer engagement, points 10, "
        "window days 60, activity kinds webinar_attended"
    )
    assert changes == {
        "layer": [None, "engagement"],
        "name": [None, "Webinar attended"],
        "position": [None, 0],
        "field": [None, ""],
        "operator": [None, ""],
        "points": [None, 10],
        "activity_kinds": [None, ["webinar_attended"]],
        "url_pattern": [None, ""],
        "property_conditions": [None, []],
        "window_days": [None, 60],
    }


def test_save_rule_refuses_an_invalid_rule(draft, marketing_ops):
    rule = draft.rules.get(name="Senior title")
    rule.value = r"\bvp\b"

    with pytest.raises(ValidationError) as refused:
        services.save_rule(rule=rule, by=marketing_ops)

    assert refused.value.message_dict == {
        "value": [r"\b is not supported in patterns; use character classes such as [^a-z] instead."]
    }
    assert Rule.objects.get(pk=rule.pk).value != r"\bvp\b"


def test_a_published_versions_rules_are_refused_with_how_to_change_them(marketing_ops):
    live = live_model()
    rule = live.rules.get(name="Senior title")
    rule.points = 40

    with pytest.raises(DomainError) as refused:
        services.save_rule(rule=rule, by=marketing_ops)
    with pytest.raises(DomainError):
        services.delete_rule(rule=rule, by=marketing_ops)

    assert refused.value.message == (
        f"v{live.version} is published; clone it into a new draft to change it."
    )
    assert Rule.objects.get(pk=rule.pk).points == 15


def test_a_submitted_version_goes_back_to_draft_before_it_changes(submitted, marketing_ops):
    with pytest.raises(DomainError) as refused:
        services.update_model_settings(model=submitted, by=marketing_ops, threshold=60)

    assert refused.value.message == (
        f"v{submitted.version} is submitted; return it to draft to change it."
    )


def test_a_manager_cannot_change_rules_even_through_the_service(draft, manager):
    rule = draft.rules.get(name="Senior title")
    rule.points = 40

    with pytest.raises(DomainError) as refused:
        services.save_rule(rule=rule, by=manager)

    assert refused.value.message == "Only marketing ops can change scoring rules."


def test_delete_rule_records_what_the_rule_was(draft, marketing_ops):
    rule = draft.rules.get(name="Pricing page visit")

    services.delete_rule(rule=rule, by=marketing_ops)
    services.delete_rule(rule=rule, by=marketing_ops)  # again: nothing more happens

    assert not draft.rules.filter(name="Pricing page visit").exists()
    deletions = [entry for entry in trail(draft) if entry[0] == "rule deleted"]
    assert deletions == [
        (
            "rule deleted",
            "Pricing page visit",
            {
                "layer": ["engagement", None],
                "name": ["Pricing page visit", None],
                "position": [5, None],
                "field": ["", None],
                "operator": ["", None],
                "points": [20, None],
                "activity_kinds": [["pricing_page_view"], None],
                "url_pattern": ["", None],
                "property_conditions": [[], None],
                "window_days": [90, None],
                "cap": [20, None],
            },
        )
    ]


def test_update_model_settings_records_settings_and_sources(draft, marketing_ops):
    sources = [factories.source("inbound_form"), factories.source("website")]

    services.update_model_settings(
        model=draft, by=marketing_ops, threshold=60, min_fit=15, eligible_sources=sources
    )

    draft.refresh_from_db()
    assert (draft.threshold, draft.min_fit) == (60, 15)
    action, _, changes = trail(draft)[-1]
    assert action == "changed"
    assert changes == {
        "threshold": [75, 60],
        "min_fit": [10, 15],
        "eligible_sources": [
            ["api", "content", "inbound_form", "partner", "webinar", "website"],
            ["inbound_form", "website"],
        ],
    }


def test_update_model_settings_refuses_bounds_that_cross(draft, marketing_ops):
    with pytest.raises(ValidationError) as refused:
        services.update_model_settings(model=draft, by=marketing_ops, fit_floor=50, fit_ceiling=20)

    assert refused.value.message_dict == {
        "fit_ceiling": ["The ceiling must be at least the floor (50)."]
    }


def test_update_model_settings_without_changes_records_nothing(draft, marketing_ops):
    before = trail(draft)

    services.update_model_settings(model=draft, by=marketing_ops, threshold=draft.threshold)

    assert trail(draft) == before


# --- The version list ----------------------------------------------------------------


@pytest.mark.parametrize("drafts", [1, 3])
def test_version_list_query_count_does_not_grow_with_versions(
    client_as, marketing_ops, django_assert_num_queries, drafts
):
    for _ in range(drafts):
        services.clone_model(source=live_model(), by=marketing_ops)
    client = client_as(marketing_ops)

    with django_assert_num_queries(8):
        response = client.get(reverse("admin:scoring_scoringmodel_changelist"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == drafts + 1


def test_the_version_list_shows_version_name_status_threshold_and_publication(
    client_as, marketing_ops
):
    response = client_as(marketing_ops).get(reverse("admin:scoring_scoringmodel_changelist"))

    assert response.context["cl"].list_display == [
        "version",
        "name",
        "status",
        "threshold",
        "published_at",
    ]


# --- Editing a draft -----------------------------------------------------------------


@pytest.mark.parametrize("extra_rules", [0, 5])
def test_version_page_query_count_does_not_grow_with_rules(
    client_as, marketing_ops, draft, django_assert_num_queries, extra_rules
):
    Rule.objects.bulk_create(
        Rule(
            model=draft,
            layer=layer,
            name=f"Extra {n}",
            field="country",
            operator="equals",
            value="France",
            points=1,
        )
        for n, layer in zip(
            range(extra_rules), [Layer.DEMOGRAPHIC, Layer.FIRMOGRAPHIC] * 3, strict=False
        )
    )
    client = client_as(marketing_ops)

    with django_assert_num_queries(17):
        response = client.get(change_url(draft))

    assert response.status_code == 200


def test_marketing_ops_change_a_drafts_rule_points_in_the_admin(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    form = rule_form(page, "Senior title")
    data[form.add_prefix("points")] = "25"

    response = client.post(change_url(draft), data)

    assert response.status_code == 302
    rule = draft.rules.get(name="Senior title")
    assert rule.points == 25
    assert trail(draft)[-1] == (
        "rule changed",
        "Senior title",
        {"points": [15, 25]},
    )


def test_ops_type_phrases_and_numbers_without_brackets_or_quotes(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    senior = rule_form(page, "Senior title")
    size = rule_form(page, "Company of 200 employees or more")
    data[senior.add_prefix("operator")] = "contains_any"
    data[senior.add_prefix("value")] = "Head of, Director ,VP"
    data[size.add_prefix("operator")] = "between"
    data[size.add_prefix("value")] = "200 and 5000"

    response = client.post(change_url(draft), data)

    assert response.status_code == 302
    assert draft.rules.get(name="Senior title").value == ["Head of", "Director", "VP"]
    assert draft.rules.get(name="Company of 200 employees or more").value == [200, 5000]
    again = client.get(change_url(draft))
    assert rule_form(again, "Senior title")["value"].value() == "Head of, Director, VP"
    assert rule_form(again, "Company of 200 employees or more")["value"].value() == "200 and 5000"


def test_ops_type_the_age_of_a_date_column_in_days_without_json(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    senior = rule_form(page, "Senior title")
    size = rule_form(page, "Company of 200 employees or more")
    for form, value in ((senior, "30 and 90"), (size, "365 or more")):
        data[form.add_prefix("field")] = "attributes.signed_up"
        data[form.add_prefix("operator")] = "age_days"
        data[form.add_prefix("value")] = value

    response = client.post(change_url(draft), data)

    assert response.status_code == 302
    assert draft.rules.get(name="Senior title").value == [30, 90]
    assert draft.rules.get(name="Company of 200 employees or more").value == [365, None]
    again = client.get(change_url(draft))
    assert rule_form(again, "Senior title")["value"].value() == "30 and 90"
    assert rule_form(again, "Company of 200 employees or more")["value"].value() == "365 or more"

    data[senior.add_prefix("value")] = "90 and 30"
    refused = client.post(change_url(draft), data)

    assert refused.status_code == 200
    assert (
        "The oldest age for imported column &#x27;signed_up&#x27; (30 days) is below the "
        "youngest (90)." in refused.content.decode()
    )
    assert draft.rules.get(name="Senior title").value == [30, 90]


def test_saving_a_draft_unchanged_records_nothing(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    before = trail(draft)

    response = client.post(change_url(draft), change_form_data(client.get(change_url(draft))))

    assert response.status_code == 302
    assert trail(draft) == before


def test_a_rule_added_under_engagement_is_an_engagement_rule(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    prefix = inline_prefix(page, Layer.ENGAGEMENT)
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(n + 1),
            f"{prefix}-{n}-model": str(draft.pk),
            f"{prefix}-{n}-position": "9",
            f"{prefix}-{n}-name": "Webinar attended",
            f"{prefix}-{n}-activity_kinds": ["webinar_attendance"],
            f"{prefix}-{n}-property_conditions": "[]",
            f"{prefix}-{n}-points": "10",
            f"{prefix}-{n}-window_days": "60",
        }
    )

    response = client.post(change_url(draft), data)

    assert response.status_code == 302
    rule = draft.rules.get(name="Webinar attended")
    assert (rule.layer, rule.activity_kinds, rule.points) == (
        Layer.ENGAGEMENT,
        ["webinar_attendance"],
        10,
    )
    assert trail(draft)[-1][:2] == (
        "rule added",
        "Webinar attended",
    )


def test_a_rule_deleted_in_the_admin_is_gone_and_recorded(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    form = rule_form(page, "Content download")
    data[form.add_prefix("DELETE")] = "on"

    client.post(change_url(draft), data)

    assert not draft.rules.filter(name="Content download").exists()
    assert trail(draft)[-1][0] == "rule deleted"


def test_an_invalid_rule_is_shown_with_its_error_and_nothing_is_saved(
    client_as, marketing_ops, draft
):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    form = rule_form(page, "Company of 200 employees or more")
    data[form.add_prefix("value")] = "many"
    data[form.add_prefix("points")] = "12"

    response = client.post(change_url(draft), data)

    assert response.status_code == 200
    errors = [
        f.errors
        for inline in response.context["inline_admin_formsets"]
        for f in inline.formset.forms
        if f.errors
    ]
    assert errors == [{"value": ["'many' is not a number; give a number such as 500."]}]
    assert draft.rules.get(name="Company of 200 employees or more").points == 10


def test_marketing_ops_change_a_drafts_threshold_and_the_diff_is_recorded(
    client_as, marketing_ops, draft
):
    client = client_as(marketing_ops)
    data = change_form_data(client.get(change_url(draft)))
    data["threshold"] = "60"

    client.post(change_url(draft), data)

    draft.refresh_from_db()
    assert draft.threshold == 60
    assert trail(draft)[-1] == ("changed", "", {"threshold": [75, 60]})


def test_grade_bands_out_of_order_are_shown_on_the_form(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    data = change_form_data(client.get(change_url(draft)))
    data["grade_b_min"] = "40"

    response = client.post(change_url(draft), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "grade_b_min": ["Grades go down: A from at least B's fit, B from at least C's."]
    }


def test_the_live_version_page_is_read_only(client_as, marketing_ops):
    response = client_as(marketing_ops).get(change_url(live_model()))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert [
        inline.has_change_permission for inline in response.context["inline_admin_formsets"]
    ] == [False, False, False, False, False]
    assert 'name="_save"' not in html
    assert [step["label"] for step in response.context["steps"]] == ["Clone into a new draft"]


def test_editing_a_published_version_is_refused_with_the_message(client_as, marketing_ops):
    live = live_model()
    client = client_as(marketing_ops)
    data = change_form_data(client.get(change_url(live)))
    data["threshold"] = "10"

    response = client.post(change_url(live), data)

    assert response.status_code == 302
    assert response.url == change_url(live)
    assert messages_of(response) == [
        f"v{live.version} is published; clone it into a new draft to change it."
    ]
    live.refresh_from_db()
    assert live.threshold == 75


def test_a_draft_submitted_while_its_page_was_open_is_not_changed(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    data["threshold"] = "10"
    data[rule_form(page, "Senior title").add_prefix("points")] = "99"
    services.submit_model(model=draft, by=marketing_ops)

    response = client.post(change_url(draft), data)

    assert messages_of(response) == [
        f"v{draft.version} is submitted; return it to draft to change it."
    ]
    draft.refresh_from_db()
    assert draft.threshold == 75
    assert draft.rules.get(name="Senior title").points == 15


def test_marketing_ops_discard_a_draft(client_as, marketing_ops, draft):
    client = client_as(marketing_ops)

    response = client.post(
        reverse("admin:scoring_scoringmodel_delete", args=[draft.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not ScoringModel.objects.filter(pk=draft.pk).exists()
    assert trail(draft)[-1][:2] == ("discarded", f"draft v{draft.version} with 9 rules")


# --- The steps of a version's life ---------------------------------------------------


def test_marketing_ops_clone_the_live_version_into_a_draft(client_as, marketing_ops):
    live = live_model()

    response = client_as(marketing_ops).post(step_url(live, "clone"))

    clone = ScoringModel.objects.get(version=live.version + 1)
    assert (clone.status, clone.based_on) == (ModelStatus.DRAFT, live)
    assert response.url == change_url(clone)
    assert messages_of(response) == [f"New draft v{clone.version}, cloned from v{live.version}."]


def test_a_drafts_page_offers_preview_submit_and_clone_to_marketing_ops(
    client_as, marketing_ops, draft
):
    response = client_as(marketing_ops).get(change_url(draft))

    assert [step["label"] for step in response.context["steps"]] == [
        "Clone into a new draft",
        "Submit for approval",
    ]
    assert response.context["preview_url"] == reverse(
        "admin:scoring_scoringmodel_preview", args=[draft.pk]
    )


def test_marketing_ops_submit_a_draft(client_as, marketing_ops, draft):
    response = client_as(marketing_ops).post(step_url(draft, "submit"))

    draft.refresh_from_db()
    assert draft.status == ModelStatus.SUBMITTED
    assert messages_of(response) == [f"Submitted v{draft.version} for a sales manager's approval."]


def test_marketing_ops_cannot_approve(client_as, marketing_ops, submitted):
    response = client_as(marketing_ops).post(step_url(submitted, "approve"))

    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == ModelStatus.SUBMITTED


def test_a_manager_sees_a_submitted_version_read_only_with_approve_and_return(
    client_as, manager, submitted
):
    response = client_as(manager).get(change_url(submitted))

    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert [step["label"] for step in response.context["steps"]] == ["Return to draft", "Approve"]
    assert 'name="_save"' not in response.content.decode()


def test_a_manager_approves_a_submitted_version(client_as, manager, submitted):
    response = client_as(manager).post(step_url(submitted, "approve"))

    submitted.refresh_from_db()
    assert (submitted.status, submitted.approved_by) == (ModelStatus.APPROVED, manager)
    assert messages_of(response) == [
        f"Approved v{submitted.version}: marketing ops can publish it."
    ]
    assert trail(submitted)[-1] == ("approved", "", {"status": ["submitted", "approved"]})


def test_a_manager_cannot_edit_rules(client_as, manager, marketing_ops, draft):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    data[rule_form(page, "Senior title").add_prefix("points")] = "99"

    response = client_as(manager).post(change_url(draft), data)

    assert response.status_code == 403
    assert draft.rules.get(name="Senior title").points == 15


def test_a_manager_cannot_publish(client_as, manager, approved):
    response = client_as(manager).post(step_url(approved, "publish"))

    assert response.status_code == 403
    approved.refresh_from_db()
    assert approved.status == ModelStatus.APPROVED


def test_whoever_submitted_a_version_cannot_also_approve_it(client_as, marketing_ops, draft):
    marketing_ops.groups.add(Group.objects.get(name=roles.SALES_MANAGER))
    client = client_as(marketing_ops)
    client.post(step_url(draft, "submit"))

    response = client.post(step_url(draft, "approve"))

    assert response.url == change_url(draft)
    assert messages_of(response)[-1] == (
        "The person who submitted a version cannot also approve it."
    )
    draft.refresh_from_db()
    assert draft.status == ModelStatus.SUBMITTED


def test_a_manager_returns_a_submitted_version_to_draft(client_as, manager, submitted):
    response = client_as(manager).post(step_url(submitted, "return"))

    submitted.refresh_from_db()
    assert submitted.status == ModelStatus.DRAFT
    assert messages_of(response) == [f"Returned v{submitted.version} to draft."]


def test_a_step_that_does_not_fit_the_status_is_refused_with_the_message(
    client_as, marketing_ops, draft
):
    response = client_as(marketing_ops).post(step_url(draft, "publish"))

    assert messages_of(response) == [
        f"v{draft.version} is draft; only a version that is approved can be published."
    ]


def test_steps_are_posted_never_fetched(client_as, marketing_ops, draft):
    response = client_as(marketing_ops).get(step_url(draft, "submit"))

    assert response.status_code == 405


def test_marketing_ops_publish_and_land_on_the_rescore_progress(client_as, marketing_ops, approved):
    response = client_as(marketing_ops).post(step_url(approved, "publish"))

    job = RescoreJob.objects.get(model=approved)
    assert response.url == reverse("admin:scoring_rescorejob_change", args=[job.pk])
    assert messages_of(response) == [
        f"Published v{approved.version}: every lead is being rescored."
    ]
    assert live_model() == approved


def test_an_sdr_gets_no_admin_access(client_as, sdr, draft):
    client = client_as(sdr)

    for url in [
        reverse("admin:index"),
        change_url(draft),
        step_url(draft, "submit"),
        reverse("admin:scoring_scoringmodel_preview", args=[draft.pk]),
    ]:
        response = client.post(url) if "step" in url else client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    draft.refresh_from_db()
    assert draft.status == ModelStatus.DRAFT


# --- Rescore progress ----------------------------------------------------------------


def running_job(model: ScoringModel, *, scored: int, total: int, started: timedelta):
    job = RescoreJob.objects.create(
        model=model,
        reason=RescoreJob.Reason.PUBLISH,
        as_of=timezone.now(),
        chunks_total=10,
        chunks_done=scored * 10 // total,
        leads_total=total,
        leads_scored=scored,
    )
    RescoreJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - started)
    job.refresh_from_db()
    return job


def test_job_progress_gives_percent_rate_and_expected_finish(db):
    job = running_job(live_model(), scored=40_000, total=100_000, started=timedelta(seconds=20))
    now = job.created_at + timedelta(seconds=20)

    progress = job_progress(job, now=now)

    assert progress.percent == 40
    assert progress.rate == 2000.0
    assert progress.expected_finish == now + timedelta(seconds=30)


def test_the_progress_fragment_polls_while_running_and_stops_when_done(client_as, marketing_ops):
    job = running_job(live_model(), scored=40_000, total=100_000, started=timedelta(seconds=20))
    client = client_as(marketing_ops)
    url = reverse("admin:scoring_rescorejob_progress", args=[job.pk])

    html = client.get(url).content.decode()
    assert "Scored 40000 of 100000 leads (40 %),\n    4 of 10 chunks." in html
    assert '<progress max="100000" value="40000">40 %</progress>' in html
    assert 'hx-trigger="every 1s"' in html
    assert "leads/s; expected to finish at" in html
    assert "<html" not in html

    RescoreJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE,
        leads_scored=100_000,
        scores_changed=3_210,
        chunks_done=10,
        became_mql=12,
        finished_at=timezone.now(),
    )
    html = client.get(url).content.decode()
    assert "hx-trigger" not in html
    assert "3210 scores changed; the other leads kept theirs." in html
    assert "12 leads became MQLs." in html


def test_the_job_page_shows_the_progress_to_a_manager(client_as, manager):
    job = running_job(live_model(), scored=1, total=4, started=timedelta(seconds=2))

    response = client_as(manager).get(reverse("admin:scoring_rescorejob_change", args=[job.pk]))

    assert response.status_code == 200
    assert response.context["progress"].percent == 25
    assert 'id="rescore-progress"' in response.content.decode()


def test_the_version_page_links_to_its_running_rescore(client_as, marketing_ops):
    live = live_model()
    job = running_job(live, scored=40, total=100, started=timedelta(seconds=2))

    html = client_as(marketing_ops).get(change_url(live)).content.decode()

    link = reverse("admin:scoring_rescorejob_change", args=[job.pk])
    assert f'<a href="{link}">Rescoring: 40 %</a>' in html


@pytest.mark.parametrize("jobs", [1, 3])
def test_rescore_job_list_query_count_does_not_grow_with_jobs(
    client_as, marketing_ops, django_assert_num_queries, jobs
):
    for _ in range(jobs):
        running_job(live_model(), scored=1, total=2, started=timedelta(seconds=1))
    client = client_as(marketing_ops)

    with django_assert_num_queries(8):
        response = client.get(reverse("admin:scoring_rescorejob_changelist"))

    assert len(response.context["cl"].result_list) == jobs


# --- Scores and snapshots, read-only ---------------------------------------------------


@pytest.fixture
def scored_leads(db):
    def make(n: int) -> list[LeadScore]:
        leads = [factories.make_lead(title="VP Sales") for _ in range(n)]
        for lead in leads:
            factories.make_activity(
                lead, "demo_request", occurred_at=timezone.now() - timedelta(hours=1)
            )
        services.rescore_leads(lead_ids=[lead.pk for lead in leads])
        return list(LeadScore.objects.filter(lead__in=leads))

    return make


@pytest.mark.parametrize("n", [1, 3])
def test_lead_score_list_query_count_does_not_grow_with_scores(
    client_as, manager, django_assert_num_queries, scored_leads, n
):
    scored_leads(n)
    client = client_as(manager)

    with django_assert_num_queries(7):
        response = client.get(reverse("admin:scoring_leadscore_changelist"))

    assert len(response.context["cl"].result_list) == n


def test_a_lead_score_shows_its_explanation_as_a_table(client_as, manager, scored_leads):
    score = scored_leads(1)[0]

    response = client_as(manager).get(reverse("admin:scoring_leadscore_change", args=[score.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "<tr><td>Senior title</td><td>demographic</td><td>1</td><td>15.0</td>"
        "<td>15.0</td><td>15.0</td></tr>"
    ) in html
    assert (
        "<tr><td>Demo request</td><td>engagement</td><td>1</td><td>30.0</td>"
        "<td>30.0</td><td>30.0</td></tr>"
    ) in html


@pytest.mark.parametrize("n", [1, 3])
def test_mql_snapshot_list_query_count_does_not_grow_with_snapshots(
    client_as, marketing_ops, django_assert_num_queries, n
):
    for _ in range(n):
        lead = factories.make_lead()
        MQLSnapshot.objects.create(
            lead=lead,
            model=live_model(),
            fit=25,
            engagement=50,
            total=75,
            grade="B",
            explanation=[],
        )
    client = client_as(marketing_ops)

    with django_assert_num_queries(8):
        response = client.get(reverse("admin:scoring_mqlsnapshot_changelist"))

    assert len(response.context["cl"].result_list) == n


def test_scores_cannot_be_changed_in_the_admin(client_as, marketing_ops, scored_leads):
    score = scored_leads(1)[0]

    response = client_as(marketing_ops).post(
        reverse("admin:scoring_leadscore_change", args=[score.pk]), {"total": "999"}
    )

    assert response.status_code == 403


# --- The buying committee, edited with the rules ------------------------------------------


def test_a_committee_role_changed_in_the_admin_is_recorded_on_the_version(
    client_as, marketing_ops, draft
):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    form = rule_form(page, "Finance")
    data[form.add_prefix("title_pattern")] = "(^|[^a-z])(cfo|finance)([^a-z]|$)"

    response = client.post(change_url(draft), data)

    assert response.status_code == 302
    role = draft.committee_roles.get(name="Finance")
    assert role.title_pattern == "(^|[^a-z])(cfo|finance)([^a-z]|$)"
    action, note, changes = trail(draft)[-1]
    assert (action, note) == ("committee role changed", "Finance")
    assert changes["title_pattern"][1] == "(^|[^a-z])(cfo|finance)([^a-z]|$)"


def test_a_committee_role_deleted_in_the_admin_is_gone_and_recorded(
    client_as, marketing_ops, draft
):
    client = client_as(marketing_ops)
    page = client.get(change_url(draft))
    data = change_form_data(page)
    data[rule_form(page, "Champion").add_prefix("DELETE")] = "on"

    client.post(change_url(draft), data)

    assert not draft.committee_roles.filter(name="Champion").exists()
    action, _, changes = trail(draft)[-1]
    assert action == "committee role deleted"
    assert changes["name"] == ["Champion", None]


def test_a_published_versions_committee_is_refused_even_through_the_service(marketing_ops):
    role = live_model().committee_roles.get(name="Finance")
    role.title_pattern = "cfo"

    with pytest.raises(DomainError, match="clone it into a new draft"):
        services.save_committee_role(role=role, by=marketing_ops)
    with pytest.raises(DomainError, match="clone it into a new draft"):
        services.delete_committee_role(role=role, by=marketing_ops)


def test_a_manager_cannot_change_the_committee_through_the_service(draft, manager):
    role = draft.committee_roles.get(name="Finance")

    with pytest.raises(DomainError, match="Only marketing ops"):
        services.delete_committee_role(role=role, by=manager)
    assert draft.committee_roles.filter(name="Finance").exists()
