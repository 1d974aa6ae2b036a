"""Pages for starting and running a congregation. Each view parses a form, calls one
service or selector, and renders; who may do what is decided by ``requires`` alone."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from microsolidarity.http import AuthenticatedRequest, CongregationRequest

from . import services
from .account_selectors import (
    has_recovery_codes,
    second_factors,
    signed_in_sessions,
)
from .forms import (
    InvitationsForm,
    NewCongregationForm,
    ProfileForm,
    RoleForm,
    SettingsForm,
)
from .models import Invitation, Membership, Permission, Role
from .permissions import requires
from .selectors import (
    congregation_size,
    current_memberships,
    invitations_left,
    membership_history,
    memberships_of,
    visible_invitations,
)
from .web import show_refusal, swap_or_back

HISTORY_PAGE_SIZE = 50


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in Self's congregations; a short welcome for everyone else."""
    if not request.user.is_authenticated:
        return render(request, "congregations/landing.html")
    memberships = memberships_of(self_=request.user)
    return render(request, "congregations/home.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET"])
def switcher(request: AuthenticatedRequest) -> HttpResponse:
    """The navigation's list of the Self's congregations, loaded when it is opened: the
    pages themselves make no query for it."""
    memberships = memberships_of(self_=request.user)
    return render(request, "_switcher.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET", "POST"])
