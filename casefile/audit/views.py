"""The auditor's console: the trail, per user, per case, flags, CSV export, chain verification.

Auditors only (anyone else gets a 404). No page here reads a case row: events carry the
reference, and ``console.shown_details`` keeps case content out of what is shown.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from casefile import access
from casefile.audit import console
from casefile.audit.forms import EventFilterForm, PageForm, VerifyForm
from casefile.auth.models import Role
from casefile.cases.search import REFERENCE
from casefile.db import utcnow
from casefile.evidence import vocab as evidence_vocab

bp = Blueprint("audit", __name__, url_prefix="/audit")
FAILED_LOGIN_BURST = "CASEFILE_AUDIT_FAILED_LOGIN_BURST"
VIEWS_PER_HOUR = "CASEFILE_AUDIT_VIEWS_PER_HOUR"


def _break_label(kind: str | None) -> str:
    labels = {"altered": _("altered"), "removed": _("removed"), "inserted": _("inserted"),
              "reordered": _("reordered")}
    return labels.get(kind or "", kind or _("unknown"))


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _filter_form() -> tuple[EventFilterForm, bool]:
    form = EventFilterForm(request.args)
    form.set_actions(console.action_names())
    return form, not request.args or form.validate()


def _page_form() -> tuple[PageForm, bool]:
    form = PageForm(request.args)
    return form, not request.args or form.validate()


def _bad_request(template: str, **context: object) -> tuple[str, int]:
    # 400 tells the browser and the tests that the parameters were refused.
    return render_template(template, **context), 400


def _index(form: EventFilterForm, page: console.Page | None) -> str:
    return render_template("audit/index.html", form=form, page=page, status=console.chain_status(),
                           verify_form=VerifyForm(), details=console.shown_details)


@bp.route("")
@access.roles(Role.AUDITOR)
def index() -> str | tuple[str, int]:
    form, valid = _filter_form()
    if not valid:
        return _index(form, None), 400
    return _index(form, console.find_events(form.filters(), form.page.data))


@bp.route("/export.csv")
@access.roles(Role.AUDITOR)
@access.recent_auth(methods=("GET",))
def export() -> Response | tuple[str, int]:
    form, valid = _filter_form()
    if not valid:
        return _index(form, None), 400
    rows = console.export_csv(_actor(), form.filters())
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(stream_with_context(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="audit-events-{stamp}.csv"',
        "Cache-Control": "no-store",
    })


@bp.route("/verify", methods=["POST"])
@access.roles(Role.AUDITOR)
def verify() -> Response:
    if not VerifyForm().validate_on_submit():  # CSRFProtect refuses a missing token before this
        abort(400)
    report = console.verify_now(_actor())
    if report.ok:
        flash(_("The chain is intact: %(count)s events, head %(hash)s.", count=report.count,
                hash=report.head_hash or "—"), "success")
    else:
        flash(_("The chain is broken at event #%(seq)s (%(kind)s): %(message)s", seq=report.first_broken_seq,
                kind=_break_label(report.kind), message=report.message), "error")
    return redirect(url_for("audit.index"))


@bp.route("/users/<path:username>")
@access.roles(Role.AUDITOR)
def user(username: str) -> str | tuple[str, int]:
    form, valid = _page_form()
    problem = None if len(username) <= 64 and username.isprintable() else _(
        "This is not a username that could be in the trail.")
    if problem or not valid:
        return _bad_request("audit/user.html", form=form, problem=problem, username=username, page=None, counts=[],
                            account=None, details=console.shown_details)
    page, counts, account = console.user_activity(username.lower(), form.page.data)
    return render_template("audit/user.html", form=form, username=username.lower(), page=page, counts=counts,
                           account=account, details=console.shown_details)


# ``case_ref``, not ``reference``: this page reads no case row, so it is not one of the case
# routes that answer by the case's visibility; an auditor sees the history of any reference.
@bp.route("/cases/<case_ref>")
@access.roles(Role.AUDITOR)
def case(case_ref: str) -> str | tuple[str, int]:
    form, valid = _page_form()
    problem = None if REFERENCE.match(case_ref) else _("Write a case reference such as KZ-2025-00042.")
    if problem or not valid:
        return _bad_request("audit/case.html", form=form, problem=problem, reference=case_ref, page=None,
                            summary=[], details=console.shown_details)
    page, summary = console.case_history(case_ref.upper(), form.page.data)
    evidence = console.case_evidence(current_user._get_current_object(), case_ref.upper())
    return render_template("audit/case.html", form=form, reference=case_ref.upper(), page=page, summary=summary,
                           details=console.shown_details, evidence=evidence, evidence_vocab=evidence_vocab)


@bp.route("/flags")
@access.roles(Role.AUDITOR)
def flags() -> str | tuple[str, int]:
    form, valid = _page_form()
    burst = int(current_app.config.get(FAILED_LOGIN_BURST, 5))
    per_hour = int(current_app.config.get(VIEWS_PER_HOUR, 50))
    by_account, by_address = console.failed_login_bursts(burst)
    context = {"form": form, "burst": burst, "per_hour": per_hour, "by_account": by_account,
               "by_address": by_address, "viewers": console.heavy_viewers(per_hour),
               "window_days": console.FLAG_WINDOW.days, "details": console.shown_details}
    if not valid:
        return _bad_request("audit/flags.html", page=None, **context)
    return render_template("audit/flags.html", page=console.exports_and_downloads(form.page.data), **context)

