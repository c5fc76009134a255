"""Event names, in the past tense: what happened to a case."""

from __future__ import annotations

from collections.abc import Mapping

from sync.lifecycle import Action, SystemAction

CASE_CREATED = "CaseCreated"
NOTE_ADDED = "NoteAdded"
PHOTO_ADDED = "PhotoAdded"
FIELDS_EDITED = "FieldsEdited"
EDIT_CONFLICTED = "EditConflicted"
ACTION_REJECTED_EVIDENCE_KEPT = "RejectedActionEvidenceKept"

EVENT_FOR_ACTION: Mapping[Action, str] = {
    Action.ASSIGN: "CaseAssigned",
    Action.ACCEPT: "CaseAccepted",
    Action.RETURN: "CaseReturned",
    Action.START_HANDLING: "HandlingStarted",
    Action.REPORT_BACK: "CaseReportedBack",
    Action.CLOSE: "CaseClosed",
    Action.SEND_BACK: "CaseSentBack",
    Action.REOPEN: "CaseReopened",
    Action.CANCEL: "CaseCancelled",
    Action.MERGE: "CaseMerged",
    Action.SUSPEND: "CaseSuspended",
    Action.RESUME: "CaseResumed",
    Action.RAISE_DISPUTE: "DisputeRaised",
}

# Workflow (lead/assisting, disputes, rulings, joint sessions, escalation) — see docs/domain.md.
ASSIST_TASK_CREATED = "AssistTaskCreated"  # data: {department, duty, due_at}
ASSIST_TASK_REPORTED = "AssistTaskReported"  # data: {department, note, photos}
ASSISTING_RATED = "AssistingRated"  # data: {department, rating (1–5), comment}
CONSULTATION_CALLED = "ConsultationCalled"  # data: {dispute_id, departments, due_at}
DISPUTE_ESCALATED = "DisputeEscalated"  # data: {dispute_id, stage, due_at}
DISPUTE_RULED = "DisputeRuled"  # data: {dispute_id, responsible_department, lost_by: [...],
#                                   new_list_version | None, minute_id, stage, previous_lead,
#                                   assisting, coordinated (编办 or the joint group settled it)}
RULING_REFUSED = "RulingRefused"  # data: {department, reason}
CASE_ESCALATED = "CaseEscalated"  # data: {level: reminder|supervisor|leadership}
REPEAT_REPORTED = "RepeatReported"  # data: {new_report: {...}} — reopened as rework
CALL_BACK_RECORDED = "CallBackRecorded"  # data: {call_back_id, ticket_no, result, comment,
#                                        called_back_at, responsible_department, reopened}
HOTLINE_TICKET_LINKED = "HotlineTicketLinked"  # data: {ticket_no, import_id, received_at,
#                                             address, content} — a citizen called again

# The system transitions' events (see ``sync.lifecycle.SYSTEM_TRANSITIONS``).
EVENT_FOR_SYSTEM_ACTION: Mapping[SystemAction, str] = {
    SystemAction.REOPEN_ON_REPEAT: REPEAT_REPORTED,
    SystemAction.MERGE_INTO_REPEATED: EVENT_FOR_ACTION[Action.MERGE],
    SystemAction.APPLY_RULING: DISPUTE_RULED,
}

# Every event a case can carry, for the labels (each has a zh-CN and an English name in the
# field app) and for anything that must treat every kind.
ALL_EVENT_KINDS: tuple[str, ...] = (
    CASE_CREATED,
    NOTE_ADDED,
    PHOTO_ADDED,
    FIELDS_EDITED,
    EDIT_CONFLICTED,
    ACTION_REJECTED_EVIDENCE_KEPT,
    *EVENT_FOR_ACTION.values(),
    ASSIST_TASK_CREATED,
    ASSIST_TASK_REPORTED,
    ASSISTING_RATED,
    CONSULTATION_CALLED,
    DISPUTE_ESCALATED,
    DISPUTE_RULED,
    RULING_REFUSED,
    CASE_ESCALATED,
    REPEAT_REPORTED,
    CALL_BACK_RECORDED,
    HOTLINE_TICKET_LINKED,
)
