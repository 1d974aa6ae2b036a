"""The language switcher's way back (templates/_language.html)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.http import HttpRequest
from django.urls import reverse

register = template.Library()


@register.simple_tag
def switch_back(request: HttpRequest | None) -> str:
    """The page to show again in the language chosen: this one, when a GET shows it. A form
    shown again with its errors is at the address it was sent to, which answers only a
    POST: back then to the page the form was on (the Referer, of this site alone), or home."""
    if not isinstance(request, HttpRequest):  # a page rendered without one: 500.html
        return reverse("home")
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return reverse("home")
