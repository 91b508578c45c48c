"""Public comment pages: the comment form, the receipt and the receipt lookup (F6, F7)."""

from __future__ import annotations

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from consult import ratelimit
from consult.answers.services import published_report
from consult.citizens.policy import can_comment
from consult.citizens.services import current_citizen
from consult.comments.attachments import files_of
from consult.comments.forms import CommentForm, LookupForm, article_choices
from consult.comments.models import CommentStatus
from consult.comments.services import (
    get_by_tracking_no,
    public_text,
    status_note,
    submit_comment,
)
from consult.comments.targets import comment_target
from consult.comments.views import bp
from consult.consultations.models import Consultation, State
from consult.consultations.policy import is_public
from consult.errors import NotFound, ValidationFailed, WindowClosed
from consult.extensions import db
from consult.policies.changes import outcome_of
from consult.security.https import cookie_secure
from consult.storage import StorageUnavailable
from consult.web import attach_errors, commit_now, commits, form_errors, language, public_or_404
from consult.workspace import report_due_on

# The thank-you on the receipt a citizen is sent to after commenting: a cookie for that receipt's
# path alone, for a few minutes, cleared when the receipt shows it. Not a flashed message: a
# flash is a write of the signed session on every comment POST, a tenth of its cost
# (bench/README.md, comment submission).
SUBMITTED_COOKIE = "submitted"
SUBMITTED_SECONDS = 600


@bp.app_context_processor
def _comment_helpers():
    return {"comment_files": files_of,
            "receipt_lookup_form": lambda: LookupForm(formdata=None)}


def _closed(consultation: Consultation, message: str | None = None):
    """The page saying the window is not open (409), for GET and POST alike."""
    if consultation.status == State.SCHEDULED:
        message = _("该意见征集尚未开始，开始后即可提出意见。")
    elif not message or consultation.status != State.OPEN:
        message = _("该意见征集的征求意见期限已结束，不再接收意见。")
    return render_template(
        "comments/closed.html", consultation=consultation, status=consultation.status,
        message=message,
    ), 409


def _selected_article(consultation: Consultation) -> str:
    """`?article=N` when N is an article of the current version, else the whole draft."""
    wanted = request.args.get("article", "").strip()
    numbers = {str(a.number) for a in consultation.current_version.articles}
    return wanted if wanted in numbers else ""


def _article(articles, form):
    """The article the form is about, if any."""
    return next((a for a in articles if str(a.number) == (form.article.data or "")), None)


@bp.route("/consultations/<int:consultation_id>/comment", methods=["GET", "POST"])
@commits
def new(consultation_id: int):
    """Comment on a whole draft or one article; the answer is a redirect to the receipt."""
    if request.method == "POST":
        return _submit(consultation_id)
    consultation = _consultation(consultation_id)
    if consultation.status != State.OPEN:
        return _closed(consultation)
    citizen = current_citizen()
    if not can_comment(citizen, consultation):  # this consultation needs a citizen account
        return render_template("comments/account_required.html", consultation=consultation)
    ratelimit.session_client()  # the form's nonce and limits belong to this session
    form = CommentForm()  # its choices: `_form_page`
    form.article.data = _selected_article(consultation)
    if citizen is not None and not form.email.data:
        form.email.data = citizen.email
    return _form_page(consultation, form, citizen)


def _consultation(consultation_id: int) -> Consultation:
    """The public consultation with its versions (404 otherwise), to show."""
    return public_or_404(Consultation, consultation_id, is_public,
                         options=(db.joinedload(Consultation.versions),))


def _form_page(consultation: Consultation, form: CommentForm, citizen, *,
               message: str | None = None, status: int = 200, headers=None):
    """The form, with the draft's articles to choose from."""
    articles = consultation.current_version.articles
    form.article.choices = article_choices(articles)
    return render_template(
        "comments/form.html", consultation=consultation, form=form.for_page(), message=message,
        selected=_article(articles, form), citizen=citizen,
    ), status, headers or {}


def _posted_article() -> int | None:
    value = request.form.get("article") or ""
    return int(value) if value.isascii() and value.isdigit() else None