def new_congregation(request: AuthenticatedRequest) -> HttpResponse:
    form = NewCongregationForm(request.POST or None, key_owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            congregation = services.create_congregation(
                facilitator=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                gettext("Welcome to %(congregation)s. Invite the people you trust.")
                % {"congregation": congregation.name},
            )
            return redirect("crews:congregation", congregation_slug=congregation.slug)
    return render(request, "congregations/new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, self_=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(self_=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, gettext("Your profile is saved."))
            return redirect("profile")
    factors = second_factors(self_=request.user)
    context = {
        "form": form,
        "second_factors": factors,
        "has_totp": any(factor.type == "totp" for factor in factors),
        "has_recovery_codes": has_recovery_codes(self_=request.user),
        "sessions": signed_in_sessions(self_=request.user, current_key=request.session.session_key),
    }
    return render(request, "congregations/profile.html", context)


def _url(request: CongregationRequest, name: str, **kwargs: Any) -> str:
    return reverse(
        f"congregations:{name}",
        kwargs={"congregation_slug": request.congregation.slug, **kwargs},
    )


def _membership_or_404(request: CongregationRequest, pk: int) -> Membership:
    return get_object_or_404(current_memberships(congregation=request.congregation), pk=pk)


@require_http_methods(["GET"])
def members(request: CongregationRequest) -> HttpResponse:
    context = {
        "memberships": current_memberships(congregation=request.congregation),
        "size": congregation_size(congregation=request.congregation),
    }
    return render(request, "congregations/members.html", context)


@require_http_methods(["POST"])
@requires(Permission.MANAGE)
def change_role(request: CongregationRequest, pk: int) -> HttpResponse:
    membership = _membership_or_404(request, pk)
    answer = partial(
        swap_or_back,
        request,
        "congregations/members.html#member",
        lambda: {"membership": membership},
        back=_url(request, "members"),
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        # Translators: a facilitator looks after the congregation; a member belongs to it.
        return answer(refusal=ValidationError(gettext("Choose facilitator or member.")))
    try:
        services.change_role(
            membership=membership, role=form.cleaned_data["role"], changed_by=request.user
        )
    except ValidationError as error:
        return answer(refusal=error)
    done = (
        # Translators: a facilitator looks after the congregation (invites, settings).
        gettext("%(name)s is now a facilitator.")
        if membership.role == Role.FACILITATOR
        else gettext("%(name)s is now a member.")
    )
    return answer(done=done % {"name": membership.member})


@require_http_methods(["GET", "POST"])
@requires(Permission.MANAGE)
def remove_member(request: CongregationRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST removes."""
    membership = _membership_or_404(request, pk)
    context: dict[str, Any] = {"membership": membership}
    if request.method == "POST":
        try:
            services.remove_member(membership=membership, removed_by=request.user)
        except ValidationError as error:
            context["refusal"] = " ".join(error.messages)
        else:
            messages.success(
                request,
                gettext("%(name)s is no longer a member of %(congregation)s.")
                % {"name": membership.member, "congregation": request.congregation.name},
            )
            return redirect(_url(request, "members"))
    return render(request, "congregations/remove_member.html", context)


@require_http_methods(["GET", "POST"])
def leave(request: CongregationRequest) -> HttpResponse:
    """GET asks to confirm; POST leaves."""
    context: dict[str, Any] = {}
    if request.method == "POST":
        try:
            services.leave_congregation(membership=request.membership)
        except ValidationError as error:
            context["refusal"] = " ".join(error.messages)
        else:
            messages.success(
                request,
                gettext("You have left %(congregation)s.")
                % {"congregation": request.congregation.name},
            )
            return redirect("home")
    return render(request, "congregations/leave.html", context)


@require_http_methods(["GET", "POST"])
@requires(Permission.INVITE)
def invitations(request: CongregationRequest) -> HttpResponse:
    form = InvitationsForm(request.POST or None, key_owner=request.congregation)
    outcomes: list[services.InvitationOutcome] = []
    if request.method == "POST" and form.is_valid():
        try:
            outcomes = services.invite_each(
                congregation=request.congregation,
                emails=form.cleaned_data["emails"],
                invited_by=request.user,
                note=form.cleaned_data["note"],
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            refused = [outcome.email for outcome in outcomes if outcome.invitation is None]
            if not refused:
                # Sent, then shown on a fresh page: reloading it sends nothing again.
                sent = ", ".join(outcome.email for outcome in outcomes)
                messages.success(
                    request,
                    ngettext(
                        "Invited %(emails)s: the email with the link is on its way.",
                        "Invited %(emails)s: the emails with the links are on their way.",
                        len(outcomes),
                    )
                    % {"emails": sent},
                )
                return redirect(_url(request, "invitations"))
            # The report says what became of each address; the refused ones stay in the
            # box, with the note, to be fixed and sent again, with a fresh key: this one is
            # spent (sending the same page again reports the same, sending nothing twice).
            form = InvitationsForm(
                initial={"emails": "\n".join(refused), "note": form.cleaned_data["note"]},
                key_owner=request.congregation,
            )
    context = {
        "form": form,
        "outcomes": outcomes,
        "invitations": visible_invitations(membership=request.membership),
        "invitations_left": invitations_left(membership=request.membership),
        "size": congregation_size(congregation=request.congregation),
    }
    return render(request, "congregations/invitations.html", context)


def _invitation_or_404(request: CongregationRequest, pk: int) -> Invitation:
    return get_object_or_404(visible_invitations(membership=request.membership), pk=pk)


def _invitation_answer(
    request: CongregationRequest, invitation: Invitation
) -> Callable[..., HttpResponse]:
    return partial(
        swap_or_back,
        request,
        "congregations/invitations.html#invitation",
        lambda: {"invitation": invitation},
        back=_url(request, "invitations"),
    )


@require_http_methods(["POST"])
@requires(Permission.INVITE)
def resend_invitation(request: CongregationRequest, pk: int) -> HttpResponse:
    invitation = _invitation_or_404(request, pk)
    answer = _invitation_answer(request, invitation)
    try:
        services.resend_invitation(invitation=invitation, resent_by=request.user)
    except ValidationError as error:
        return answer(refusal=error)
    return answer(
        done=gettext("A new link is on its way to %(email)s.") % {"email": invitation.email}
    )


@require_http_methods(["POST"])
@requires(Permission.INVITE)
def revoke_invitation(request: CongregationRequest, pk: int) -> HttpResponse:
    invitation = _invitation_or_404(request, pk)
    answer = _invitation_answer(request, invitation)
    try:
        services.revoke_invitation(invitation=invitation, revoked_by=request.user)
    except ValidationError as error:
        return answer(refusal=error)
    return answer(
        done=gettext("The link sent to %(email)s no longer works.") % {"email": invitation.email}
    )


@require_http_methods(["GET", "POST"])
@requires(Permission.MANAGE)
def congregation_settings(request: CongregationRequest) -> HttpResponse:
    form = SettingsForm(
        request.POST or None,
        initial=model_to_dict(request.congregation, fields=services.SETTINGS_FIELDS),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(
                congregation=request.congregation, changed_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, gettext("The settings are saved."))
            return redirect(_url(request, "settings"))
    return render(request, "congregations/settings.html", {"form": form})


@require_http_methods(["GET"])
@requires(Permission.MANAGE)
def history(request: CongregationRequest) -> HttpResponse:
    events = membership_history(congregation=request.congregation)
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "congregations/history.html", {"page": page})
