from handoff import roles as role_names


def roles(request):
    """Which places the navigation shows: each role sees its own."""
    user = request.user
    return {
        "is_sdr": role_names.has_role(user, role_names.SDR),
        "is_marketing_ops": role_names.has_role(user, role_names.MARKETING_OPS),
        "is_sales_manager": role_names.has_role(user, role_names.SALES_MANAGER),
        "sees_every_lead": role_names.sees_every_lead(user),
    }
