"""The write API (F21) for units' other systems, with `Authorization: Bearer <token>`.

A token (`consult.apitokens`) acts as its user, within its unit and scopes, through the same
services and policy checks as the staff pages: the audit log names the user (and each use of the
token), four-eyes holds (a token's user cannot approve what that user submitted), and a token of
one unit cannot touch another unit's consultation (403). No token, an unknown, revoked or expired
one: 401 with `WWW-Authenticate: Bearer`. Each token is rate-limited (API_TOKEN_RATE_LIMIT).
Bodies are checked by the pydantic models below (422 naming the fields), which the OpenAPI
document shows.

Every route runs through `write_call` (load, body, token, policy, one commit). A refused call
— no or a bad token, a scope or unit it lacks, the user's role or a four-eyes hold, a body
that fails its checks, an object not found or in the wrong state — is rolled back, then
written to the audit log in a transaction of its own (`api_token_refused`: the token's id and
user, never its secret; the route; the reason; the status). A flood cannot turn into as many
writes: rate-limited calls (429) are not recorded, and of the rest one row per token (or no
token), route and reason is written per API_REFUSAL_AUDIT_LIMIT (one a minute); every refusal
still goes to the security log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException

from consult.answers import policy as answers_policy
from consult.answers import services as answers
from consult.answers.models import DispositionCode
from consult.api import schemas, spec
from consult.apitokens import services as tokens
from consult.apitokens.models import ApiToken, Scope
from consult.comments import policy as comments_policy
from consult.comments import services as comments
from consult.comments.models import Category, Channel
from consult.consultations import policy as consultations_policy
from consult.consultations import services as consultations
from consult.consultations.models import Consultation, ConsultationType
from consult.errors import ConsultError, NotAllowed, NotFound, RateLimited, ValidationFailed
from consult.extensions import db
from consult.http import HTTP_CODES
from consult.paging import MAX_ID
from consult.policies import policy as policies_policy
from consult.policies import services as policies
from consult.policies.models import InterpretationKind, Policy
from consult.ratelimit import EXTENSION_KEY
from consult.security import log as security_log
from consult.urls import external_url
from consult.web import commits

bp = Blueprint("api_write", __name__, url_prefix="/api/v1")

WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 422)


# ------------------------------------------------------------------ bodies


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DraftBody(Body):
    title: str = Field(min_length=1, max_length=300)
    type: ConsultationType
    summary: str = Field(default="", max_length=5_000)
    explanation: str = Field(default="", max_length=50_000)
    opens_on: date
    closes_on: date
    text: str = Field(min_length=1, max_length=500_000,
                      description="the draft's text; 第一条… headings split it into articles")
    short_window_reason: str | None = Field(default=None, max_length=2_000)
    concerns_business: bool = False


class RecordedCommentBody(Body):
    body: str = Field(min_length=1, max_length=10_000)
    category: Category
    channel: Channel = Field(description="letter, email, hearing or symposium")
    received_on: date
    article: int | None = Field(default=None, ge=1, le=MAX_ID)
    display_name: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)


class AnswerBody(Body):
    disposition: DispositionCode
    reason: str | None = Field(default=None, max_length=5_000)


class ReportBody(Body):
    summary: str = Field(default="", max_length=20_000)


class PolicyBody(Body):
    title: str = Field(min_length=1, max_length=300)
    document_number: str = Field(min_length=1, max_length=100, description="文号")
    issued_on: date
    effective_on: date | None = None
    text: str = Field(min_length=1, max_length=500_000)


class InterpretationBody(Body):
    title: str = Field(min_length=1, max_length=300)
    kind: InterpretationKind
    body: str = Field(min_length=1, max_length=200_000)


class Done(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    state: str


class Answered(BaseModel):
    tracking_no: str
    disposition: DispositionCode


def _body(model: type[Body]):
    payload = schemas.json_object()
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        fields = {}
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "body"
            fields.setdefault(name, _("%(name)s：%(detail)s", name=name, detail=problem["msg"]))
        raise ValidationFailed(next(iter(fields.values())), fields=fields) from None


# ------------------------------------------------------------------ the token


@bp.before_request
def _authenticate():
    """The request's token (401 without a valid one), counted against its rate limit."""
    if request.method == "OPTIONS":
        return None
    try:
        token = tokens.authenticate(request.headers.get("Authorization"))
    except tokens.InvalidToken as error:
        _audit_refusal(error.token, error.status, error.code)
        raise
    _count(token)
    g.api_token = token
    return None


