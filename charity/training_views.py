"""Training pages: the attendee's sign-in (login-free), the trainer's code screen, certificates."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from assist_center.errors import ApplicationError
from assist_center.http import client_ip
from assist_center.pdf import attachment_response
from assist_center.pii import mask_name
from assist_center.staff_views import add_service_errors

from .models import Attendance, TrainingSession
from .training_codes import WINDOW_SECONDS, code_at, seconds_left
from .training_services import attendance_by_code, certificate_pdf, may_run_session

# The attendances this browser signed in: their certificates download without an account.
SESSION_KEY = "charity_training_attendances"


class AttendForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="手机号码", max_length=20, help_text="用于识别同一人多次参训，不公开。")
    code = forms.CharField(label="签到码", max_length=12, help_text="讲师屏幕上显示的 6 位数字。")


def _session(public_id: str) -> TrainingSession:
    return get_object_or_404(
        TrainingSession.objects.select_related("organisation", "township"), public_id=public_id
    )


@require_http_methods(["GET", "POST"])
def training_attend(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _session(public_id)
    form = AttendForm(request.POST or None)
    attendance = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            attendance = attendance_by_code(
                session=session,
                name=form.cleaned_data["name"],
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                ip=client_ip(request),
            )
        except ApplicationError as exc:
            status = exc.status
            add_service_errors(form, exc)
        else:
            own = list(request.session.get(SESSION_KEY, []))[-20:]
            request.session[SESSION_KEY] = [*own, attendance.pk]
    elif request.method == "POST":
        status = 400
    ctx = {
        "session": session,
        "form": form,
        "attendance": attendance,
        "masked": mask_name(attendance.trainee.name) if attendance else "",
    }
    return render(request, "charity/training/attend.html", ctx, status=status)


@require_GET
@login_required
def training_code(request: HttpRequest, public_id: str) -> HttpResponse:
    """The trainer's screen: the current code, refreshed by the page itself (no JavaScript)."""
    session = _session(public_id)
    if not may_run_session(request.user, session):
        raise Http404
    now = timezone.now()
    left = seconds_left(now)
    ctx = {
        "session": session,
        "code": code_at(session.code_secret, now),
        "seconds_left": left,
        "window_minutes": WINDOW_SECONDS // 60,
        "attend_url": request.build_absolute_uri(f"/charity/training/{session.public_id}/attend/"),
        "attendances": session.attendances.count(),
    }
    response = render(request, "charity/training/code.html", ctx)
    # The page refreshes itself when the code changes (an HTTP header, allowed under the CSP).
    response["Refresh"] = str(max(left, 5))
    return response


@require_GET
def training_certificate(request: HttpRequest, number: str) -> HttpResponse:
    """A certificate: for the browser that signed in, or for whoever runs the session."""
    attendance = (
        Attendance.objects.select_related("session__organisation", "trainee")
        .filter(certificate_number=number)
        .first()
    )
    if attendance is None:
        raise Http404
    own = attendance.pk in request.session.get(SESSION_KEY, [])
    if not own and not may_run_session(request.user, attendance.session):
        raise Http404
    return attachment_response(
        certificate_pdf(attendance),
        content_type="application/pdf",
        filename=f"培训证明-{attendance.certificate_number}.pdf",
        ascii_fallback=f"certificate-{attendance.certificate_number}.pdf",
    )
