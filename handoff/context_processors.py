from django.utils.functional import SimpleLazyObject

from handoff import roles as role_names
from handoff.notices.selectors import unread_notices


def roles(request):
    """Which places the navigation shows: each role sees its own."""
    user = request.user
    return {
        "is_sdr": role_names.has_role(user, role_names.SDR),
        "is_marketing_ops": role_names.has_role(user, role_names.MARKETING_OPS),
        "is_sales_manager": role_names.has_role(user, role_names.SALES_MANAGER),
        "sees_every_lead": role_names.sees_every_lead(user),
    }


def notices(request):
    """The unread count the navigation shows on every page. Lazy: counted
    only when a page shows it (the admin's pages do not), and a view that
    counted already passes its own ``notice_count``, which wins."""
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"notice_count": SimpleLazyObject(lambda: unread_notices(user).count())}
