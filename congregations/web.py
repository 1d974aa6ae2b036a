"""What every app's pages share after calling a service: a refusal shown on the form or
said as a message, and the answer to an action that htmx swaps in place or, without
JavaScript, a redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html

from microsolidarity.http import AuthenticatedRequest


class SharesItsPage(forms.Form):
    """A form shown beside others with fields of the same name (a meeting's version, a
    round's request key): its fields' ids start with ``id_prefix``, so no id repeats on
    the page and each label names its own field. The names it sends stay the same."""

    id_prefix: ClassVar[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


def show_refusal(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's refusal next to the fields it names, the rest above the form. A form
    whose fields are named otherwise than the service's says so in ``service_fields``."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    renamed: dict[str, str] = getattr(form, "service_fields", {})
    for name, errors in error.error_dict.items():
        field = renamed.get(name, name)
        form.add_error(field if field in form.fields else None, [_linked(e) for e in errors])


def _linked(error: ValidationError) -> ValidationError:
    """A refusal that carries the address of what it is about (``params["url"]``, as
    "already scheduled for that moment" does) shows that address as a link."""
    params = error.params or {}
    if "url" not in params:
        return error
    before, _, after = error.message.partition("%(url)s")
    url = params["url"]
    linked = format_html('{}<a href="{}">{}</a>{}', before % params, url, url, after % params)
    return ValidationError(linked, code=error.code)


def say_outcome(request: AuthenticatedRequest, action: Callable[[], object], done: str) -> bool:
    """Run ``action`` (a service call) and say how it went as messages: its refusal, each
    message of it, or ``done``. True when it was done."""
    try:
        action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    messages.success(request, done)
    return True


def swap_or_back(
    request: AuthenticatedRequest,
    fragment: str,
    context: Callable[[], dict[str, Any]],
    *,
    back: str,
    done: str = "",
    refusal: ValidationError | None = None,
) -> HttpResponse:
    """With htmx, the page's fragment with the outcome in it (``done``, or the ``refused``
    messages), swapped in place; without JavaScript, the outcome as a message and back to
    the page. The fragment's ``context`` is made only when the fragment is rendered: a
    redirect reads none of it (a form posted without JavaScript had made a whole page's
    context, five queries, for nothing)."""
    refused = refusal.messages if refusal else []
    if request.htmx:
        return render(
            request, fragment, {**context(), "done": "" if refused else done, "refused": refused}
        )
    for message in refused:
        messages.error(request, message)
    if done and not refused:
        messages.success(request, done)
    return redirect(back)
