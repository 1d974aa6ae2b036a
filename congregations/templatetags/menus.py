"""The congregation's part of the site's menu (templates/base.html)."""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag(takes_context=True)
def congregation_menu(context: dict[str, Any]) -> SafeString:
    """The congregation's name, its switcher and its pages: the same for every member with
    the same role on the same page, rendered once per process for them all (its dozen
    links and labels cost every page more than some pages' own content)."""
    request = context["request"]
    congregation = request.congregation
    return _menu(
        congregation.slug,
        congregation.name,
        request.resolver_match.view_name if request.resolver_match else "",
        request.membership.is_facilitator,
        get_language(),
    )


# Everything the menu shows is in the key: a renamed congregation is a new entry.
@functools.lru_cache(maxsize=2048)
def _menu(slug: str, name: str, here: str, facilitator: bool, language: str) -> SafeString:
    context = {"slug": slug, "name": name, "here": here, "facilitator": facilitator}
    return SafeString(render_to_string("_congregation_menu.html", context))
