"""Template context that crosses the apps' layers, supplied from above them.

A lower app's page may offer the next step, which a higher app owns: routing's
lead page links an accepted lead to feedback's SQL form. Routing may not name
feedback (imports and links go one way only, down), so config, which sits above
every app, hands routing's templates the URL name to reverse; the template
links with ``{% url sql_form_url_name lead.pk %}`` and never names feedback.
"""

from django.http import HttpRequest


def next_steps(request: HttpRequest) -> dict[str, str]:
    """URL names of pages in higher apps that lower apps' templates link to."""
    return {"sql_form_url_name": "feedback:qualify_sql"}
