"""Staff forms for answering comments and publishing the adoption report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from consult.labels import DISPOSITION_LABELS

REASON_MAX = 5_000


class AnswerForm(FlaskForm):
    """One comment's answer. The queue shows one per comment, under the page's one csrf_token;
    whether a reason is needed is the service's rule (all but "adopted")."""

    class Meta:
        csrf = False

    code = RadioField(
        _l("采纳情况"),
        choices=[(code.value, text) for code, text in DISPOSITION_LABELS.items()],
        validators=[InputRequired(_l("请选择采纳情况。"))],
    )
    reason = TextAreaField(_l("理由"), validators=[Optional(), Length(max=REASON_MAX)],
                           description=_l("除“采纳”外须说明理由；理由随报告向社会公布。"))


class ReportForm(FlaskForm):
    summary = TextAreaField(
        _l("总体情况说明"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("概述意见征集的总体情况、主要意见和采纳情况，随报告向社会公布。"),
    )
