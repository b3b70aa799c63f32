"""The dashboard page: the figures as charts with their tables, each figure linked to its case list."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, url_for
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from casefile import access
from casefile.auth.models import Role
from casefile.cases import vocab
from casefile.dashboard import charts, services
from casefile.dashboard.charts import Chart, Row, Segment
from casefile.db import utcnow
from casefile.packets.followup import OUTCOMES
from casefile.places.gazetteer import get_place

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
NONE = services.NONE


def _list(**filters: str) -> str:
    return url_for("cases.index", **filters)


def _single(label: str, value: int, href: str) -> Row:
    return Row(label, [Segment(label, value, href)])


def _place(code: str) -> str:
    place = get_place(code)
    return place.label(str(get_locale() or "en")) if place else code


def _status_chart(figures: services.Figures) -> Chart:
    keys = list(vocab.STATUSES) + sorted(set(figures.by_status) - set(vocab.STATUSES))
    rows = [_single(vocab.label(vocab.STATUSES, key), figures.by_status.get(key, 0), _list(status=key))
            for key in keys]
    return charts.bars("status", _("Cases by status"),
                       _("One bar per status; the table below gives each figure."), rows, [_("Cases")])


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    # Largest first, "not recorded" last.
    known = sorted(((key, count) for key, count in counts.items() if key != NONE), key=lambda item: (-item[1], item[0]))
    return known + ([(NONE, counts[NONE])] if counts.get(NONE) else [])


def _prefecture_chart(figures: services.Figures) -> Chart:
    rows = [_single(_("Not recorded") if key == NONE else _place(key), count, _list(prefecture=key))
            for key, count in _by_count(figures.by_prefecture)]
    return charts.bars("prefecture", _("Cases by prefecture"),
                       _("The detained person's home prefecture, largest first."), rows, [_("Cases")])


def _hometown_label(code: str) -> str:
    if code == NONE:
        return _("Not recorded")
    place = get_place(code)
    if place is not None and place.level == "prefecture":
        return _("%(prefecture)s, county not recorded", prefecture=_place(code))
    return _place(code)


def _hometown_chart(figures: services.Figures) -> Chart:
    rows = [_single(_hometown_label(key), count, _list(county=key)) for key, count in _by_count(figures.by_hometown)]
    return charts.bars("county", _("Cases by county"),
                       _("The detained person's home county, largest first."), rows, [_("Cases")])


def _months(counts: dict[str, int]) -> list[tuple[int, int]]:
    months = []
    for key in counts:
        if len(key) == 7 and key[4] == "-" and key[:4].isdigit() and key[5:].isdigit():
            months.append((int(key[:4]), int(key[5:])))
    return sorted(months)


def _month_chart(key: str, title: str, description: str, counts: dict[str, int], link_from: str,
                 link_to: str) -> Chart:
    months = _months(counts)
    placed: list[tuple[int, Row]] = []
    ticks: list[tuple[int, str]] = []
    if months:
        (first_year, first_month), (last_year, last_month) = months[0], months[-1]
        slots = (last_year - first_year) * 12 + last_month - first_month + 1
        for index in range(slots):
            year, month = first_year + (first_month - 1 + index) // 12, (first_month - 1 + index) % 12 + 1
            if month == 1 or index == 0:
                ticks.append((index, format_date(date(year, month, 1), "yyyy")))
            text = f"{year:04d}-{month:02d}"
            if counts.get(text):
                label = format_date(date(year, month, 1), "LLLL yyyy")
                placed.append((index, _single(label, counts[text], _list(**{link_from: text, link_to: text}))))
    else:
        slots = 0
    return charts.columns(key, title, description, slots, placed, [_("Cases")], ticks)


def _detention_chart(figures: services.Figures) -> Chart:
    return _month_chart("detained", _("Detentions by month"),
                        _("Cases by the month of detention, where the month is known; one column per month."),
                        figures.detained_by_month, "detained_from", "detained_to")


def _created_chart(figures: services.Figures) -> Chart:
    return _month_chart("created", _("Cases logged by month"),
                        _("Cases by the month they were entered into casefile; one column per month."),
                        figures.created_by_month, "created_from", "created_to")


def _evidence_chart(figures: services.Figures) -> Chart:
    rows = [_single(_("With documents"), figures.with_documents, _list(evidence="with")),
            _single(_("Without documents"), figures.without_documents, _list(evidence="without"))]
    return charts.bars("evidence", _("Evidence coverage"),
                       _("Cases with at least one evidence file that was not removed, and the rest."),
                       rows, [_("Cases")])


def _submission_chart(figures: services.Figures) -> Chart:
    rows = []
    for recipient in figures.submissions:
        rid = str(recipient.recipient_id)
        rows.append(Row(recipient.name, [
            Segment(_("Answer received"), recipient.answered, _list(recipient=rid, answer="received"), "bar"),
            Segment(_("Awaiting an answer"), recipient.awaiting, _list(recipient=rid, answer="awaiting"),
                    "bar second"),
        ], total_href=_list(recipient=rid)))
    return charts.bars("submissions", _("Submissions by recipient"),
                       _("Cases handed over to each recipient: the dark part got an answer, the light part awaits one."),
                       rows, [_("Cases submitted"), _("Answer received"), _("Awaiting an answer")])


def _outcome_chart(figures: services.Figures) -> Chart:
    rows = [_single(str(text), figures.outcomes.get(key, 0), _list(outcome=key)) for key, text in OUTCOMES.items()]
    rows.append(_single(_("Submitted, no outcome recorded"), figures.outcomes.get(NONE, 0), _list(outcome=NONE)))
    return charts.bars("outcomes", _("Outcomes after submission"),
                       _("Cases by the outcome an answer recorded for them; a case counts under each outcome it got."),
                       rows, [_("Cases")])


@bp.route("")
@access.roles(Role.ADVOCATE, Role.COORDINATOR)
def index() -> str:
    figures = services.figures(current_user._get_current_object())
    sections = [_status_chart(figures), _prefecture_chart(figures), _hometown_chart(figures),
                _detention_chart(figures), _created_chart(figures), _evidence_chart(figures)]
    if figures.followup:
        sections += [_submission_chart(figures), _outcome_chart(figures)]
    undated = [(_("Detention known to the year only"), figures.detained_by_month.get(services.YEAR_ONLY, 0),
                _list(detained_known="year")),
               (_("Detention date not recorded"), figures.detained_by_month.get(NONE, 0),
                _list(detained_known=NONE))]
    return render_template("dashboard/index.html", figures=figures, sections=sections, undated=undated,
                           total_text=format_decimal(figures.total), as_of=utcnow(), format_decimal=format_decimal)
