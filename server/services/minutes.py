"""Meeting minutes (会议纪要) as .docx, generated from a ruling or a joint session, kept in the
minutes store (``server/storage``: ``Settings.minutes_path`` or the database) with their sha256,
and linked to the case(s)."""

from __future__ import annotations

import io
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import IO, Any

from docx import Document
from sqlmodel import Session

from server.data import cases as cases_data
from server.data import workflow as wf_data
from server.models import Minute
from server.services.cases import visible
from server.storage import FileStore, read_verified
from sync.clock import to_local
from sync.errors import NotFound, RuleViolation
from sync.lifecycle import Actor


@dataclass(frozen=True)
class Attendee:
    department: str
    name: str = ""


@dataclass(frozen=True)
class Decision:
    department: str
    duty: str
    due_at: str | None = None  # ISO time node, or None


@dataclass(frozen=True)
class MinuteContent:
    title: str
    held_at: str  # ISO
    place: str
    attendees: list[Attendee]
    facts: str
    decisions: list[Decision]
    time_nodes: list[tuple[str, str]]  # (what, ISO time)
    legal_basis: str
    extra: dict[str, Any] = field(default_factory=dict)


def _fmt(iso: str | None) -> str:
    if not iso:
        return "—"
    return f"{to_local(datetime.fromisoformat(iso)):%Y-%m-%d %H:%M}"


def render_docx(content: MinuteContent, names: dict[str, str]) -> bytes:
    """The minute as a .docx (tens of KB)."""
    doc = Document()
    doc.add_heading(content.title, level=0)
    doc.add_paragraph(f"时间 / Time: {_fmt(content.held_at)}")
    doc.add_paragraph(f"地点 / Place: {content.place or '—'}")
    doc.add_heading("参加单位 / Attendees", level=1)
    for a in content.attendees:
        label = names.get(a.department, a.department)
        doc.add_paragraph(f"{label}（{a.department}）{a.name}".strip(), style="List Bullet")
    doc.add_heading("基本情况 / Facts", level=1)
    doc.add_paragraph(content.facts or "—")
    doc.add_heading("责任分工 / Decision per department", level=1)
    table = doc.add_table(rows=1, cols=3)
    head = table.rows[0].cells
    head[0].text, head[1].text, head[2].text = "部门 / Department", "职责 / Duty", "时间节点 / Due"
    for d in content.decisions:
        row = table.add_row().cells
        row[0].text = f"{names.get(d.department, d.department)}（{d.department}）"
        row[1].text = d.duty
        row[2].text = _fmt(d.due_at)
    doc.add_heading("时间节点 / Time nodes", level=1)
    for what, when in content.time_nodes:
        doc.add_paragraph(f"{what}：{_fmt(when)}", style="List Bullet")
    doc.add_heading("依据 / Legal basis", level=1)
    doc.add_paragraph(content.legal_basis or "—")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def create_minute(
    session: Session,
    *,
    kind: str,
    content: MinuteContent,
    case_ids: list[str],
    actor: Actor,
    store: FileStore,
    names: dict[str, str],
    now: datetime,
    dispute_id: str | None = None,
    session_id: str | None = None,
) -> Minute:
    """One minute per dispute and per joint session (只出一个会议纪要): a second is refused."""
    for existing in case_ids[:1]:
        for m in wf_data.minutes_of_case(session, existing):
            if (dispute_id and m.dispute_id == dispute_id) or (
                session_id and m.session_id == session_id
            ):
                raise RuleViolation(
                    "该事项已出会议纪要 / this matter already has its one minute",
                    code="one_minute",
                )
    minute_id = str(uuid.uuid4())
    file_name = f"{now:%Y%m%d}-{kind}-{minute_id[:8]}.docx"
    stored = store.put(file_name, [render_docx(content, names)])
    minute = Minute(
        id=minute_id,
        kind=kind,
        dispute_id=dispute_id,
        session_id=session_id,
        title=content.title,
        file_name=file_name,
        sha256=stored.sha256,
        size=stored.size,
        case_ids=list(case_ids),
        content=asdict(content),
        created_at=now,
        created_by=actor.user_id,
    )
    session.add(minute)
    session.flush()
    return minute


def visible_minute(session: Session, minute_id: str, actor: Actor) -> Minute:
    """The minute if the actor can see at least one of its cases."""
    minute = wf_data.get_minute(session, minute_id)
    if minute is not None:
        for case in cases_data.cases_by_ids(session, minute.case_ids):
            if visible(case, actor):
                return minute
    raise NotFound(f"会议纪要 {minute_id} 不存在或无权查看 / minute {minute_id} not found")


def minute_file(store: FileStore, minute: Minute) -> tuple[IO[bytes], int]:
    """The minute's .docx, checked against its sha256 (a minute made before migration 0020
    has none recorded and is read unchecked), and its size."""
    content = read_verified(store, minute.file_name, minute.sha256)
    size = content.seek(0, 2)
    content.seek(0)
    return content, size
