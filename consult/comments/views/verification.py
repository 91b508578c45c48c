"""The link in the receipt mail that verifies a comment (F8).

GET only shows a button: mail scanners open links, and opening must not count as verifying.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from consult.comments.services import comment_for_verification, verify_comment
from consult.comments.views import bp
from consult.tokens import LinkExpired, LinkInvalid
from consult.web import ConfirmForm, commits


@bp.route("/verify/<token>", methods=["GET", "POST"])
@commits
def verify(token: str):
    """Confirm a comment from the mailed link; a POST makes it count."""
    try:
        comment = comment_for_verification(token)
        if request.method == "POST" and ConfirmForm().validate_on_submit():
            comment, changed = verify_comment(token)
            return render_template("comments/verified.html", comment=comment, just_now=changed)
    except (LinkInvalid, LinkExpired) as error:
        return render_template("citizens/link_error.html", status=error.status,
                               message=error.message, again=None), error.status
    if comment.verified_at is not None:
        return render_template("comments/verified.html", comment=comment, just_now=False)
    return render_template(
        "citizens/confirm.html", form=ConfirmForm(), title=_("验证您的意见"),
        text=_("请点击下面的按钮，确认意见 %(no)s 是您本人提交的。验证后，意见才会公开并获得答复。",
               no=comment.tracking_no),
        button=_("确认是我提交的"),
    )
