from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Field
from django.http import HttpRequest

from microsolidarity.admin import ReadOnlyAdmin

from .models import Congregation, Email, Invitation, Membership, MembershipEvent, Self
from .timezones import TimeZoneChoiceField


@admin.register(Self)
class SelfAdmin(UserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "timezone", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "display_name"]
    list_filter = ["is_active", "is_staff"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "timezone", "paid_work", "meaningful_work")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("date_joined", "last_login", "anonymised_at")}),
    )
    add_fieldsets = ((None, {"fields": ("email", "display_name", "password1", "password2")}),)
    readonly_fields = ["date_joined", "last_login", "anonymised_at"]

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "timezone":  # the list people choose from, not every alias
            return TimeZoneChoiceField()
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        timezone = form.base_fields.get("timezone")
        if obj is not None and isinstance(timezone, TimeZoneChoiceField):
            timezone.keep(obj.timezone)  # a fresh field each time: the form class is too
        return form


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("member", "role", "joined_at", "left_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Congregation)
class CongregationAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["member", "congregation", "role", "joined_at", "left_at"]
    list_filter = ["role", "congregation"]
    search_fields = ["member__email", "member__display_name", "congregation__name"]
    list_select_related = ["member", "congregation"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "congregation", "invited_by", "sent_at", "expires_at", "status"]
    list_filter = ["congregation"]
    search_fields = ["email"]
    list_select_related = ["congregation", "invited_by"]
    exclude = ["token_hash"]


@admin.register(MembershipEvent)
class MembershipEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "congregation", "actor", "action", "subject", "email"]
    list_filter = ["action", "congregation"]
    list_select_related = ["congregation", "actor", "subject"]


@admin.register(Email)
class EmailAdmin(ReadOnlyAdmin):
    """The outbox: what went out, what waits, and what never will (failed, with why)."""

    list_display = ["subject", "address", "congregation", "created_at", "sent_at", "failed_at"]
    list_filter = [
        ("sent_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["address", "subject"]
    list_select_related = ["congregation"]
    exclude = ["body", "attachment"]  # links with tokens in them
