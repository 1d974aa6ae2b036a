"""The page an email's unsubscribe link opens, and the one-click POST mail programs send
to it (RFC 8058). It lives outside /c/<slug>/ and asks for no session: the signed token
in the link is what says who and what."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .services import turn_off_emails
from .unsubscribe import KINDS, read_token


# A mail program's one-click POST carries no CSRF token and no cookie; the token is the
# secret that a forged cross-site POST would not know.
@csrf_exempt
# HEAD as GET: some link scanners ask for the headers alone.
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET says what will stop and asks to confirm (link scanners GET every link, so a GET
    changes nothing); POST turns that kind of email off for the token's Self."""
    found = read_token(token)
    if found is None:
        return render(request, "congregations/unsubscribe_invalid.html", status=404)
    self_, kind = found
    context = {"what": KINDS[kind]}
    if request.method == "POST":
        turn_off_emails(self_=self_, kind=kind)
        return render(request, "congregations/unsubscribed.html", context)
    return render(request, "congregations/unsubscribe.html", context)
