"""Who may do what, for every URL of the site: each URL, method and principal
has its expected answer, and a URL nobody wrote an answer for fails.

The URLs come from the URLconf itself (``get_resolver()``, walked down
through every include: the pages, the API router's routes with their format
suffixes, the admin), so a new page or endpoint cannot slip past this test.
Pages and the API are in EXPECTED, one row per URL name; the admin's model
pages follow one rule (only staff get in, and then the model admin's
permissions decide), its other pages are rows of EXPECTED too.

Each request runs in a savepoint that is rolled back, so an action that
succeeds (an accept, a delete) leaves the world as it was for the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http.cookies import SimpleCookie

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from feedback.models import Opportunity
from handoff import tokens
from handoff.models import ApiTokenScope
from handoff.webhooks.services import create_endpoint
from leads.models import Lead
from privacy.services import erase_person
from routing.models import Membership, Queue
from routing.services import accept_mql
from scoring.services.accounts import score_accounts
from tests import factories
from tests.routing.test_queue_pages import mql_for, seat

# --- The answers ------------------------------------------------------------------------

ALLOWED = "allowed"  # 2xx, a redirect not to a login page, or 400 for the empty form it checked
# An admin page of a row the world does not have: staff get the admin's "does
# not exist" (a redirect), 403 or 404 as the model admin orders its checks.
NO_ROW = "no row: allowed, 403 or 404"
DENIED = "403"
LOGIN = "login"  # 401 from the API, a redirect to a login page (with ?next=) from a page
HIDDEN = "404"  # as if it did not exist: another SDR's lead, say
NO_METHOD = "405"
A, D, L, H, N = ALLOWED, DENIED, LOGIN, HIDDEN, NO_METHOD

PEOPLE = ("anonymous", "sdr", "other_sdr", "ops", "manager")
# Integrations' tokens as issued in production: scope sets, plus a revoked one.
TOKEN_SCOPES = {
    "forms": [ApiTokenScope.LEADS_WRITE],
    "tracking": [ApiTokenScope.ACTIVITIES_WRITE],
    "crm": [
        ApiTokenScope.LEADS_WRITE,
        ApiTokenScope.OUTCOMES_WRITE,
        ApiTokenScope.LEADS_READ,
        ApiTokenScope.SCORES_READ,
    ],
    "cdp": [ApiTokenScope.EVENTS_WRITE],  # a CDP's write key (Segment, RudderStack)
    "revoked": list(ApiTokenScope.values),
}
PRINCIPALS = PEOPLE + tuple(TOKEN_SCOPES)
STAFF = ("ops", "manager")
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PAGE_METHODS = ("GET", "POST")


def page(*, sdr: str, ops: str, manager: str, other_sdr: str | None = None) -> dict[str, str]:
    """A server-rendered page: anonymous visitors and API tokens (which pages
    ignore) are sent to the login page."""
    return {
        "anonymous": L,
        "sdr": sdr,
        "other_sdr": other_sdr or sdr,
        "ops": ops,
        "manager": manager,
        **dict.fromkeys(TOKEN_SCOPES, L),
    }


def api(
    *,
    sdr: str,
    ops: str,
    manager: str,
    forms: str,
    tracking: str,
    crm: str,
    other_sdr: str | None = None,
    cdp: str = D,
) -> dict[str, str]:
    """An API endpoint: no credentials or a revoked token get 401. A CDP's
    key may only send to the standard intake: elsewhere it is refused."""
    return {
        "anonymous": L,
        "sdr": sdr,
        "other_sdr": other_sdr or sdr,
        "ops": ops,
        "manager": manager,
        "forms": forms,
        "tracking": tracking,
        "crm": crm,
        "cdp": cdp,
        "revoked": L,
    }


def everyone(answer: str, **overrides: str) -> dict[str, str]:
    return {**dict.fromkeys(PRINCIPALS, answer), **overrides}


def users(answer: str, **overrides: str) -> dict[str, str]:
    """Signed-in people get ``answer``; anonymous visitors and tokens go to log in."""
    return {**dict.fromkeys(PRINCIPALS, L), **dict.fromkeys(PEOPLE[1:], answer), **overrides}


def admin_only(staff: str = A, **overrides: str) -> dict[str, str]:
    """An admin page: whoever is not staff is sent to the admin's login page."""
    return {**dict.fromkeys(PRINCIPALS, L), **dict.fromkeys(STAFF, staff), **overrides}


