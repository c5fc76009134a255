"""Event names, in the past tense: what happened to a case."""

from __future__ import annotations

from collections.abc import Mapping

from sync.lifecycle import Action

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
