"""The answering sheet (F12 bulk work): export the comments to answer as XLSX, fill it in
offline, upload it, see a preview of every change with row-level errors, then apply it.

One row per comment that needs an answer and per confirmed group (its members are answered
through the group's row). Staff fill two columns: the disposition (a dropdown of the five
labels) and the reason. Applying is all or nothing: a sheet with any error changes nothing,
because a half-applied sheet leaves staff unsure which answers went in; the preview lists
every error at once so the sheet can be mended and uploaded again.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from consult import archives, audit, clock
from consult.answers.bulk import REASON_MAX, check_editable, write_answer_list
from consult.answers.groups import group_answer
from consult.answers.models import (
    DISPOSITION_LABELS,
    AnswerSheetImport,
    CommentGroup,
    DispositionCode,
    GroupStatus,
)
from consult.auth.models import User
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.labels import label

SHEET_TITLE = "答复"
MAX_ROWS = 100_000
# Cells a spreadsheet would read as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GROUP_KEY = re.compile(r"^(?:组|G)\s*(\d+)$", re.IGNORECASE)
# Column titles; the import finds its columns by these, so columns may be moved or hidden.
KEY, KIND, COUNT, ARTICLE, CATEGORY, CHANNEL, TEXT, NOW_CODE, NOW_REASON, CODE, REASON = (
    "编号", "类型", "条数", "条款", "提出意见者身份", "渠道", "意见原文", "当前采纳情况",
    "当前理由", "采纳情况（请选择）", "理由（请填写）",
)
COLUMNS = (KEY, KIND, COUNT, ARTICLE, CATEGORY, CHANNEL, TEXT, NOW_CODE, NOW_REASON, CODE,
           REASON)
WIDTHS = (18, 12, 6, 12, 16, 10, 60, 14, 40, 22, 50)


def _title(name: str) -> str:
    # The msgids are listed literally so that pybabel extracts them.
    return {
        KEY: _("编号"), KIND: _("类型"), COUNT: _("条数"), ARTICLE: _("条款"),
        CATEGORY: _("提出意见者身份"), CHANNEL: _("渠道"), TEXT: _("意见原文"),
        NOW_CODE: _("当前采纳情况"), NOW_REASON: _("当前理由"), CODE: _("采纳情况（请选择）"),
        REASON: _("理由（请填写）"),
    }[name]


def safe_cell(value):
    """Text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def group_key(group_id: int) -> str:
    return f"组{group_id}"


# --- export ------------------------------------------------------------------------------------


def _article(comment: Comment) -> str:
    return comment.article.label if comment.article else _("对整体的意见")


def sheet_rows(consultation: Consultation):
    """(key, kind, count, article, category, channel, text, current code, current reason)."""
    comments = db.session.scalars(
        db.select(Comment)
        .where(Comment.consultation_id == consultation.id,
               Comment.status == CommentStatus.PUBLISHED)
        .options(db.selectinload(Comment.disposition), db.selectinload(Comment.article))
        .order_by(Comment.id)
    ).all()
    confirmed = {g.id: g for g in db.session.scalars(
        db.select(CommentGroup).where(CommentGroup.consultation_id == consultation.id,
                                      CommentGroup.status == GroupStatus.CONFIRMED)
        .options(db.selectinload(CommentGroup.members).selectinload(Comment.disposition)))}
    seen_groups = set()
    for comment in comments:
        group = confirmed.get(comment.group_id)
        if group is None:
            d = comment.disposition
            yield (comment.tracking_no, _("意见"), 1, _article(comment),
                   label(comment.category, "category"), label(comment.channel, "channel"),
                   comment.body, label(d.code, "disposition") if d else "",
                   (d.reason or "") if d else "")
            continue
        if group.id in seen_groups:
            continue
        seen_groups.add(group.id)
        members = [m for m in group.members if m.needs_answer]
        if not members:
            continue  # none of it needs an answer
        answer = group_answer(group)
        representative = group.representative or members[0]
        current = (label(answer["code"], "disposition") if answer["code"]
                   else _("（答复不一致）") if answer["mixed"] else "")
        yield (group_key(group.id), _("相同意见合并"), len(members), _article(representative),
               _breakdown(members, "category"), _breakdown(members, "channel"),
               representative.body, current, answer["reason"] or "")


def _breakdown(members, kind: str) -> str:
    counts: dict = {}
    for member in members:
        value = getattr(member, kind)
        counts[value] = counts.get(value, 0) + 1
    return "；".join(f"{label(value, kind)} {n}" for value, n in counts.items())


