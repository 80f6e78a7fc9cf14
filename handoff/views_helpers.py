"""What every server-rendered page shares."""

from django import forms

from handoff.errors import DomainError


def show_domain_error(form: forms.Form, error: DomainError) -> None:
    """The one place where a service's refusal becomes a message on a page:
    on the field it names when the form has it, else above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)
