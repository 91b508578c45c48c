"""Display names for code values, in the glossary's words (GLOSSARY.md), translatable.

Each domain owns the labels of its enums and registers them beside the enum:

    STATE_LABELS = labels.define("state", {State.DRAFT: _l("草稿"), ...})

Templates and code read any of them by vocabulary: `{{ c.status|label("state") }}`,
`label(code, "disposition")`. Core: this module imports no domain.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

ALL: dict[str, Mapping] = {}
_BY_VALUE: dict[str, dict] = {}  # the same, by code value (a page shows a hundred labels)


def define(kind: str, table: Mapping[enum.Enum, object]) -> Mapping[enum.Enum, object]:
    """Register the display names of the vocabulary `kind`; returns `table` for the domain to
    keep (forms build their choices from it). Every member of the enum needs its name."""
    members = {type(key) for key in table}
    for enum_cls in members:
        missing = [member for member in enum_cls if member not in table]
        if missing:
            raise ValueError(f"labels {kind!r}: no display name for {missing}")
    ALL[kind] = table
    _BY_VALUE[kind] = {key.value: text for key, text in table.items()}
    return table


def label(value, kind: str) -> str:
    """The display name of `value` in the vocabulary `kind`: `{{ c.status|label("state") }}`."""
    if value is None:
        return ""
    text = _BY_VALUE[kind].get(getattr(value, "value", value))
    return str(value) if text is None else str(text)