def answer_sheet(consultation: Consultation) -> bytes:
    """The answering sheet as XLSX bytes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    workbook.properties.title = consultation.title[:200]
    workbook.properties.identifier = f"consult:consultation:{consultation.id}"
    sheet.append([_title(name) for name in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    count = 0
    for row in sheet_rows(consultation):
        sheet.append([safe_cell(value) for value in row] + ["", ""])
        count += 1
    wrap = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="FFF2CC")  # the columns to fill in
    for index, width in enumerate(WIDTHS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2, max_row=count + 1):
        row[COLUMNS.index(TEXT)].alignment = wrap
        row[COLUMNS.index(CODE)].fill = fill
        row[COLUMNS.index(REASON)].fill = fill
    labels = [str(text) for text in DISPOSITION_LABELS.values()]
    choice = DataValidation(
        type="list", formula1='"' + ",".join(labels) + '"', allow_blank=True,
        showErrorMessage=True, errorTitle=_("采纳情况"),
        error=_("请从列表中选择：%(labels)s", labels="、".join(labels)),
    )
    sheet.add_data_validation(choice)
    code_letter = sheet.cell(row=1, column=COLUMNS.index(CODE) + 1).column_letter
    choice.add(f"{code_letter}2:{code_letter}{max(count + 1, 2) + 1000}")
    sheet.freeze_panes = "B2"
    notes = workbook.create_sheet(_("填写说明"))
    for line in (
        _("在“采纳情况（请选择）”列选择采纳情况，在“理由（请填写）”列填写理由；除“采纳”外须填写理由。"),
        _("不需要修改的行，这两列留空即可。编号以“组”开头的行是相同意见组，答复适用于组内每条意见。"),
        _("上传后会先显示预览；有任何一行出错，整张表都不会导入。"),
        _("本表含意见原文，仅供本单位办理使用，不得对外公开。"),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- import ------------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# The labels in the default language (the msgids), accepted whatever the uploader's language.
ZH_HANS_LABELS = {
    "采纳": DispositionCode.ADOPTED, "部分采纳": DispositionCode.PARTLY_ADOPTED,
    "不予采纳": DispositionCode.NOT_ADOPTED, "已有规定": DispositionCode.ALREADY_PROVIDED,
    "不属于本次征求意见范围": DispositionCode.OUT_OF_SCOPE,
}


def _code_of(text: str) -> DispositionCode | None:
    """A disposition from its label (as the sheet showed it, or in Simplified Chinese) or its
    code value."""
    for code, name in DISPOSITION_LABELS.items():
        if text in (code.value, str(name)):
            return code
    return ZH_HANS_LABELS.get(text)


def read_sheet(data: bytes, consultation: Consultation) -> list[dict]:
    """What a filled sheet says, row by row: {"row", "key", "label", "reason", "error"}.
    Rows whose two answer columns are empty are left out: nothing to change there.

    The file is checked for zip bombs and entity declarations before openpyxl sees it
    (consult/archives.py), and any parse error on the way — openpyxl reads rows lazily — is
    the same clear 422, never a 500.
    """
    problem = ValidationFailed(_("无法读取该文件：请上传从本页下载的答复表（XLSX）。"),
                               code="sheet_unreadable",
                               fields={"file": _("无法读取该文件。")})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archives.check(archive, scan_xml=True)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise problem from None
    try:
        return _sheet_rows(workbook, consultation)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError,
            SyntaxError):  # defusedxml's refusals are ValueErrors, expat's are SyntaxErrors
        raise problem from None
    finally:
        workbook.close()


def _sheet_rows(workbook, consultation: Consultation) -> list[dict]:
    identifier = workbook.properties.identifier or ""
    if identifier.startswith("consult:consultation:") and identifier != (
            f"consult:consultation:{consultation.id}"):
        message = _("这张答复表是另一项意见征集的，不能导入到这里。")
        raise ValidationFailed(message, code="sheet_of_another_consultation",
                               fields={"file": message})
    sheet = workbook[SHEET_TITLE] if SHEET_TITLE in workbook.sheetnames else workbook.worksheets[0]
    rows = sheet.iter_rows()
    header = next(rows, None)
    titles = {_text(cell.value): i for i, cell in enumerate(header or ())}
    wanted = {}
    for name in (KEY, CODE, REASON):
        index = titles.get(_title(name), titles.get(name))
        if index is None:
            message = _("表格缺少“%(column)s”列：请使用从本页下载的答复表。", column=_title(name))
            raise ValidationFailed(message, code="sheet_columns", fields={"file": message})
        wanted[name] = index
    out = []
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            message = _("表格超过 %(n)d 行。", n=MAX_ROWS)
            raise ValidationFailed(message, code="sheet_too_long", fields={"file": message})
        values, error = {}, None
        for name, index in wanted.items():
            cell = cells[index] if index < len(cells) else None
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or (
                    isinstance(value, str) and value.startswith("=")):
                error = _("单元格含公式，请只填写文字。")
                value = ""
            text = _text(value)
            if text.startswith("'") and text[1:].startswith(FORMULA_START):
                text = text[1:]  # the quote our export put before formula-like text
            values[name] = text
        if not values[CODE] and not values[REASON] and not error:
            continue  # nothing to change on this row
        if not values[KEY] and not error:
            error = _("缺少编号。")
        if len(values[REASON]) > REASON_MAX:
            error = _("理由不能超过 %(n)d 个字。", n=REASON_MAX)
        out.append({"row": number, "key": values[KEY], "label": values[CODE],
                    "reason": values[REASON], "error": error})
    return out


@dataclass
class RowCheck:
    row: int
    key: str
    label: str
    reason: str | None
    code: DispositionCode | None = None
    target: object | None = None  # a Comment or a CommentGroup
    comments: tuple = ()  # the comments the row answers
    before: tuple | None = None  # (code, reason) now, if all its comments agree
    change: str = "error"  # new, revise, unchanged, error
    error: str | None = None


def check_rows(consultation: Consultation, rows: list[dict]) -> list[RowCheck]:
    """Each row of a sheet checked against the comments as they are now."""
    numbers = [r["key"].upper().replace(" ", "") for r in rows
               if r["key"] and not GROUP_KEY.match(r["key"])]
    comments = {}
    for start in range(0, len(numbers), 500):
        for comment in db.session.scalars(
            db.select(Comment)
            .where(Comment.consultation_id == consultation.id,
                   Comment.tracking_no.in_(numbers[start:start + 500]))
            .options(db.selectinload(Comment.disposition))
        ):
            comments[comment.tracking_no] = comment
    groups = {g.id: g for g in db.session.scalars(
        db.select(CommentGroup).where(CommentGroup.consultation_id == consultation.id)
        .options(db.selectinload(CommentGroup.members).selectinload(Comment.disposition)))}
    seen: dict[str, int] = {}
    checks = []
    for row in rows:
        check = RowCheck(row=row["row"], key=row["key"], label=row["label"],
                         reason=row["reason"] or None, error=row.get("error"))
        checks.append(check)
        if check.error:
            continue
        key = row["key"].upper().replace(" ", "")
        if key in seen:
            check.error = _("编号与第 %(row)d 行重复。", row=seen[key])
            continue
        seen[key] = row["row"]
        match = GROUP_KEY.match(key)
        if match:
            group = groups.get(int(match.group(1)))
            if group is None:
                check.error = _("没有这个相同意见组。")
                continue
            if not group.confirmed:
                check.error = _("该组尚未确认，请先在“相同意见”页确认。")
                continue
            check.target = group
            check.comments = tuple(m for m in group.members if m.needs_answer)
            if not check.comments:
                check.error = _("该组的意见均未公开，无需答复。")
                continue
        else:
            comment = comments.get(key)
            if comment is None:
                check.error = _("没有这个意见编号（或它不属于本项意见征集）。")
                continue
            if not comment.needs_answer:
                check.error = _("该意见未公开（未验证、待审核或不予公开），无需答复。")
                continue
            if comment.group_id in groups and groups[comment.group_id].confirmed:
                check.error = _("该意见属于相同意见组 %(key)s，请在该组的行中答复。",
                                key=group_key(comment.group_id))
                continue
            check.target = comment
            check.comments = (comment,)
        check.code = _code_of(check.label)
        if check.code is None:
            check.error = (_("未知的采纳情况“%(label)s”。", label=check.label) if check.label
                           else _("请选择采纳情况。"))
            continue
        if check.code != DispositionCode.ADOPTED and not check.reason:
            check.error = _("除“采纳”外，答复须说明理由。")
            continue
        answers = {(c.disposition.code, c.disposition.reason) if c.disposition else None
                   for c in check.comments}
        check.before = next(iter(answers)) if len(answers) == 1 else None
        if check.before == (check.code, check.reason):
            check.change = "unchanged"
        elif all(c.disposition is None for c in check.comments):
            check.change = "new"
        else:
            check.change = "revise"
    return checks


def store_upload(consultation: Consultation, data: bytes, filename: str, *,
                 actor: User) -> AnswerSheetImport:
    """Read an uploaded sheet and keep what it says until staff confirm it."""
    check_editable(consultation)
    rows = read_sheet(data, consultation)
    upload = AnswerSheetImport(consultation=consultation, filename=(filename or "")[:255],
                               rows=rows, uploaded_by_id=getattr(actor, "id", None),
                               created_at=clock.now())
    db.session.add(upload)
    db.session.flush()
    return upload


def apply_upload(upload: AnswerSheetImport, *, actor: User) -> dict[str, int]:
    """Apply every change of a checked sheet in one go, or nothing if any row is wrong."""
    consultation = upload.consultation
    check_editable(consultation)
    if upload.applied_at is not None:
        raise Conflict(_("这张答复表已经导入过了。"), code="already_applied")
    checks = check_rows(consultation, upload.rows)
    errors = [c for c in checks if c.error]
    if errors:
        raise ValidationFailed(
            _("答复表有 %(n)d 行错误，未导入任何答复：请改正后重新上传。", n=len(errors)),
            code="sheet_has_errors", fields={"file": _("答复表有错误。")},
        )
    answers = [(comment, check.code, check.reason) for check in checks
               if check.change in ("new", "revise") for comment in check.comments]
    changed = write_answer_list(answers, actor=actor, detail={"sheet": upload.id})
    upload.applied_at = clock.now()
    upload.applied_by_id = getattr(actor, "id", None)
    counts = {key: sum(1 for c in checks if c.change == key)
              for key in ("new", "revise", "unchanged")}
    audit.record(actor, "import_answers", upload, unit_id=consultation.unit_id,
                 detail={**counts, "comments": changed})
    return {**counts, "comments": changed}
