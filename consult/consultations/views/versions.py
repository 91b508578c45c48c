"""Public pages of a consultation's versions (each readable, and compared article by article)
and its email subscription (double opt-in, unsubscribe link in every mail)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from consult.consultations import subscriptions, versions
from consult.consultations.forms import SubscribeForm
from consult.consultations.models import Consultation, DraftVersion
from consult.consultations.policy import is_public
from consult.consultations.views import bp
from consult.web import ConfirmForm, commits, form_errors, language, public_or_404


@bp.app_context_processor
def _subscription_helpers():
    def subscription_form(consultation: Consultation):
        """The subscribe form for the consultation's public page, while it takes subscriptions."""
        if not subscriptions.accepts_subscriptions(consultation):
            return None
        return SubscribeForm(formdata=None)

    return {"subscription_form": subscription_form}


def _public(consultation_id: int) -> Consultation:
    return public_or_404(Consultation, consultation_id, is_public)


def _version(consultation: Consultation, number: int) -> DraftVersion:
    for version in consultation.versions:
        if version.number == number:
            return version
    abort(404)


@bp.get("/consultations/<int:consultation_id>/versions/<int:number>")
def version(consultation_id: int, number: int):
    """One version of the draft as it was published, with its changelog."""
    consultation = _public(consultation_id)
    shown = _version(consultation, number)
    return render_template("consultations/version.html", consultation=consultation,
                           version=shown, current=consultation.current_version)


@bp.get("/consultations/<int:consultation_id>/versions/<int:number>/compare")
def compare(consultation_id: int, number: int):
    """Version n against version n-1, article by article, changes marked character by character."""
    consultation = _public(consultation_id)
    if number < 2:
        abort(404)
    new = _version(consultation, number)
    old = _version(consultation, number - 1)
    rows = versions.compare(old, new)
    return render_template("consultations/compare.html", consultation=consultation, old=old,
                           new=new, rows=rows, counts=versions.summary(rows))


@bp.route("/consultations/<int:consultation_id>/subscribe", methods=["GET", "POST"])
@commits
def subscribe(consultation_id: int):
    """Ask for news of this consultation by email; a confirmation mail is sent first."""
    consultation = _public(consultation_id)
    open_ = subscriptions.accepts_subscriptions(consultation)
    form = SubscribeForm()
    if request.method == "GET" or not open_:
        return render_template("consultations/subscribe.html", consultation=consultation,
                               form=form, accepting=open_), 200 if request.method == "GET" else 409
    if not form.validate():
        return render_template("consultations/subscribe.html", consultation=consultation,
                               form=form, accepting=open_), 422
    with form_errors(form) as failed:
        subscriptions.subscribe(consultation, form.email.data, language=language())
    if failed:
        return render_template("consultations/subscribe.html", consultation=consultation,
                               form=form, accepting=open_, message=failed.message), 422
    # The same answer for a new, waiting or confirmed address: nobody learns who subscribed.
    flash(_("确认邮件已发送（如该邮箱此前已确认订阅，则不再发送）。"
            "请打开邮件中的链接完成订阅。"), "success")
    return redirect(url_for(".detail", consultation_id=consultation.id))


@bp.route("/subscriptions/<token>/confirm", methods=["GET", "POST"])
@commits
def subscription_confirm(token: str):
    """The link in the confirmation mail: a button, so that a mail scanner confirms nothing."""
    subscription = subscriptions.by_token(token)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        subscriptions.confirm(token)
        flash(_("订阅成功。征求意见期限延长等情况会通过邮件通知您。"), "success")
        return redirect(url_for(".detail", consultation_id=subscription.consultation_id))
    return render_template(
        "citizens/confirm.html", form=form, title=_("确认订阅"),
        text=_("确认用 %(email)s 订阅“%(title)s”的动态？", email=subscription.email,
               title=subscription.consultation.title),
        button=_("确认订阅"),
    )


@bp.route("/subscriptions/<token>/unsubscribe", methods=["GET", "POST"])
@commits
def unsubscribe(token: str):
    """The link in every mail to subscribers: one button ends the subscription."""
    subscription = subscriptions.by_token(token)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        consultation = subscriptions.unsubscribe(token)
        flash(_("已取消订阅，您的邮箱地址已删除。"), "success")
        return redirect(url_for(".detail", consultation_id=consultation.id))
    return render_template(
        "citizens/confirm.html", form=form, title=_("取消订阅"),
        text=_("不再接收“%(title)s”的邮件？", title=subscription.consultation.title),
        button=_("取消订阅"),
    )