def read_only_api(
    *,
    read: dict[str, str],
    write_perm_holders: dict[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """An API endpoint that only reads: writes are refused by the model
    permissions (403) before the missing method (405) is noticed."""
    refused = api(sdr=D, ops=D, manager=D, forms=D, tracking=D, crm=D)
    return {
        "GET": read,
        "POST": refused,
        "PUT": {**refused, **(write_perm_holders or {})},
        "PATCH": {**refused, **(write_perm_holders or {})},
        "DELETE": refused,
    }


# Reading leads, accounts, activities: every role (an SDR their own leads'),
# and the tokens with leads:read.
READ_LEADS = api(sdr=A, ops=A, manager=A, forms=D, tracking=D, crm=A)
READ_OWN_LEAD = api(sdr=A, other_sdr=H, ops=A, manager=A, forms=D, tracking=D, crm=A)
# Changing a lead or an account: marketing ops by role; tokens with leads:write
# (their Integration role may change leads and accounts, never delete them).
CHANGE_NO_SUCH_METHOD = api(sdr=D, ops=N, manager=D, forms=N, tracking=D, crm=N)
DELETE_NO_SUCH_METHOD = api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D)
ROUTING_READ = api(sdr=A, ops=A, manager=A, forms=D, tracking=D, crm=D)
ROUTING_READ_OWN = api(sdr=A, other_sdr=H, ops=A, manager=A, forms=D, tracking=D, crm=D)
ROUTING_CHANGE = api(sdr=D, ops=N, manager=N, forms=D, tracking=D, crm=D)
SCORES_READ = api(sdr=A, ops=A, manager=A, forms=D, tracking=D, crm=A)
SCORES_READ_OWN = api(sdr=A, other_sdr=H, ops=A, manager=A, forms=D, tracking=D, crm=A)
# Webhook endpoints: marketing ops (model permissions) and tokens with webhooks:manage
# (none of the production-like tokens here holds it: they get 403).
WEBHOOKS_OPS = api(sdr=D, ops=A, manager=D, forms=D, tracking=D, crm=D)
WEBHOOKS_NO_SUCH_METHOD = api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D)
# Erasure and export: people holding privacy.erase_person / export_person; no token.
PRIVACY_ONLY = api(sdr=D, ops=A, manager=D, forms=D, tracking=D, crm=D)
# The Segment-spec intake: keys only; a CDP's may only POST.
CDP_ONLY = api(sdr=L, ops=L, manager=L, forms=D, tracking=D, crm=D)
PRIVACY_NO_SUCH_METHOD = api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D)


def sdr_action(post_by_assigned_sdr: str = A) -> dict[str, dict[str, str]]:
    """accept/reject/recycle/touch on an assignment: the assigned SDR only.
    Others who may read assignments reach it and are refused; another SDR
    does not find it; no token may act for an SDR."""
    other_methods = api(sdr=N, ops=N, manager=N, forms=D, tracking=D, crm=D)
    return {
        # A token that may read assignments learns that the action takes POST.
        "GET": api(sdr=N, ops=N, manager=N, forms=D, tracking=D, crm=N),
        "POST": api(
            sdr=post_by_assigned_sdr, other_sdr=H, ops=D, manager=D, forms=D, tracking=D, crm=D
        ),
        "PUT": other_methods,
        "PATCH": other_methods,
        "DELETE": other_methods,
    }


EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    # --- Pages ---------------------------------------------------------------------------
    "home": {"GET": users(A), "POST": users(A)},
    "login": {"GET": everyone(A), "POST": everyone(A)},
    "logout": {"GET": everyone(N), "POST": everyone(A)},
    # Everyone's own notices and notice settings.
    "notices:list": {"GET": users(A), "POST": users(N)},
    "notices:mark-read": {"GET": users(N), "POST": users(A)},
    "notices:preferences": {"GET": users(A), "POST": users(A)},
    "routing:queue": {"GET": page(sdr=A, ops=D, manager=D), "POST": users(N)},
    "routing:mark-notices-read": {"GET": users(N), "POST": users(A)},
    # The SDR's own leads and availability (an empty POST is refused with 400).
    "routing:my-leads": {"GET": page(sdr=A, ops=D, manager=D), "POST": users(N)},
    "routing:availability": {
        "GET": page(sdr=A, ops=D, manager=D),
        "POST": page(sdr=A, ops=D, manager=D),
    },
    # The team's load and reassigning: managers only (an empty POST gets 400).
    "team:load": {"GET": page(sdr=D, ops=D, manager=A), "POST": users(N)},
    "team:reassign": {"GET": users(N), "POST": page(sdr=D, ops=D, manager=A)},
    "routing:lead": {"GET": page(sdr=A, other_sdr=H, ops=D, manager=A), "POST": users(N)},
    "routing:act": {"GET": users(N), "POST": page(sdr=A, other_sdr=H, ops=D, manager=D)},
    "scoring:definition": {"GET": users(A), "POST": users(A)},
    # Marketing's nurture list and its export: marketing ops only (GET only).
    "scoring:nurture": {
        "GET": page(sdr=D, ops=A, manager=D),
        "POST": page(sdr=D, ops=N, manager=D),
    },
    "scoring:nurture_csv": {
        "GET": page(sdr=D, ops=A, manager=D),
        "POST": page(sdr=D, ops=N, manager=D),
    },
    "manager_sla:report": {
        "GET": page(sdr=D, ops=D, manager=A),
        "POST": page(sdr=D, ops=D, manager=A),
    },
    "manager_sla:breaches_csv": {
        "GET": page(sdr=D, ops=D, manager=A),
        "POST": page(sdr=D, ops=D, manager=A),
    },
    "feedback:dashboard": {
        "GET": page(sdr=D, ops=D, manager=A),
        "POST": page(sdr=D, ops=D, manager=N),
    },
    # Only the SDR who accepted the lead; for anybody else it does not exist.
    "feedback:qualify_sql": {
        "GET": page(sdr=A, other_sdr=H, ops=H, manager=H),
        "POST": page(sdr=A, other_sdr=H, ops=H, manager=H),
    },
    # --- API: leads, accounts, activities ---------------------------------------------------
    "lead-list": {
        "GET": READ_LEADS,
        "POST": api(sdr=D, ops=A, manager=D, forms=A, tracking=D, crm=A),
        "PUT": CHANGE_NO_SUCH_METHOD,
        "PATCH": CHANGE_NO_SUCH_METHOD,
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    "lead-detail": {
        "GET": READ_OWN_LEAD,
        "POST": api(sdr=D, ops=N, manager=D, forms=N, tracking=D, crm=N),
        "PUT": CHANGE_NO_SUCH_METHOD,
        "PATCH": api(sdr=D, ops=A, manager=D, forms=A, tracking=D, crm=A),
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    "account-list": {
        "GET": READ_LEADS,
        "POST": api(sdr=D, ops=A, manager=D, forms=A, tracking=D, crm=A),
        "PUT": api(sdr=D, ops=N, manager=N, forms=N, tracking=D, crm=N),
        "PATCH": api(sdr=D, ops=N, manager=N, forms=N, tracking=D, crm=N),
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    "account-detail": {
        "GET": READ_OWN_LEAD,
        "POST": api(sdr=D, ops=N, manager=D, forms=N, tracking=D, crm=N),
        "PUT": api(sdr=D, ops=N, manager=N, forms=N, tracking=D, crm=N),
        "PATCH": api(sdr=D, ops=N, manager=N, forms=N, tracking=D, crm=N),
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    "activity-list": {
        "GET": READ_LEADS,
        "POST": api(sdr=D, ops=A, manager=D, forms=D, tracking=A, crm=D),
        "PUT": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
        "PATCH": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    "activity-detail": {
        "GET": READ_OWN_LEAD,
        "POST": api(sdr=D, ops=N, manager=D, forms=D, tracking=N, crm=D),
        "PUT": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
        "PATCH": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    # The change feed of leads: read as the list; it only reads.
    "lead-changes": {
        "GET": READ_LEADS,
        "POST": api(sdr=D, ops=N, manager=D, forms=N, tracking=D, crm=N),
        "PUT": CHANGE_NO_SUCH_METHOD,
        "PATCH": CHANGE_NO_SUCH_METHOD,
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    # Sending a lead to sales by hand: marketing ops and sales managers (the
    # empty body gets 400); no token may, whatever its scopes.
    "lead-send-to-sales": {
        "GET": api(sdr=D, ops=N, manager=N, forms=D, tracking=D, crm=D),
        "POST": api(sdr=D, ops=A, manager=A, forms=D, tracking=D, crm=D),
        "PUT": api(sdr=D, ops=N, manager=N, forms=D, tracking=D, crm=D),
        "PATCH": api(sdr=D, ops=N, manager=N, forms=D, tracking=D, crm=D),
        "DELETE": api(sdr=D, ops=N, manager=N, forms=D, tracking=D, crm=D),
    },
    # --- API: the standard intake (a CDP's calls; a form's submission) ----------------------
    # POST only, by a CDP's write key (the empty body gets 400); people's
    # sessions are not taken there, only keys.
    **{
        name: {
            "GET": CDP_ONLY,
            "POST": api(sdr=L, ops=L, manager=L, forms=D, tracking=D, crm=D, cdp=A),
            "PUT": CDP_ONLY,
            "PATCH": CDP_ONLY,
            "DELETE": CDP_ONLY,
        }
        for name in ("segment-identify", "segment-track", "segment-page", "segment-batch")
    },
    # POST only: whoever may create leads (the empty body gets 400).
    "form-submission": {
        "GET": api(sdr=N, ops=N, manager=N, forms=D, tracking=D, crm=D),
        "POST": api(sdr=D, ops=A, manager=D, forms=A, tracking=D, crm=A),
        "PUT": CHANGE_NO_SUCH_METHOD,
        "PATCH": CHANGE_NO_SUCH_METHOD,
        "DELETE": DELETE_NO_SUCH_METHOD,
    },
    # --- API: routing (queues and memberships are not for integrations) ---------------------
    "queue-list": {
        "GET": ROUTING_READ,
        "POST": ROUTING_CHANGE,
        "PUT": ROUTING_CHANGE,
        "PATCH": ROUTING_CHANGE,
        "DELETE": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
    },
    "queue-detail": {
        "GET": ROUTING_READ,
        "POST": ROUTING_CHANGE,
        "PUT": ROUTING_CHANGE,
        "PATCH": ROUTING_CHANGE,
        "DELETE": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
    },
    "membership-list": {
        "GET": ROUTING_READ,
        "POST": ROUTING_CHANGE,
        "PUT": ROUTING_CHANGE,
        "PATCH": ROUTING_CHANGE,
        "DELETE": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
    },
    "membership-detail": {
        "GET": ROUTING_READ_OWN,
        "POST": ROUTING_CHANGE,
        "PUT": ROUTING_CHANGE,
        "PATCH": ROUTING_CHANGE,
        "DELETE": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=D),
    },
    # Managers hold change_assignment (for the admin's reassignments): the API
    # has no such method for them.
    "assignment-list": read_only_api(read=READ_LEADS, write_perm_holders={"manager": N}),
    "assignment-detail": read_only_api(read=READ_OWN_LEAD, write_perm_holders={"manager": N}),
    "assignment-changes": read_only_api(read=READ_LEADS, write_perm_holders={"manager": N}),
    "assignment-accept": sdr_action(),
    "assignment-reject": sdr_action(),  # 400: the empty form names no reason
    "assignment-recycle": sdr_action(),
    "assignment-touch": sdr_action(),  # 400: the empty form names no kind
    # --- API: scores and outcomes ---------------------------------------------------------
    "score-list": read_only_api(read=SCORES_READ),
    "score-detail": read_only_api(read=SCORES_READ_OWN),
    "score-changes": read_only_api(read=SCORES_READ),
    "account-score-list": read_only_api(read=SCORES_READ),
    "account-score-detail": read_only_api(read=SCORES_READ_OWN),
    # SDRs follow their leads on the lead page, not through the opportunities API.
    "opportunity-list": {
        "GET": api(sdr=D, ops=A, manager=A, forms=D, tracking=D, crm=A),
        "POST": api(sdr=D, ops=D, manager=D, forms=D, tracking=D, crm=A),
        "PUT": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=N),
        "PATCH": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=N),
        "DELETE": api(sdr=D, ops=D, manager=D, forms=D, tracking=D, crm=D),
    },
    "opportunity-changes": {
        "GET": api(sdr=D, ops=A, manager=A, forms=D, tracking=D, crm=A),
        "POST": api(sdr=D, ops=D, manager=D, forms=D, tracking=D, crm=N),
        "PUT": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=N),
        "PATCH": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=N),
        "DELETE": api(sdr=D, ops=D, manager=D, forms=D, tracking=D, crm=D),
    },
    "opportunity-detail": {
        "GET": api(sdr=D, ops=A, manager=A, forms=D, tracking=D, crm=A),
        "POST": api(sdr=D, ops=D, manager=D, forms=D, tracking=D, crm=N),
        "PUT": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=N),
        "PATCH": api(sdr=D, ops=N, manager=D, forms=D, tracking=D, crm=N),
        "DELETE": api(sdr=D, ops=D, manager=D, forms=D, tracking=D, crm=D),
    },
    # --- API: a person's data, for those with the permissions of their own (marketing ops) ---
    "erasure-list": {
        "GET": PRIVACY_ONLY,
        "POST": PRIVACY_ONLY,  # 400: the empty body names no lead
        "PUT": PRIVACY_NO_SUCH_METHOD,
        "PATCH": PRIVACY_NO_SUCH_METHOD,
        "DELETE": PRIVACY_NO_SUCH_METHOD,
    },
    "erasure-detail": {
        "GET": PRIVACY_ONLY,
        **{m: PRIVACY_NO_SUCH_METHOD for m in API_METHODS[1:]},
    },
    "person-export-detail": {
        "GET": PRIVACY_ONLY,
        **{m: PRIVACY_NO_SUCH_METHOD for m in API_METHODS[1:]},
    },
    # --- API: webhook endpoints (an empty POST or PUT is refused with 400) --------
    "webhook-endpoint-list": {
        "GET": WEBHOOKS_OPS,
        "POST": WEBHOOKS_OPS,
        "PUT": WEBHOOKS_NO_SUCH_METHOD,
        "PATCH": WEBHOOKS_NO_SUCH_METHOD,
        "DELETE": WEBHOOKS_NO_SUCH_METHOD,
    },
    "webhook-endpoint-detail": {
        "GET": WEBHOOKS_OPS,
        "POST": WEBHOOKS_NO_SUCH_METHOD,
        "PUT": WEBHOOKS_OPS,
        "PATCH": WEBHOOKS_OPS,
        "DELETE": WEBHOOKS_OPS,
    },
    "webhook-endpoint-rotate": {
        "GET": WEBHOOKS_NO_SUCH_METHOD,
        "POST": WEBHOOKS_OPS,
        "PUT": WEBHOOKS_NO_SUCH_METHOD,
        "PATCH": WEBHOOKS_NO_SUCH_METHOD,
        "DELETE": WEBHOOKS_NO_SUCH_METHOD,
    },
    # --- API: the index of links, the schema and its docs (signed in) -------------
    "api-root": {
        "GET": everyone(A, anonymous=L, revoked=L),
        **{
            m: everyone(N, anonymous=L, forms=D, tracking=D, crm=D, cdp=D, revoked=L)
            for m in API_METHODS[1:]
        },
    },
    "api-schema": {
        "GET": everyone(A, anonymous=L, revoked=L),
        **{m: everyone(N, anonymous=L, revoked=L) for m in API_METHODS[1:]},
    },
    # The docs are a page for people: the rest are sent to log in.
    "api-docs": {
        "GET": everyone(L, **dict.fromkeys(PEOPLE[1:], A)),
        **{m: everyone(L, **dict.fromkeys(PEOPLE[1:], N)) for m in API_METHODS[1:]},
    },
    # --- Admin pages beyond the model rule ------------------------------------------------
    "admin:index": {"GET": admin_only(), "POST": admin_only()},
    "admin:login": {"GET": everyone(A), "POST": everyone(A)},
    # Logging out of the admin: others are sent to the admin's index (and on to log in).
    "admin:logout": {
        "GET": admin_only(N, **dict.fromkeys(PRINCIPALS[:3], A), **dict.fromkeys(TOKEN_SCOPES, A)),
        "POST": everyone(A),
    },
    "admin:password_change": {"GET": admin_only(), "POST": admin_only()},
    "admin:password_change_done": {"GET": admin_only(), "POST": admin_only(N)},
    "admin:jsi18n": {"GET": admin_only(), "POST": admin_only(N)},
    # Without its parameters autocomplete refuses (403); it is GET only.
    "admin:autocomplete": {"GET": admin_only(D), "POST": admin_only(N)},
    "admin:view_on_site": {"GET": admin_only(H), "POST": admin_only(H)},
    "admin:app_list": {"GET": admin_only(), "POST": admin_only()},
    # Setting someone's password: nobody but a superuser (no role holds change_user).
    "admin:auth_user_password_change": {"GET": admin_only(D), "POST": admin_only(D)},
    "admin/(?P<url>.*)$": {"GET": admin_only(H), "POST": admin_only(H)},
    # Custom admin pages: merging leads takes change and delete on leads.
    "admin:leads_lead_merge": {"GET": admin_only(manager=D), "POST": admin_only(manager=D)},
    # Sending a lead to sales by hand: marketing ops and sales managers (by role).
    "admin:leads_lead_send_to_sales": {"GET": admin_only(), "POST": admin_only()},
    # "Add" is the upload page, which needs the import permission (marketing ops).
    "admin:leads_importjob_add": {"GET": admin_only(), "POST": admin_only()},
    "admin:leads_importjob_import": {"GET": admin_only(manager=D), "POST": admin_only(manager=D)},
    # The wizard's later steps send a session without an upload back to step 1.
    "admin:leads_importjob_map": {"GET": admin_only(manager=D), "POST": admin_only(manager=D)},
    "admin:leads_importjob_preview": {"GET": admin_only(manager=D), "POST": admin_only(manager=D)},
    # The permission first, then the saved mapping (the world has none).
    "admin:leads_importmapping_export": {
        "GET": admin_only(H, manager=D),
        "POST": admin_only(H, manager=D),
    },
    # The permission first, then the job (the world has none).
    "admin:leads_importjob_progress": {
        "GET": admin_only(H, manager=D),
        "POST": admin_only(H, manager=D),
    },
    # Approving the live version is refused with a message (a redirect): only
    # managers may try; marketing ops hold no approve permission.
    "admin:scoring_scoringmodel_step": {"GET": admin_only(N), "POST": admin_only(ops=D)},
    "admin:scoring_scoringmodel_preview": {"GET": admin_only(), "POST": admin_only()},
    # A rule row's sentence and match count, asked by htmx as ops edit (POST only).
    "admin:scoring_scoringmodel_rule_live": {"GET": admin_only(N), "POST": admin_only()},
    "admin:scoring_rescorejob_progress": {"GET": admin_only(H), "POST": admin_only(H)},
    "admin:feedback_recalibration_add": {"GET": admin_only(), "POST": admin_only()},
    "admin:feedback_recalibration_start": {
        "GET": admin_only(manager=D),
        "POST": admin_only(manager=D),
    },
    "admin:feedback_recalibration_progress": {"GET": admin_only(H), "POST": admin_only(H)},
    # Erasing and exporting a person: the permissions of their own (marketing ops).
    "admin:privacy_erase": {"GET": admin_only(manager=D), "POST": admin_only(manager=D)},
    "admin:privacy_export": {"GET": admin_only(manager=D), "POST": admin_only(manager=D)},
    # A webhook endpoint's secret rotated, a test event sent: change_webhookendpoint
    # (marketing ops); a GET is sent back to the endpoint's page.
    "admin:handoff_webhookendpoint_rotate": {
        "GET": admin_only(manager=D),
        "POST": admin_only(manager=D),
    },
    "admin:handoff_webhookendpoint_send_test": {
        "GET": admin_only(manager=D),
        "POST": admin_only(manager=D),
    },
}
# Admin model pages follow the rule in admin_rule().
ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "delete", "history")


