from rest_framework.permissions import BasePermission, DjangoModelPermissions

from handoff.api.scopes import SAFE_METHODS, scope_needed
from handoff.models import ApiToken


class TokenScopes(BasePermission):
    """A request with an API token must be inside the token's scopes, on top
    of what its integration account's role allows. Requests without a token
    (a signed-in user's session) are not this class's business."""

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        from rest_framework.routers import APIRootView  # imports views: not at load time

        if isinstance(view, APIRootView):
            return request.method in SAFE_METHODS  # the index of links
        needed = scope_needed(getattr(view, "basename", None), request.method)
        if needed is None:
            self.message = (
                f"API tokens may not {request.method} {request.path}: "
                "it is not open to integrations."
            )
            return False
        if needed not in token.scopes:
            self.message = (
                f'This API token lacks the scope "{needed}" that '
                f"{request.method} {request.path} needs; its scopes are: "
                f"{', '.join(token.scopes)}."
            )
            return False
        return True


class RoleModelPermissions(DjangoModelPermissions):
    """Model permissions (granted to the role groups), reads included.

    DRF's stock class lets any authenticated user read; here reading needs the
    view permission too, so a user without a role gets nothing.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }
