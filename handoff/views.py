from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from leads.selectors import leads_visible_to


@login_required
def home(request):
    """Each role's starting point: where to go, and how many leads are in view."""
    leads = leads_visible_to(request.user)
    return render(request, "home.html", {"lead_count": leads.count()})