# --- The URLconf, walked ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name (namespaced), or the route itself when it has no name
    name: str | None
    route: str
    params: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")


def _params(pattern) -> tuple[str, ...]:
    if hasattr(pattern, "converters") and pattern.converters:
        return tuple(pattern.converters)
    return tuple(pattern.regex.groupindex)


def walk(patterns=None, prefix: str = "", namespace: str = "", params: tuple[str, ...] = ()):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        found = params + _params(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from walk(entry.url_patterns, route, ns, found)
        elif isinstance(entry, URLPattern):
            name = namespace + entry.name if entry.name else None
            yield Route(name or route, name, route, found)


ROUTES = list(walk())


def admin_model_page(route: Route) -> tuple[str, str, str] | None:
    """(app, model, view) for the standard pages of a model admin:
    admin:<app>_<model>_<view>, and admin/<app>/<model>/<object_id>/ (unnamed,
    a redirect to the change page)."""
    parts = route.route.split("/")
    if route.key in EXPECTED or len(parts) < 4 or parts[0] != "admin":
        return None
    app, model = parts[1], parts[2]
    for view in ADMIN_MODEL_VIEWS:
        if route.name == f"admin:{app}_{model}_{view}":
            return app, model, view
    if route.name is None and route.route == f"admin/{app}/{model}/<path:object_id>/":
        return app, model, "redirect"
    return None


def admin_rule_applies(route: Route) -> bool:
    return admin_model_page(route) is not None


def without_answers(routes: list[Route]) -> list[str]:
    return sorted({r.key for r in routes if r.key not in EXPECTED and not admin_rule_applies(r)})


def test_a_new_url_without_answers_is_caught():
    health = Route("health", "health", "health/", ())
    admin_page = Route(
        "admin:leads_lead_export", "admin:leads_lead_export", "admin/leads/lead/export/", ()
    )

    assert without_answers([*ROUTES, health, admin_page]) == ["admin:leads_lead_export", "health"]


def test_every_url_has_expected_answers():
    missing = without_answers(ROUTES)
    stale = sorted(set(EXPECTED) - {r.key for r in ROUTES})

    assert not missing, (
        f"New page(s) with no expected answers in the permission matrix: {missing}. Add a row "
        "for each to EXPECTED in tests/test_permission_matrix.py, keyed by the URL name: what "
        "each principal gets for each method, e.g. "
        '"health": {"GET": everyone(ALLOWED), "POST": everyone(NO_METHOD)}; and give its '
        "URL parameters a value in url_kwargs() if it has any."
    )
    assert not stale, f"Rows of EXPECTED for URLs that no longer exist: {stale}"


def test_each_row_names_every_principal_and_method():
    for key, methods in EXPECTED.items():
        route = next(r for r in ROUTES if r.key == key)
        wanted = API_METHODS if route.is_api else PAGE_METHODS
        assert set(methods) == set(wanted), f"{key}: methods {sorted(methods)}, want {wanted}"
        for method, answers in methods.items():
            assert set(answers) == set(PRINCIPALS), f"{key} {method}: {sorted(answers)}"


# --- The world the requests meet ------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    clients: dict[str, Client]
    lead: Lead
    assignment_id: int
    accepted_lead_id: int
    ids: dict[str, int]


@pytest.fixture
def world(sdr, other_sdr, marketing_ops, manager, integration_user) -> World:
    inbound, demo = Queue.objects.get(name="Inbound MQLs"), Queue.objects.get(name="Demo requests")
    seat([sdr, other_sdr], [demo, inbound])
    assignment = mql_for(sdr, 1)
    accepted = mql_for(sdr, 2)
    accept_mql(assignment=accepted, by=sdr)
    lead = assignment.lead
    # The API shows an SDR the leads they own (Lead.owner, as an import or the
    # CRM sets it; routing does not).
    Lead.objects.filter(pk__in=[lead.pk, accepted.lead_id]).update(owner=sdr)
    score_accounts(account_ids=[lead.account_id])
    opportunity = Opportunity.objects.create(
        crm_id="006-1", lead=accepted.lead, amount=1000, created_on=timezone.localdate()
    )
    webhook_endpoint = create_endpoint(
        name="Warehouse",
        url="https://hooks.example.org/handoff",
        event_types=["lead.mql"],
        by=marketing_ops,
    ).endpoint
    erasure = erase_person(
        lead=factories.make_lead("gone@example.org"), by=marketing_ops, request_reference="T-1"
    )
    people = {
        "anonymous": None,
        "sdr": sdr,
        "other_sdr": other_sdr,
        "ops": marketing_ops,
        "manager": manager,
    }
    clients: dict[str, Client] = {}
    for name, user in people.items():
        clients[name] = Client()
        if user is not None:
            clients[name].force_login(user)
    for name, scopes in TOKEN_SCOPES.items():
        issued = tokens.issue_token(
            name=name, scopes=scopes, user=integration_user, by=marketing_ops
        )
        if name == "revoked":
            tokens.revoke_token(token=issued.token, by=marketing_ops)
        clients[name] = Client(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return World(
        users=people,
        clients=clients,
        lead=lead,
        assignment_id=assignment.pk,
        accepted_lead_id=accepted.lead_id,
        ids={
            "lead": lead.pk,
            "account": lead.account_id,
            "activity": lead.activities.values_list("pk", flat=True).first(),
            "queue": inbound.pk,
            "membership": Membership.objects.get(sdr=sdr, queue=inbound).pk,
            "assignment": assignment.pk,
            "score": lead.pk,
            "account-score": lead.account_id,
            "opportunity": opportunity.pk,
            "erasure": erasure.pk,
            "person-export": lead.pk,
            "webhook-endpoint": webhook_endpoint.pk,
        },
    )


def admin_object_id(app: str, model: str) -> str:
    """An existing row's id, or one no row has (the admin then says so)."""
    found = ContentType.objects.get_by_natural_key(app, model).model_class()
    pk = found.objects.order_by("pk").values_list("pk", flat=True).first()
    return str(pk if pk is not None else 0)


def url_kwargs(route: Route, world: World) -> dict[str, object]:
    """A value for each parameter of the route, pointing at the world's rows."""
    values: dict[str, object] = {}
    for param in route.params:
        if param == "format":
            values[param] = "json"
        elif route.key in ("routing:lead", "routing:act"):
            values[param] = {"pk": world.assignment_id, "action": "accept"}[param]
        elif route.key == "team:reassign":
            values[param] = world.users["sdr"].pk
        elif route.key == "feedback:qualify_sql":
            values[param] = world.accepted_lead_id
        elif route.key in ("lead-send-to-sales", "admin:leads_lead_send_to_sales"):
            values[param] = world.lead.pk
        elif route.is_api:
            values[param] = world.ids[route.name.rsplit("-", 1)[0]]
        elif route.key == "admin:app_list":
            values[param] = "leads"
        elif route.key == "admin:view_on_site":
            values[param] = {
                "content_type_id": ContentType.objects.get_for_model(Lead).pk,
                "object_id": world.lead.pk,
            }[param]
        elif route.key == "admin:scoring_scoringmodel_step":
            values[param] = {
                "object_id": admin_object_id("scoring", "scoringmodel"),
                "step": "approve",
            }[param]
        elif route.key == "admin/(?P<url>.*)$":
            values[param] = "no-such-page/"
        elif route.key == "admin:auth_user_password_change":
            values[param] = world.users["sdr"].pk
        elif param == "object_id":  # admin/<app>/<model>/<object_id>/...
            _, app, model, *_ = route.route.split("/")
            values[param] = admin_object_id(app, model)
        else:
            raise AssertionError(
                f"No value for the parameter {param!r} of {route.key}: give it one in url_kwargs()."
            )
    return values


def url_of(route: Route, world: World) -> str:
    kwargs = url_kwargs(route, world)
    if route.name:
        return reverse(route.name, kwargs=kwargs)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route.route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), path)
    return "/" + path.lstrip("^").rstrip("$")


