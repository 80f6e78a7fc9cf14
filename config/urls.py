from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from config import views
from feedback.api import OpportunityViewSet
from handoff.webhooks.api import WebhookEndpointViewSet
from leads.api import AccountViewSet, ActivityViewSet, LeadViewSet
from leads.intake_api import (
    FormSubmissionView,
    SegmentBatchView,
    SegmentIdentifyView,
    SegmentPageView,
    SegmentTrackView,
)
from privacy.api import ErasureViewSet, PersonExportViewSet
from routing.api import AssignmentViewSet, MembershipViewSet, QueueViewSet
from scoring.api import AccountScoreViewSet, LeadScoreViewSet, SendToSalesView

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("accounts", AccountViewSet, basename="account")
router.register("activities", ActivityViewSet, basename="activity")
router.register("queues", QueueViewSet, basename="queue")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("scores", LeadScoreViewSet, basename="score")
router.register("account-scores", AccountScoreViewSet, basename="account-score")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("erasures", ErasureViewSet, basename="erasure")
router.register("person-exports", PersonExportViewSet, basename="person-export")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

# Errors are pages of the site (the API keeps its JSON answers); see config.views.
handler403 = "config.views.permission_denied"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("handoff.notices.urls")),
    path("queue/", include("routing.urls")),
    path("", include("scoring.urls")),
    path("manager/sla/", include("routing.reports.urls")),
    path("manager/team/", include("routing.team_urls")),
    path("", include("feedback.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    # Segment's HTTP Tracking API paths, without a trailing slash as its
    # libraries and destinations send them (<host>/v1/batch).
    path("api/segment/v1/identify", SegmentIdentifyView.as_view(), name="segment-identify"),
    path("api/segment/v1/track", SegmentTrackView.as_view(), name="segment-track"),
    path("api/segment/v1/page", SegmentPageView.as_view(), name="segment-page"),
    path("api/segment/v1/batch", SegmentBatchView.as_view(), name="segment-batch"),
    path("api/form-submissions/", FormSubmissionView.as_view(), name="form-submission"),
    path(
        "api/leads/<int:pk>/send-to-sales/",
        SendToSalesView.as_view(),
        name="lead-send-to-sales",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, not
    # inline, so the page works under the content security policy. A page for
    # people: whoever is not signed in is sent to log in first.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]
