"""Display names for code values, in the glossary's words (GLOSSARY.md), translatable."""

from flask_babel import lazy_gettext as _l

from consult.answers.models import DispositionCode
from consult.auth.models import Role
from consult.catalogue.models import CatalogueStatus, ParticipationMethod
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason
from consult.consultations.models import ConsultationType, LegalDecision, State
from consult.jobs.models import JobStatus
from consult.policies.models import InterpretationKind, Validity

STATE_LABELS = {
    State.DRAFT: _l("草稿"),
    State.PENDING_APPROVAL: _l("待审核"),
    State.SCHEDULED: _l("待发布"),
    State.OPEN: _l("征集中"),
    State.CLOSED: _l("已截止"),
    State.REPORT_PUBLISHED: _l("已反馈"),
    State.POLICY_ISSUED: _l("已出台"),
    State.WITHDRAWN: _l("已撤回"),
}
TYPE_LABELS = {
    ConsultationType.RULE: _l("政府规章"),
    ConsultationType.NORMATIVE_DOCUMENT: _l("行政规范性文件"),
    ConsultationType.MAJOR_DECISION: _l("重大行政决策"),
    ConsultationType.OTHER: _l("其他"),
}
CATEGORY_LABELS = {
    Category.INDIVIDUAL: _l("个人"),
    Category.ENTERPRISE: _l("企业"),
    Category.ORGANISATION: _l("社会组织"),
    Category.EXPERT: _l("专家学者"),
    Category.OTHER: _l("其他"),
}
CHANNEL_LABELS = {
    Channel.WEB: _l("网站"),
    Channel.LETTER: _l("信函"),
    Channel.EMAIL: _l("电子邮件"),
    Channel.HEARING: _l("听证会"),
    Channel.SYMPOSIUM: _l("座谈会"),
}
COMMENT_STATUS_LABELS = {
    CommentStatus.SUBMITTED: _l("已提交"),
    CommentStatus.UNVERIFIED: _l("待验证"),
    CommentStatus.PENDING_MODERATION: _l("待审核"),
    CommentStatus.PUBLISHED: _l("已公开"),
    CommentStatus.HIDDEN: _l("不予公开"),
}
HIDDEN_REASON_LABELS = {
    HiddenReason.ABUSIVE: _l("含辱骂、攻击性内容"),
    HiddenReason.OFF_TOPIC: _l("与征求意见内容无关"),
    HiddenReason.PERSONAL_DATA: _l("含无法隐去的个人信息"),
    HiddenReason.SPAM: _l("广告或垃圾信息"),
    HiddenReason.OTHER: _l("其他原因"),
}
DISPOSITION_LABELS = {
    DispositionCode.ADOPTED: _l("采纳"),
    DispositionCode.PARTLY_ADOPTED: _l("部分采纳"),
    DispositionCode.NOT_ADOPTED: _l("不予采纳"),
    DispositionCode.ALREADY_PROVIDED: _l("已有规定"),
    DispositionCode.OUT_OF_SCOPE: _l("不属于本次征求意见范围"),
}
ROLE_LABELS = {
    Role.EDITOR: _l("编辑"),
    Role.APPROVER: _l("审核人"),
    Role.LEGAL_REVIEWER: _l("合法性审核人"),
    Role.ADMIN: _l("平台管理员"),
}
CATALOGUE_STATUS_LABELS = {
    CatalogueStatus.PLANNED: _l("计划中"),
    CatalogueStatus.CONSULTING: _l("征求意见中"),
    CatalogueStatus.DECIDED: _l("已决策"),
    CatalogueStatus.IMPLEMENTED: _l("已实施"),
}
METHOD_LABELS = {
    ParticipationMethod.ONLINE_COMMENT: _l("网上征求意见"),
    ParticipationMethod.HEARING: _l("听证会"),
    ParticipationMethod.SYMPOSIUM: _l("座谈会"),
    ParticipationMethod.SURVEY: _l("问卷调查"),
    ParticipationMethod.EXPERT_REVIEW: _l("专家论证"),
}
VALIDITY_LABELS = {
    Validity.IN_FORCE: _l("现行有效"),
    Validity.AMENDED: _l("已修改"),
    Validity.REPEALED: _l("已废止"),
}
INTERPRETATION_KIND_LABELS = {
    InterpretationKind.TEXT: _l("文字解读"),
    InterpretationKind.GRAPHIC: _l("图解"),
    InterpretationKind.QA: _l("问答"),
}
LEGAL_DECISION_LABELS = {
    LegalDecision.APPROVED: _l("合法性审核通过"),
    LegalDecision.RETURNED: _l("退回修改"),
}
JOB_STATUS_LABELS = {
    JobStatus.QUEUED: _l("排队中"),
    JobStatus.RUNNING: _l("进行中"),
    JobStatus.DONE: _l("已完成"),
    JobStatus.FAILED: _l("失败"),
}

ALL = {
    "state": STATE_LABELS, "type": TYPE_LABELS, "category": CATEGORY_LABELS,
    "channel": CHANNEL_LABELS, "comment_status": COMMENT_STATUS_LABELS,
    "hidden_reason": HIDDEN_REASON_LABELS, "disposition": DISPOSITION_LABELS,
    "role": ROLE_LABELS, "catalogue_status": CATALOGUE_STATUS_LABELS, "method": METHOD_LABELS,
    "validity": VALIDITY_LABELS, "interpretation_kind": INTERPRETATION_KIND_LABELS,
    "legal_decision": LEGAL_DECISION_LABELS, "job_status": JOB_STATUS_LABELS,
}


def label(value, kind: str) -> str:
    """The display name of `value` in the vocabulary `kind`: `{{ c.status|label("state") }}`."""
    if value is None:
        return ""
    table = ALL[kind]
    for key, text in table.items():
        if key == value or key.value == value:
            return str(text)
    return str(value)