# --- Asking, and classifying the answer -------------------------------------------------


def answer_of(response) -> str:
    status = response.status_code
    if status == 401:
        return LOGIN
    if status in (301, 302):
        return LOGIN if "next=" in response["Location"] else ALLOWED
    if status in (403, 404, 405):
        return str(status)
    if status >= 500:
        return f"server error {status}"
    return ALLOWED if status < 400 or status == 400 else f"{status}"


def ask(client: Client, method: str, url: str, *, api_call: bool) -> str:
    cookies = SimpleCookie()
    cookies.load(client.cookies.output(header="", sep=";"))
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif api_call:
            response = client.generic(method, url, data=b"{}", content_type="application/json")
        else:
            response = client.post(url, {})
        transaction.set_rollback(True)  # an action that succeeded is undone
    # (Never response.close(): it sends request_finished, which closes the
    # connection the test's transaction runs in.)
    client.cookies = cookies  # a log-out must not log the next request out
    return answer_of(response)


def check(
    route: Route, expected: dict[str, dict[str, str]], world: World, methods: tuple[str, ...]
) -> list[str]:
    url = url_of(route, world)
    wrong = []
    for method in methods:
        for principal in PRINCIPALS:
            got = ask(world.clients[principal], method, url, api_call=route.is_api)
            want = expected[method][principal]
            if got != want:
                wrong.append(f"{method} {url} as {principal}: expected {want}, got {got}")
    return wrong