@bp.after_request
def _challenge(response):
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="consult"'
    response.cache_control.no_store = True
    return response


def _strategy():
    return current_app.extensions[EXTENSION_KEY].limiter


def _count(token: ApiToken) -> None:
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return
    limit = parse(config["API_TOKEN_RATE_LIMIT"])
    prefix = config.get("RATELIMIT_KEY_PREFIX") or "consult"
    try:
        allowed = _strategy().hit(limit, prefix, "api-token", str(token.id))
        reset_at = _strategy().get_window_stats(limit, prefix, "api-token", str(token.id))[0]
    except Exception:  # noqa: BLE001 - the counters' storage is down: fail open
        return
    if not allowed:
        raise RateLimited(retry_after=int(reset_at - time.time()) + 1)


# ------------------------------------------------------------------ refusals, audited


def _first_of_its_kind(token: ApiToken | None, code: str) -> bool:
    """Whether this refusal is the first of its kind (token — or none —, route, reason)
    within API_REFUSAL_AUDIT_LIMIT: a flood of refusals writes one audit row a minute per
    kind, not one per request. Without the setting, or when the counters' storage is down,
    every refusal is recorded (an audit row is worth more than the write it costs)."""
    every = current_app.config.get("API_REFUSAL_AUDIT_LIMIT")
    if not every:
        return True
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "consult"
    who = str(token.id) if token is not None else "-"
    try:
        return _strategy().hit(parse(every), prefix, "api-refusal", who,
                               request.endpoint or request.path, code)
    except Exception:  # noqa: BLE001 - the storage is down: record it
        current_app.logger.warning("refusal counter unavailable", exc_info=True)
        return True


def _audit_refusal(token: ApiToken | None, status: int, code: str,
                   fields: dict | None = None) -> None:
    """Write the refused call to the audit log in its own transaction, after the call's own
    changes were rolled back: the token (never its secret), its user, the route, the reason
    and the status. Rate-limited calls (429) and the server's own failures are not refusals
    of the caller's request and are not recorded here; a refusal that cannot be recorded
    leaves the answer as it was (logged)."""
    security_log.event("api_refused", method=request.method, path=security_log.redacted_path(),
                       status=status, code=code, token=token.id if token else None)
    if status == 429 or status >= 500 or not _first_of_its_kind(token, code):
        return
    try:
        db.session.rollback()
        tokens.record_refusal(token, method=request.method, endpoint=request.endpoint or "",
                              route=request.view_args or {}, status=status, code=code,
                              fields=sorted(fields or {}))
        db.session.commit()
    except Exception:  # noqa: BLE001 - the refusal is answered whatever happens here
        db.session.rollback()
        current_app.logger.warning("refused API call not audited", exc_info=True)


# ------------------------------------------------------------------ one way to run a write


def _deny_unless(check: Callable, message) -> Callable:
    """A policy check as `(user, target)`: 403 with `message` unless `check(user, target)`."""

    def require(user, target) -> None:
        if not check(user, target):
            raise NotAllowed(str(message))

    return require


def write_call(scope: Scope, *, load: Callable | None = None, body: type[Body] | None = None,
               where: Callable = lambda target: target, allowed: Callable | None = None):
    """A write route's steps, always in this order: load its object from the URL (404; the
    token's unit when there is none), read and check the body (400/422), check the token's
    scope and unit against `where(object)` (403; the use is audited), then the user's role and
    the object's state (`allowed(user, object)`, 403/409); then the view runs as
    `view(object, body, user)`, and commits once (`consult.web.commits`). A refusal rolls the
    call back and is then audited on its own (`_audit_refusal`)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def run(**route):
            target = load(**route) if load is not None else g.api_token.unit
            data = _body(body) if body is not None else None
            user = _actor(scope, where(target))
            if allowed is not None:
                allowed(user, target)
            return view(target, data, user)

        committed = commits(run)

        @wraps(committed)
        def call(**route):
            try:
                return committed(**route)
            except ConsultError as error:
                _audit_refusal(g.api_token, error.status, error.code, error.fields)
                raise
            except HTTPException as error:  # a body too large (413), say
                status = error.code or 400
                _audit_refusal(g.api_token, status, HTTP_CODES.get(status, "error"))
                raise

        return call

    return decorate


def _actor(scope: Scope, consultation_or_unit):
    """The token's user, once its scope and unit allow this object; the use is audited."""
    token: ApiToken = g.api_token
    unit = getattr(consultation_or_unit, "unit", consultation_or_unit)
    tokens.require_scope(token, scope, unit)
    tokens.record_use(token, method=request.method, endpoint=request.endpoint or "")
    return token.user


