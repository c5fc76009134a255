"""What each timeline entry names: the departments, people, deadlines and results an event
recorded, in words ("交办：主办 综合执法局；协办 水务局、住建局；时限 12月9日 17:00").

Pure: an event's ``data`` and the reference data in, a list of ``Fact`` out. A fact carries an
i18n key for its label and a value that is either already human (department names, a ticket
number), a moment the screen formats, or a code the screen labels with ``value_prefix``. The
event data each kind records is listed in ``sync/events.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.i18n import Lang, label_for, t
from sync import events as ev
from sync.lifecycle import Action
from sync.reference_codec import Reference


@dataclass(frozen=True)
class Fact:
    label: str  # i18n key, "fact.<name>"
    value: str | datetime | tuple[str, ...]
    value_prefix: str | None = None  # each value is a code labelled with i18n "<prefix>.<code>"


def _moment(raw: object) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _names(reference: Reference, codes: Iterable[object]) -> str:
    return "、".join(reference.department_name(str(c)) for c in codes if c)


def _assisting_codes(raw: object) -> list[str]:
    out: list[str] = []
    for item in raw if isinstance(raw, list) else ():
        if isinstance(item, Mapping):
            code = item.get("department_code") or item.get("department")
            if code:
                out.append(str(code))
        elif isinstance(item, str):
            out.append(item)
    return out


def _department(reference: Reference, key: str) -> Callable[[Mapping[str, Any]], list[Fact]]:
    def facts(data: Mapping[str, Any]) -> list[Fact]:
        code = data.get(key)
        return [Fact("fact.department", reference.department_name(str(code)))] if code else []

    return facts


def _due(data: Mapping[str, Any]) -> list[Fact]:
    due = _moment(data.get("due_at"))
    return [Fact("fact.due", due)] if due is not None else []


def facts_for(kind: str, data: Mapping[str, Any], reference: Reference) -> list[Fact]:
    """The facts the timeline shows for one event, in reading order."""
    out: list[Fact] = []
    if kind in (ev.EVENT_FOR_ACTION[Action.ASSIGN], ev.DISPUTE_RULED):
        lead = data.get("lead_department") or data.get("responsible_department")
        if lead:
            out.append(Fact("fact.lead", reference.department_name(str(lead))))
        assisting = _names(reference, _assisting_codes(data.get("assisting")))
        if assisting:
            out.append(Fact("fact.assisting", assisting))
        if kind == ev.DISPUTE_RULED and data.get("previous_lead"):
            previous = reference.department_name(str(data["previous_lead"]))
            out.append(Fact("fact.previous_lead", previous))
        out.extend(_due(data))
    elif kind == ev.EVENT_FOR_ACTION[Action.RETURN]:
        out.extend(_department(reference, "returned_by")(data))
    elif kind in (ev.ASSIST_TASK_CREATED, ev.ASSIST_TASK_REPORTED):
        out.extend(_department(reference, "department")(data))
        if data.get("duty"):
            out.append(Fact("fact.duty", str(data["duty"])))
        out.extend(_due(data))
    elif kind == ev.ASSISTING_RATED:
        out.extend(_department(reference, "department")(data))
        if data.get("rating") is not None:
            out.append(Fact("fact.rating", f"{data['rating']}/5"))
        if data.get("comment"):
            out.append(Fact("fact.comment", str(data["comment"])))
    elif kind == ev.CASE_ESCALATED:
        if data.get("level"):
            out.append(Fact("fact.level", str(data["level"]), value_prefix="escalation"))
        departments = data.get("departments")
        if isinstance(departments, list) and departments:
            out.append(Fact("fact.departments", _names(reference, departments)))
        out.extend(_due(data))
    elif kind == ev.CONSULTATION_CALLED:
        departments = data.get("departments")
        if isinstance(departments, list) and departments:
            out.append(Fact("fact.departments", _names(reference, departments)))
        out.extend(_due(data))
    elif kind == ev.DISPUTE_ESCALATED:
        if data.get("stage"):
            out.append(Fact("fact.stage", str(data["stage"]), value_prefix="dispute.stage"))
        out.extend(_due(data))
    elif kind == ev.RULING_REFUSED:
        out.extend(_department(reference, "department")(data))
    elif kind in (ev.EVENT_FOR_ACTION[Action.RESUME], ev.REPEAT_REPORTED):
        out.extend(_due(data))
    elif kind == ev.EVENT_FOR_ACTION[Action.MERGE]:
        if data.get("duplicate_of"):
            out.append(Fact("fact.duplicate_of", str(data["duplicate_of"])))
    elif kind in (ev.CALL_BACK_RECORDED, ev.HOTLINE_TICKET_LINKED):
        if data.get("ticket_no"):
            out.append(Fact("fact.ticket", str(data["ticket_no"])))
        if data.get("result"):
            out.append(Fact("fact.result", str(data["result"]), value_prefix="call_back"))
    elif kind == ev.FIELDS_EDITED:
        fields = data.get("fields")
        if isinstance(fields, Mapping) and fields:
            out.append(Fact("fact.fields", tuple(str(n) for n in fields), value_prefix="field"))
    elif kind == ev.EDIT_CONFLICTED:
        conflicts = data.get("conflicts")
        names = tuple(
            str(c["field"])
            for c in (conflicts if isinstance(conflicts, list) else ())
            if isinstance(c, Mapping) and c.get("field")
        )
        if names:
            out.append(Fact("fact.conflicts", names, value_prefix="field"))
    return out


def fact_line(
    facts: Iterable[Fact], lang: Lang | str, moment: Callable[[datetime], str]
) -> str:
    """One line for the timeline: "主办 综合执法局；协办 水务局、住建局；时限 12-09 17:00"."""
    parts: list[str] = []
    for fact in facts:
        if isinstance(fact.value, datetime):
            value = moment(fact.value)
        else:
            values = (fact.value,) if isinstance(fact.value, str) else fact.value
            if fact.value_prefix is not None:
                values = tuple(label_for(fact.value_prefix, v, lang) for v in values)
            value = "、".join(values)
        parts.append(f"{t(fact.label, lang)} {value}")
    return ("；" if Lang(lang) is Lang.ZH else "; ").join(parts)