def test_each_page_and_endpoint_answers_as_expected(world):
    """One test for all (the world takes seconds to build); its failure lists
    every answer that differs from EXPECTED."""
    wrong = []
    for route in ROUTES:
        if route.key not in EXPECTED:
            continue
        if "format" in route.params:
            # The same view as the route without the suffix: reading is enough.
            wrong += check(route, EXPECTED[route.key], world, ("GET",))
        else:
            wrong += check(
                route, EXPECTED[route.key], world, API_METHODS if route.is_api else PAGE_METHODS
            )

    assert not wrong, f"{len(wrong)} unexpected answer(s):\n" + "\n".join(wrong)


# --- The admin's model pages, by rule -----------------------------------------------------


def admin_rule(route: Route, principal: str, method: str, user: User | None) -> str:
    """Only staff get in (everybody else, tokens included, is sent to the admin's
    login); then the model admin's permissions, from its role's groups, decide."""
    if principal not in STAFF:
        return LOGIN
    app, model_name, view = admin_model_page(route)
    model = ContentType.objects.get_by_natural_key(app, model_name).model_class()
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    obj = model.objects.order_by("pk").first()
    if obj is None and view != "changelist" and view != "add":
        return NO_ROW
    may = {
        "changelist": model_admin.has_view_or_change_permission(request),
        "add": model_admin.has_add_permission(request),
        "change": (
            model_admin.has_change_permission(request, obj)
            if method == "POST"
            else model_admin.has_view_or_change_permission(request, obj)
        ),
        "delete": model_admin.has_delete_permission(request, obj),
        "history": model_admin.has_view_or_change_permission(request, obj),
        "redirect": True,  # to the change page, which answers for itself
    }[view]
    return ALLOWED if may else DENIED


# To the admin every principal who is not staff is the same (sent to log in):
# one of each kind stands for them all.
ADMIN_PRINCIPALS = ("anonymous", "sdr", "crm", "ops", "manager")


def test_the_admin_lets_in_staff_only_and_then_by_model_permissions(world):
    wrong = []
    for route in [r for r in ROUTES if admin_rule_applies(r)]:
        url = url_of(route, world)
        # Only the add, change and delete pages treat POST otherwise than GET.
        methods = PAGE_METHODS if route.key.endswith(("_add", "_change", "_delete")) else ("GET",)
        for method in methods:
            for principal in ADMIN_PRINCIPALS:
                want = admin_rule(route, principal, method, world.users.get(principal))
                got = ask(world.clients[principal], method, url, api_call=False)
                if got != want and not (want == NO_ROW and got in (ALLOWED, DENIED, HIDDEN)):
                    wrong.append(f"{method} {url} as {principal}: expected {want}, got {got}")

    assert not wrong, f"{len(wrong)} unexpected answer(s):\n" + "\n".join(wrong)