def _submit(consultation_id: int):
    """The form's POST. What the rules need is read in one query (`comment_target`: the
    consultation, its current version and the article chosen); the draft and its articles only
    when the form is shown again."""
    target = comment_target(consultation_id, _posted_article())
    if target is None or not is_public(target):
        abort(404)
    if target.status != State.OPEN:
        return _closed(_consultation(consultation_id))
    citizen = current_citizen()
    if not can_comment(citizen, target):  # this consultation needs a citizen account
        return redirect(url_for("citizens.login", next=request.full_path.rstrip("?")))
    # 429 above the person's or the address's hard limit
    gate = ratelimit.comment_gate(
        ratelimit.comment_person(citizen=citizen, email=request.form.get("email")))
    if CommentForm.filled_by_a_bot(request.form):
        # The honeypot is filled (F11): nothing is saved, and the 422 says so without saying why.
        form = CommentForm()
        form.remark.data = ""
        return _form_page(_consultation(consultation_id), form, citizen, status=422,
                          message=_("提交未成功，请检查填写的内容后重新提交。"))
    # The POST is checked without building the form (`CommentForm.posted`); the form is built
    # only to be shown again. No savepoint: every refusal is a 4xx/5xx page, which `commits`
    # rolls back.
    with form_errors(None, catch=(ValidationFailed, WindowClosed, StorageUnavailable),
                     savepoint=False) as failed:
        data, key = CommentForm.posted(
            request.form, article=target.article_number if target.article_id else None)
        comment, _created = submit_comment(
            target, data, idempotency_key=key,
            client=f"session:{ratelimit.session_client()}", citizen=citizen,
            attachment=request.files.get("attachment") or None, must_verify=gate.verify,
            language=language(),
        )
    if not failed:
        tracking_no = comment.tracking_no
        commit_now()  # the 303 is decided: the answer is made outside SQLite's write lock
        return _to_receipt(tracking_no)
    consultation = _consultation(consultation_id)
    if isinstance(failed.error, WindowClosed):
        return _closed(consultation, failed.message)
    form = CommentForm()  # what was posted, shown again with what was wrong
    if isinstance(failed.error, ValidationFailed):
        attach_errors(form, failed.error)
    if isinstance(failed.error, StorageUnavailable):  # the file store is down: keep the text
        return _form_page(consultation, form, citizen, message=failed.message, status=503,
                          headers={"Retry-After": str(failed.error.retry_after)})
    return _form_page(consultation, form, citizen, message=failed.message, status=422)


def _to_receipt(tracking_no: str):
    """The 303 to the new comment's receipt, which thanks the citizen once (`SUBMITTED_COOKIE`)."""
    path = url_for("comments.receipt", tracking_no=tracking_no)
    # Written out: a tracking number and its path are plain ASCII (consult/comments/tracking.py),
    # and Werkzeug's `redirect` (an HTML page nobody reads, the location quoted again) and
    # `set_cookie` (quoting, an Expires date) cost more than the headers themselves.
    return current_app.response_class(status=303, headers={
        "Location": path,
        "Set-Cookie": f"{SUBMITTED_COOKIE}={tracking_no}; Max-Age={SUBMITTED_SECONDS}; "
                      f"Path={path}; HttpOnly; SameSite=Lax{'; Secure' if cookie_secure() else ''}",
    })


@bp.get("/receipts/<tracking_no>")
def receipt(tracking_no: str):
    """A comment's receipt: masked text, article, state and answer; never the contact data.
    Right after the citizen's POST it thanks them, once."""
    try:
        comment = get_by_tracking_no(tracking_no)
    except NotFound as error:
        form = LookupForm(formdata=None, tracking_no=tracking_no[:40])
        form.tracking_no.errors = [error.message]
        return render_template("comments/lookup.html", form=form, not_found=True), 404
    report = published_report(comment.consultation)
    submitted = request.cookies.get(SUBMITTED_COOKIE)
    response = make_response(render_template(
        "comments/receipt.html", comment=comment, consultation=comment.consultation,
        text=public_text(comment), report=report,
        hidden=comment.status == CommentStatus.HIDDEN, state_note=status_note(comment),
        outcome=outcome_of(comment),
        report_due=report_due_on(comment.consultation),
        just_submitted=submitted == comment.tracking_no,
    ))
    if submitted is not None:
        response.headers["Cache-Control"] = "no-store"
        response.delete_cookie(SUBMITTED_COOKIE, path=request.path, httponly=True,
                               samesite="Lax", secure=cookie_secure())
    return response


@bp.get("/receipts")
def lookup():
    """Find a receipt by tracking number (lowercase, with or without hyphens)."""
    if "tracking_no" not in request.args:
        return render_template("comments/lookup.html", form=LookupForm(formdata=None))
    form = LookupForm(request.args)
    if not form.validate():
        return render_template("comments/lookup.html", form=form), 422
    try:
        comment = get_by_tracking_no(form.tracking_no.data)
    except NotFound as error:
        form.tracking_no.errors = [error.message]
        return render_template("comments/lookup.html", form=form, not_found=True), 404
    return redirect(url_for("comments.receipt", tracking_no=comment.tracking_no), 303)
