"""The notifications list (通知), pure: unread first, newest first, one language shown.

The server writes each notification's text in both languages (``中文 / English``); a row shows
a title from its kind and the half of the text in the UI's language. A notification about a
case links to it by number (from the device's copy of the case, else from the text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.i18n import MESSAGES, Lang, t

CASE_NUMBER = re.compile(r"YX\d{6}-[0-9A-F]{10}")
SEPARATORS = (" / ", "）/ ", "/ ")

NumberOf = Callable[[str], str | None]  # case id → its number, if this device has the case


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def text_in(text: str, lang: Lang) -> str:
    """The part of a bilingual ``中文 / English`` text in ``lang``. What follows a colon in the
    English half belongs to both halves when it is a name or a user's words, not English:
    after a full-width colon (``即将到期 / due soon：案件 N``), or after ``: `` when it holds
    Chinese (``协办任务 / assisting task: N — 提供管网资料``)."""
    for sep in SEPARATORS:
        head, found, tail = text.partition(sep)
        if not found:
            continue
        if sep.startswith("）"):
            head += "）"
        shared = ""
        if "：" in tail:
            tail, _, rest = tail.partition("：")
            shared = "：" + rest
        elif ": " in tail and _has_cjk(tail.partition(": ")[2]):
            tail, _, rest = tail.partition(": ")
            shared = "：" + rest
            if lang is Lang.EN:
                shared = ": " + rest
        return (tail if lang is Lang.EN else head).strip() + shared
    return text


def kind_title(kind: str, lang: Lang) -> str:
    key = f"notice.kind.{kind}"
    if key in MESSAGES:
        return t(key, lang)
    if kind.startswith("escalation_"):
        return t("notice.kind.escalation", lang)
    return t("notice.kind.other", lang)


@dataclass(frozen=True)
class NoticeRow:
    id: int
    title: str
    text: str
    case_id: str | None
    case_number: str | None
    created_at: datetime | None
    unread: bool


def _when(raw: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def notice_rows(
    raw: Sequence[Mapping[str, Any]], lang: Lang, number_of: NumberOf | None = None
) -> list[NoticeRow]:
    """Rows: unread before read, newest first within each."""
    rows: list[NoticeRow] = []
    for n in raw:
        text = str(n.get("text") or "")
        case_id = n.get("case_id")
        number: str | None = None
        if case_id:
            number = number_of(str(case_id)) if number_of else None
            if number is None:
                found = CASE_NUMBER.search(text)
                number = found.group(0) if found else None
        title = kind_title(str(n.get("kind") or ""), lang)
        shown = text_in(text, lang)
        for colon in ("：", ": "):  # "协办任务：…" under the title 协办任务: say it once
            if shown.startswith(title + colon) or shown.lower().startswith(title.lower() + colon):
                shown = shown[len(title) + len(colon) :]
        rows.append(
            NoticeRow(
                id=int(n.get("id") or 0),
                title=title,
                text=shown,
                case_id=str(case_id) if case_id else None,
                case_number=number,
                created_at=_when(n.get("created_at")),
                unread=n.get("read_at") is None,
            )
        )
    return sorted(rows, key=lambda r: (not r.unread, -r.id))


def unread_count(raw: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for n in raw if n.get("read_at") is None)


def mark_read_locally(rows: Sequence[NoticeRow], notification_id: int) -> list[NoticeRow]:
    """The rows after a tap, before the server answers: the tapped row read, order kept."""
    return [
        NoticeRow(r.id, r.title, r.text, r.case_id, r.case_number, r.created_at, False)
        if r.id == notification_id
        else r
        for r in rows
    ]
