"""Pages for deals, accounts and activities: parse, call a selector or service, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from salesmgmt.decorators import people_only


@people_only
def rep_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/rep_home.html", {})
