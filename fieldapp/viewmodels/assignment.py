"""Assigning a case (交办): the boundary list's proposal, computed offline, and the user's choice.

Shared by the new inspection's on-the-spot assignment and the case screen's re-routing of a
returned (退回) or record-only case. The user confirms the proposal (lead, assisting with their
duties, deadline), or chooses another lead department and/or other assisting departments: an
override, which needs a reason (the server refuses an override without one, as this does).
"""

from __future__ import annotations

from datetime import datetime

from fieldapp.viewmodels.records import Assignment
from sync.assignment import Proposal, choose_assignment, propose_assignment
from sync.boundary_types import AssistingDuty, Point
from sync.errors import DomainError, InvalidInput
from sync.reference_codec import Reference

ADDED_DUTY = "配合主办部门处置"  # the duty of an assisting department the user adds by hand


class AssignmentChoice:
    """The proposal and what the user makes of it. ``errors`` maps a field to an i18n key."""

    def __init__(self) -> None:
        self.proposal: Proposal | None = None
        self.proposal_error: str | None = None  # why the list proposes nothing (the rule's text)
        self.override = False
        self.override_lead: str | None = None  # None: the proposal's lead
        self.override_assisting: list[str] | None = None  # None: the proposal's (less the lead)
        self.override_reason = ""
        self.errors: dict[str, str] = {}
        self.departments: frozenset[str] = frozenset()  # the reference's, for the override rule

    def reset(self) -> None:
        """Forget the proposal and the choice (the record it was computed for changed)."""
        self.proposal = None
        self.proposal_error = None
        self.override = False
        self.override_lead = None
        self.override_assisting = None
        self.override_reason = ""
        self.errors = {}

    def propose(
        self,
        reference: Reference,
        *,
        category: str,
        recorded_at: datetime,
        assigned_at: datetime,
        point: Point | None = None,
        town_code: str | None = None,
        site_code: str | None = None,
    ) -> Proposal | None:
        """The boundary list's proposal (None, with ``proposal_error``, when the list has no
        entry for the category at this place and time). The list version is the one in force
        when the case was recorded; the deadline runs from ``assigned_at``."""
        self.departments = frozenset(d.code for d in reference.departments)
        try:
            self.proposal = propose_assignment(
                versions=reference.versions,
                towns=reference.towns,
                sites=reference.sites,
                category=category,
                recorded_at=recorded_at,
                assigned_at=assigned_at,
                calendar=reference.calendar,
                point=point,
                town_code=town_code,
                site_code=site_code,
            )
            self.proposal_error = None
        except DomainError as exc:
            self.proposal = None
            self.proposal_error = exc.reason
        return self.proposal

    # -- the override -------------------------------------------------------------------
    @property
    def lead(self) -> str | None:
        """The lead department the assignment will name."""
        if self.override and self.override_lead:
            return self.override_lead
        return self.proposal.lead_department if self.proposal else None

    def assisting_codes(self) -> list[str]:
        """The assisting departments the assignment will name (never the lead)."""
        if self.proposal is None:
            return []
        if self.override and self.override_assisting is not None:
            codes = list(self.override_assisting)
        else:
            codes = [a.department_code for a in self.proposal.assisting]
        lead = self.lead
        return [c for c in codes if c != lead]

    def start_override(self) -> None:
        self.override = True

    def choose_lead(self, code: str | None) -> None:
        self.override = True
        self.override_lead = code or None

    def add_assisting(self, code: str) -> None:
        codes = self.assisting_codes()
        if code and code not in codes and code != self.lead:
            self.override = True
            self.override_assisting = [*codes, code]

    def remove_assisting(self, code: str) -> None:
        self.override = True
        self.override_assisting = [c for c in self.assisting_codes() if c != code]

    def _assisting_duties(self) -> tuple[AssistingDuty, ...]:
        proposed = {a.department_code: a for a in self.proposal.assisting} if self.proposal else {}
        return tuple(
            proposed.get(code) or AssistingDuty(code, ADDED_DUTY) for code in self.assisting_codes()
        )

    def assignment(self) -> Assignment | None:
        """What to send: the proposal as is, or the override with its reason. None when there is
        nothing to assign by, or the override is incomplete (``errors`` names the field). The
        shared rule (``sync.assignment.choose_assignment``) decides, as the server does."""
        proposal = self.proposal
        if proposal is None:
            return None
        self.errors.pop("override_reason", None)
        self.errors.pop("override_lead", None)
        lead = self.lead or None
        try:
            chosen = choose_assignment(
                proposal,
                departments=self.departments,
                lead_department=lead,
                assisting=self._assisting_duties(),
                override_reason=self.override_reason,
            )
        except InvalidInput as exc:
            if exc.field == "override_reason":
                self.errors["override_reason"] = "assign.error.reason_required"
            elif exc.field == "lead_department":
                self.override = True
                self.errors["override_lead"] = "assign.error.lead_required"
            else:
                self.proposal_error = exc.reason
            return None
        return Assignment(
            proposal, chosen.lead_department, chosen.assisting, chosen.override_reason
        )
