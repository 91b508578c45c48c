"""Feeds (F20): `/feeds/consultations.atom` (per unit with `?unit=`, per type with `?type=`),
`/consultations/<id>.ics` and `/consultations.ics` (every open or coming window)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from consult import clock
from consult.consultations import queries
from consult.consultations.models import Consultation, ConsultationType
from consult.consultations.policy import is_public
from consult.consultations.states import State
from consult.extensions import csrf, db
from consult.feeds import alerts as alert_services
from consult.feeds import documents
from consult.feeds.events import events
from consult.feeds.forms import AlertForm
from consult.labels import label
from consult.paging import bad_parameter, int_param
from consult.urls import external_url
from consult.web import ConfirmForm, commits, form_errors, language, public_or_404

bp = Blueprint("feeds", __name__)

FEED_MAX_AGE = 300


def _cached(body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


def _type_param() -> str | None:
    value = (request.args.get("type") or "").strip() or None
    if value is not None and value not in ConsultationType._value2member_map_:
        raise bad_parameter("type", _("参数 type 只能是：%(choices)s。",
                                      choices=", ".join(t.value for t in ConsultationType)))
    return value


@bp.get("/feeds/consultations.atom")
def consultations_atom():
    """New consultations, windows closing soon, reports and policies, newest first."""
    unit_id = int_param("unit", minimum=1)
    type_ = _type_param()
    args = {k: v for k, v in {"unit": unit_id, "type": type_}.items() if v is not None}
    body = documents.atom(events(unit_id=unit_id, type_=type_),
                          self_url=external_url("feeds.consultations_atom", **args),
                          title=_("公众参与平台：意见征集与采纳反馈"))
    return _cached(body, "application/atom+xml")


@bp.get("/consultations/<int:consultation_id>.ics")
def consultation_ics(consultation_id: int):
    """One consultation's comment window, for a calendar."""
    consultation = public_or_404(Consultation, consultation_id, is_public)
    body = documents.calendar([consultation], name=consultation.title)
    response = _cached(body, "text/calendar")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=consultation-{consultation_id}.ics")
    return response


@bp.get("/consultations.ics")
def consultations_ics():
    """Every window open now or still to come (subscribe to it in a calendar)."""
    open_now = db.session.scalars(queries.public_list_query("open")).all()
    coming = db.session.scalars(
        db.select(Consultation).where(queries.status_clause(State.SCHEDULED, clock.now()))
        .order_by(Consultation.opens_at, Consultation.id)).all()
    body = documents.calendar(open_now + coming, name=_("公众参与平台：正在征求意见"))
    return _cached(body, "text/calendar")


# ------------------------------------------------------------------ e-mail alerts


def _alert_form() -> AlertForm:
    form = AlertForm()
    form.unit.choices = [("", _("全部单位"))] + [(str(u.id), u.name)
                                                 for u in queries.public_units()]
    form.type.choices = [("", _("全部类型"))] + [(t.value, label(t, "type"))
                                                 for t in ConsultationType]
    return form


@bp.route("/alerts", methods=["GET", "POST"])
@commits
def alerts():
    """Ask for e-mail alerts by unit, type or keyword; a confirmation mail is sent first."""
    form = _alert_form()
    if request.method == "GET":
        if request.args.get("unit") in dict(form.unit.choices):
            form.unit.data = request.args["unit"]
        form.keyword.data = (request.args.get("q") or "")[:100]
        return render_template("feeds/alerts.html", form=form)
    if not form.validate():
        return render_template("feeds/alerts.html", form=form), 422
    with form_errors(form) as failed:
        alert_services.subscribe(
            form.email.data, unit_id=int(form.unit.data) if form.unit.data else None,
            type_=form.type.data or None, keyword=form.keyword.data, language=language())
    if failed:
        return render_template("feeds/alerts.html", form=form, message=failed.message), 422
    # The same answer whether the address was new, waiting or confirmed.
    flash(_("确认邮件已发送（如该邮箱此前已确认同样的订阅，则不再发送）。"
            "请打开邮件中的链接完成订阅。"), "success")
    return redirect(url_for(".alerts"))


@bp.route("/alerts/<token>/confirm", methods=["GET", "POST"])
@commits
def alert_confirm(token: str):
    """The link in the confirmation mail: a button, so that a mail scanner confirms nothing."""
    alert = alert_services.by_token(token)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        alert_services.confirm(token)
        flash(_("订阅成功。有新的动态时，我们每天最多给您发一封邮件。"), "success")
        return redirect(url_for("consultations.index"))
    return render_template(
        "citizens/confirm.html", form=form, title=_("确认订阅"),
        text=_("确认用 %(email)s 订阅以下动态？%(what)s", email=alert.email,
               what=alert_services.describe(alert)),
        button=_("确认订阅"),
    )


@bp.route("/alerts/<token>/unsubscribe", methods=["GET", "POST"])
@csrf.exempt  # the token is the secret; a mail client's one-click POST carries no CSRF token
@commits
def alert_unsubscribe(token: str):
    """Every alert mail's link: one button ends the alert; a mail client's one-click POST
    (RFC 8058, `List-Unsubscribe=One-Click`) ends it at once."""
    alert = alert_services.by_token(token)
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not one_click:
            csrf.protect()  # the page's button: a CSRF token as on every form (400 without)
        alert_services.unsubscribe(token)
        if one_click:
            return Response(status=204)
        flash(_("已取消订阅，您的邮箱地址已删除。"), "success")
        return redirect(url_for("consultations.index"))
    return render_template(
        "citizens/confirm.html", form=ConfirmForm(), title=_("取消订阅"),
        text=_("不再接收以下动态的邮件？%(what)s", what=alert_services.describe(alert)),
        button=_("取消订阅"),
    )
