"""Posting an admin change page back as a browser would."""


def _form_fields(form) -> dict:
    data = {}
    for bound in form:
        value = bound.value()
        if value is True:
            data[bound.html_name] = "on"
        elif value is not None and value is not False:
            data[bound.html_name] = value
    return data


def change_form_data(response) -> dict:
    """What the browser would post back from a change page, unchanged."""
    data = _form_fields(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(_form_fields(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(_form_fields(form))
    return data
