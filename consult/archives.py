"""Uploaded OOXML files (.docx, .xlsx) are zip archives: check what they unpack to first.

An upload's size says nothing about what it unpacks to: 340 KB of .xlsx can hold 136 MB of XML,
and a few hundred bytes of XML with nested entities (billion laughs) expand to gigabytes in a
parser that resolves them. `check` runs on the archive's directory, before any XML parser sees
a member, and refuses (422, with a message for the uploader):

- more than MAX_MEMBERS members;
- more than UNZIP_MAX_BYTES uncompressed in all (default 50 MB);
- a member larger than RATIO_GRACE_BYTES whose compression ratio is above UNZIP_MAX_RATIO
  (default 100: XML compresses 5–20 times, images not at all; a bomb is hundreds or thousands);
- with `scan_xml` (the importers, which parse the file), any member holding a document type
  declaration (`<!DOCTYPE`, `<!ENTITY`) in an encoding an XML parser reads: Office never writes
  one, and without it there is no entity to expand.

The declared sizes can be trusted as bounds: Python's zipfile (which openpyxl and python-docx
read through) never returns more than a member's declared size and fails on a CRC mismatch;
the scan counts what it actually reads all the same. The parsers are hardened too: openpyxl
parses worksheets with defusedxml (used automatically when installed; requirements.txt pins
it), python-docx with lxml without entity resolution, whose libxml2 also caps amplification.
"""

from __future__ import annotations

import zipfile

from flask import current_app
from flask_babel import gettext as _

from consult.errors import ValidationFailed

MAX_MEMBERS = 1000  # a large Word file with many images has a few hundred
RATIO_GRACE_BYTES = 1024 * 1024  # a small member cannot hurt, whatever its ratio
CHUNK = 1024 * 1024
_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_OVERLAP = max(len(marker) for marker in _MARKERS)


def _refuse(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={"file": message})


def check(archive: zipfile.ZipFile, *, scan_xml: bool) -> None:
    """Refuse an archive that would unpack too big, too suddenly, or with a DTD (see above)."""
    config = current_app.config
    max_total, max_ratio = config["UNZIP_MAX_BYTES"], config["UNZIP_MAX_RATIO"]
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(_("文件包含的部件过多（超过 %(n)d 个），无法处理。", n=MAX_MEMBERS),
                      "archive_members")
    too_large = _refuse(_("文件解压后超过 %(mb)d MB，无法处理。请删减内容或拆分后再上传。",
                          mb=max(1, max_total // (1024 * 1024))), "archive_too_large")
    if sum(info.file_size for info in infos) > max_total:
        raise too_large
    for info in infos:
        if info.file_size > RATIO_GRACE_BYTES and info.file_size > max_ratio * max(
                info.compress_size, 1):
            raise _refuse(_("文件中有压缩比异常的内容（解压后是原来的 %(n)d 倍以上，"
                            "可能是恶意构造的“压缩炸弹”），无法处理。", n=max_ratio),
                          "archive_ratio")
    if scan_xml:
        read = 0
        for info in infos:
            read += _scan(archive, info, max_total - read)
            if read > max_total:
                raise too_large


def _scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> int:
    """Read one member in chunks looking for a DTD; return the bytes read (stops past
    `budget`, so that the caller refuses the archive as too large)."""
    read, tail = 0, b""
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                read += len(chunk)
                window = tail + chunk
                if any(marker in window for marker in _MARKERS):
                    raise _refuse(_("文件含有不允许的 XML 文档类型声明（DOCTYPE/ENTITY），"
                                    "无法处理。请用 Office 软件另存后再上传。"), "xml_dtd")
                if read > budget:
                    break
                tail = window[-_OVERLAP:]
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
            OSError):  # a broken or encrypted member
        raise _refuse(_("文件已损坏，无法打开。"), "corrupt_file") from None
    return read
