"""The inbox: every person's notices, unread first in mind; thin over the services."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from controlplane.notifications import services
from controlplane.notifications.filtersets import NoticeFilterSet
from controlplane.notifications.forms import PreferenceForm
from controlplane.notifications.models import Notice
from controlplane.notifications.registry import KINDS
from controlplane.web.lists import list_page


@require_safe
def inbox(request):
    pref = services.preference_of(request.user)
    form = PreferenceForm(
        initial={"email": pref.email, "wanted": [k for k in KINDS if k not in pref.muted]}
    )
    return list_page(
        request,
        "notifications/inbox.html",
        NoticeFilterSet,
        Notice.objects.filter(recipient=request.user),
        context={"preference_form": form, "has_email": bool(request.user.email)},
    )


@require_POST
def mark_read(request):
    ids = [int(i) for i in request.POST.getlist("notice") if i.isdigit()]
    everything = request.POST.get("all") == "1"
    if not ids and not everything:
        messages.error(request, "Select the notices to mark read, or mark all read.")
        return redirect("notifications:inbox")
    changed = services.notice_mark_read(user=request.user, notices=None if everything else ids)
    messages.success(request, f"{changed} notice(s) marked read.")
    return redirect("notifications:inbox")


@require_POST
def open_notice(request, pk):
    notice = Notice.objects.filter(recipient=request.user, pk=pk).first()
    if notice is None:
        return redirect("notifications:inbox")
    services.notice_mark_read(user=request.user, notices=[notice.pk])
    return redirect(notice.get_absolute_url())


@require_http_methods(["GET", "POST"])
def preferences(request):
    form = PreferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wanted = set(form.cleaned_data["wanted"])
        services.preference_set(
            user=request.user,
            email=form.cleaned_data["email"],
            muted=[k for k in KINDS if k not in wanted],
        )
        messages.success(request, "Notification settings saved.")
        return redirect("notifications:inbox")
    status = 400 if form.errors else 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)
