"""Pages of the notifications app: the inbox, read marks, preferences, unsubscribe."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.views.pagination import paginate
from salesmgmt.decorators import people_only
from salesmgmt.models import User
from salesmgmt.page_actions import call_service, next_url

from . import mail, selectors, services
from .forms import InboxFilterForm, PreferencesForm
from .kinds import Kind


@people_only
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first, 25 a page; filter by kind and unread."""
    form = InboxFilterForm(request.GET)
    kind, unread = "", False
    if form.is_valid():
        kind, unread = form.cleaned_data["kind"], form.cleaned_data["unread"]
    rows = selectors.notification_list(user=request.user, kind=kind, unread_only=unread)
    context = {"form": form, "notifications": paginate(request, rows), "kind": kind}
    return render(request, "notifications/inbox.html", context)


@people_only
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark read, then go to the record it is about (or back to the inbox)."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    if request.POST.get("stay"):
        return redirect(next_url(request, reverse("notifications:inbox")))
    return redirect(notification.link or reverse("notifications:inbox"))


@people_only
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    marked = services.notifications_mark_all_read(
        actor=request.user, kind=kind if kind in Kind.values else ""
    )
    messages.success(request, f"Marked {marked} read.")
    return redirect(next_url(request, reverse("notifications:inbox")))


@people_only
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Per kind: in the app only, at once by mail, in the digest, or off; the digest's time."""
    current = selectors.preferences_get(user=request.user)
    status = 200
    if request.method == "POST":
        form = PreferencesForm(request.POST, preferences=current)
        status = 400
        if form.is_valid():
            _, status = call_service(
                form,
                lambda: services.preferences_update(
                    actor=request.user, channels=form.channels(), digest=form.digest()
                ),
            )
            if status == 200:
                messages.success(request, "Saved your notification preferences.")
                return redirect("notifications:preferences")
    else:
        form = PreferencesForm(preferences=current)
    return render(request, "notifications/preferences.html", {"form": form}, status=status)


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session or token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link of a mail: stops that kind of mail for its person, no login needed."""
    found = mail.unsubscribe_read(token)
    person = User.objects.filter(pk=found[0], is_active=True).first() if found else None
    if found is None or person is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    kind = found[1]
    label = "the weekly digest" if kind == mail.DIGEST else f"“{Kind(kind).label}” mails"
    # Only a POST unsubscribes (the page's button, or the mail client's RFC 8058 one-click):
    # mail scanners open every link with GET and would otherwise unsubscribe people.
    done = request.method == "POST"
    if done:
        services.unsubscribe(person=person, kind=kind)
    return render(request, "notifications/unsubscribe.html", {"label": label, "done": done})