def _staff_consultation(consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound(_("找不到该意见征集。"))
    return consultation


def _staff_policy(policy_id: int) -> Policy:
    policy = db.session.get(Policy, policy_id)
    if policy is None:
        raise NotFound(_("找不到该政策文件。"))
    return policy


def _comment(tracking_no: str):
    return comments.get_by_tracking_no(tracking_no)


def _require(action: str) -> Callable:
    return lambda user, consultation: consultations_policy.require(user, consultation, action)


def _state(consultation: Consultation, status: int = 200):
    response = jsonify({
        "id": consultation.id, "state": consultation.status.value,
        "title": consultation.title,
        "url": external_url("consultations.detail", consultation_id=consultation.id),
    })
    response.status_code = status
    return response


def _created(payload: dict):
    response = jsonify(payload)
    response.status_code = 201
    return response


def _draft_input(body: DraftBody) -> consultations.DraftInput:
    return consultations.DraftInput(
        title=body.title, type=body.type, summary=body.summary, explanation=body.explanation,
        opens_on=body.opens_on, closes_on=body.closes_on, text=body.text,
        short_window_reason=body.short_window_reason, concerns_business=body.concerns_business)


# ------------------------------------------------------------------ drafts


@bp.post("/consultations")
@spec.operation(summary="Create a draft in the token's unit", body=DraftBody, response=Done,
                status=201, errors=WRITE_ERRORS, tags=("write",), write=True)
@write_call(Scope.DRAFTS, body=DraftBody,
            allowed=_deny_unless(consultations_policy.can_create, _l("您没有在该单位起草的权限。")))
def create_consultation(unit, body: DraftBody, user):
    consultation = consultations.create_draft(unit, _draft_input(body), actor=user)
    db.session.flush()
    return _state(consultation, 201)


@bp.put("/consultations/<int:consultation_id>/draft")
@spec.operation(summary="Replace a draft's fields and text (drafts only)", body=DraftBody,
                response=Done, errors=WRITE_ERRORS, tags=("write",), write=True)
@write_call(Scope.DRAFTS, load=_staff_consultation, body=DraftBody, allowed=_require("edit"))
def update_consultation(consultation, body: DraftBody, user):
    consultations.update_draft(consultation, _draft_input(body), actor=user)
    return _state(consultation)


@bp.post("/consultations/<int:consultation_id>/submit")
@spec.operation(summary="Submit a draft for approval", response=Done, errors=WRITE_ERRORS,
                tags=("write",), write=True)
@write_call(Scope.DRAFTS, load=_staff_consultation, allowed=_require("submit"))
def submit_consultation(consultation, _body, user):
    consultations.submit(consultation, actor=user)
    return _state(consultation)


@bp.post("/consultations/<int:consultation_id>/approve")
@spec.operation(summary="Approve a submitted draft (never one's own submission)",
                response=Done, errors=WRITE_ERRORS, tags=("write",), write=True)
@write_call(Scope.DRAFTS, load=_staff_consultation, allowed=_require("approve"))
def approve_consultation(consultation, _body, user):
    consultations.approve(consultation, actor=user)
    return _state(consultation)


# ------------------------------------------------------------------ comments, answers, report


@bp.post("/consultations/<int:consultation_id>/recorded-comments")
@spec.operation(summary="Record a comment received by letter, e-mail, hearing or symposium",
                body=RecordedCommentBody, response=spec.Created, status=201,
                errors=WRITE_ERRORS, tags=("write",), write=True)
@write_call(Scope.COMMENTS, load=_staff_consultation, body=RecordedCommentBody,
            allowed=_deny_unless(comments_policy.can_record, _l("您没有登记意见的权限。")))
def record_comment(consultation, body: RecordedCommentBody, user):
    data = comments.CommentInput(body=body.body, category=body.category,
                                 article_number=body.article, display_name=body.display_name,
                                 region=body.region, channel=body.channel)
    comment = comments.record_comment(consultation, data, body.channel, body.received_on,
                                      actor=user, idempotency_key=schemas.idempotency_key())
    db.session.flush()
    return _created({"tracking_no": comment.tracking_no, "status": comment.status.value,
                     "receipt_url": external_url("comments.receipt",
                                                 tracking_no=comment.tracking_no)})


@bp.put("/comments/<tracking_no>/answer")
@spec.operation(summary="Answer a comment (until the report is published)", body=AnswerBody,
                response=Answered, errors=WRITE_ERRORS, tags=("write",), write=True)
@write_call(Scope.ANSWERS, load=_comment, body=AnswerBody,
            where=lambda comment: comment.consultation,
            allowed=_deny_unless(lambda user, comment: answers_policy.can_answer(
                user, comment.consultation), _l("您没有答复意见的权限。")))
def answer_comment(comment, body: AnswerBody, user):
    answers.answer_comment(comment, body.disposition, body.reason, actor=user)
    return jsonify({"tracking_no": comment.tracking_no, "disposition": body.disposition.value})


@bp.post("/consultations/<int:consultation_id>/report")
@spec.operation(summary="Publish the adoption report (its next revision)", body=ReportBody,
                response=Done, status=201, errors=WRITE_ERRORS, tags=("write",), write=True)
@write_call(Scope.REPORTS, load=_staff_consultation, body=ReportBody,
            allowed=answers_policy.require_publish_report)
def publish_report(consultation, body: ReportBody, user):
    answers.publish_report(consultation, summary=body.summary, actor=user)
    return _state(consultation, 201)


# ------------------------------------------------------------------ the final policy


def _policy_state(policy: Policy, status: int = 200):
    response = jsonify({
        "id": policy.id, "state": "published" if policy.published_at else "draft",
        "consultation_id": policy.consultation_id,
        "url": external_url("policies.detail", policy_id=policy.id),
    })
    response.status_code = status
    return response


@bp.post("/consultations/<int:consultation_id>/policy")
@spec.operation(summary="Add the final policy of a closed consultation (published later)",
                body=PolicyBody, response=Done, status=201, errors=WRITE_ERRORS,
                tags=("write",), write=True)
@write_call(Scope.POLICIES, load=_staff_consultation, body=PolicyBody,
            allowed=_deny_unless(policies_policy.can_draft_policy,
                                 _l("您没有起草正式文件的权限。")))
def create_policy(consultation, body: PolicyBody, user):
    policy = policies.create_policy(consultation, policies.PolicyInput(
        title=body.title, document_number=body.document_number, issued_on=body.issued_on,
        effective_on=body.effective_on, text=body.text), actor=user)
    db.session.flush()
    return _policy_state(policy, 201)


@bp.post("/policies/<int:policy_id>/interpretations")
@spec.operation(summary="Add an interpretation (published with the policy)",
                body=InterpretationBody, response=Done, status=201, errors=WRITE_ERRORS,
                tags=("write",), write=True)
@write_call(Scope.POLICIES, load=_staff_policy, body=InterpretationBody,
            allowed=policies_policy.require_edit)
def add_interpretation(policy, body: InterpretationBody, user):
    item = policies.add_interpretation(policy, title=body.title, kind=body.kind,
                                       body=body.body, actor=user)
    db.session.flush()
    return _created({"id": item.id, "state": "draft", "policy_id": policy.id})


@bp.post("/policies/<int:policy_id>/publish")
@spec.operation(summary="Publish the policy with its interpretations (approvers)",
                response=Done, errors=WRITE_ERRORS, tags=("write",), write=True)
@write_call(Scope.POLICIES, load=_staff_policy,
            allowed=_deny_unless(policies_policy.can_publish_policy,
                                 _l("您没有发布正式文件的权限。")))
def publish_policy(policy, _body, user):
    policies.publish_policy(policy, actor=user)
    return _policy_state(policy)
