"""The operators' admin. It sees every congregation, so it goes through the door between them."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse

from congregations.tenancy import across_congregations


class OperatorAdminSite(admin.AdminSite):
    site_header = "Microsolidarity operators"
    site_title = "Microsolidarity"

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Operators sign in where everyone does: allauth's throttled form, with their
        second factor if they have one. The admin's own form would try passwords
        unthrottled."""
        # Imported here: this module is loaded with the app registry, before allauth's.
        from allauth.account.decorators import secure_admin_login

        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def unscoped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            with across_congregations():
                response = inner(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                    response.render()
                return response

        return unscoped


class OperatorAdminConfig(AdminConfig):
    default_site = "microsolidarity.admin.OperatorAdminSite"

    def ready(self) -> None:
        super().ready()
        # This module is loaded with the app registry, before models can be imported.
        from .models import ItemFailure

        admin.site.register(ItemFailure, ItemFailureAdmin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tenant data changes only through the domain services, never by editing rows here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ItemFailureAdmin(ReadOnlyAdmin):
    """What the periodic jobs failed on: retried with backoff, then given up."""

    list_display = ["job", "item_id", "attempts", "last_error", "retry_after", "gave_up_at"]
    list_filter = ["job", ("gave_up_at", admin.EmptyFieldListFilter)]
    search_fields = ["last_error"]
