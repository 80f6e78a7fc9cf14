"""A person's data in the admin: the erasures done, a page to erase a person
and one to export everything held about them. Each needs a permission of
its own."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from handoff.admin import ReadOnlyAdmin
from handoff.errors import DomainError
from handoff.validators import MAX_ID
from leads.models import Lead
from privacy.models import Erasure
from privacy.services import erase_person, export_person


class PersonForm(forms.Form):
    lead = forms.IntegerField(
        label="Lead id",
        min_value=1,
        max_value=MAX_ID,
        help_text="The number in the address of the lead's admin page.",
    )

    def clean_lead(self) -> Lead:
        lead = Lead.objects.filter(pk=self.cleaned_data["lead"]).first()
        if lead is None:
            raise forms.ValidationError(f"No lead has the id {self.cleaned_data['lead']}.")
        return lead


class EraseForm(PersonForm):
    request_reference = forms.CharField(
        label="Request",
        max_length=200,
        help_text="Which request this answers: the ticket, letter or email it came by.",
    )
    confirm = forms.BooleanField(
        label="I understand this cannot be undone",
        error_messages={"required": "Tick this box to confirm: an erasure cannot be undone."},
        help_text="The person's name, email, phone and every text quoting them are replaced "
        "by a pseudonym. Counts, scores, stages and outcomes stay.",
    )


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdmin):
    list_display = ["erased_at", "pseudonym", "lead", "request_reference", "erased_by_name"]
    search_fields = ["pseudonym", "request_reference", "erased_by_name"]
    list_select_related = ["lead"]
    date_hierarchy = "erased_at"
    change_list_template = "admin/privacy/erasure/change_list.html"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("privacy.erase_person") or super().has_view_permission(
            request, obj
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_erase": request.user.has_perm("privacy.erase_person"),
            "may_export": request.user.has_perm("privacy.export_person"),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path("erase/", self.admin_site.admin_view(self.erase_view), name="privacy_erase"),
            path("export/", self.admin_site.admin_view(self.export_view), name="privacy_export"),
            *super().get_urls(),
        ]

    def erase_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("privacy.erase_person"):
            raise PermissionDenied
        form = EraseForm(request.POST or None, initial={"lead": request.GET.get("lead")})
        if request.method == "POST" and form.is_valid():
            try:
                erasure = erase_person(
                    lead=form.cleaned_data["lead"],
                    by=request.user,  # type: ignore[arg-type]  # admin_view: signed in
                    request_reference=form.cleaned_data["request_reference"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"Erased lead #{erasure.lead_id}: it is now {erasure.pseudonym}.",
                    messages.SUCCESS,
                )
                return redirect("admin:privacy_erasure_changelist")
        return self._form_page(request, form, "Erase a person's data", "Erase")

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("privacy.export_person"):
            raise PermissionDenied
        form = PersonForm(request.POST or None, initial={"lead": request.GET.get("lead")})
        if request.method == "POST" and form.is_valid():
            lead = form.cleaned_data["lead"]
            body = json.dumps(export_person(lead=lead), cls=DjangoJSONEncoder, indent=2)
            response = HttpResponse(body, content_type="application/json")
            response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}.json"'
            return response
        return self._form_page(request, form, "Export a person's data", "Download JSON")

    def _form_page(self, request, form, title: str, button: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": title,
            "button": button,
            "opts": self.model._meta,
        }
        return render(request, "admin/privacy/erasure/person_form.html", context)
