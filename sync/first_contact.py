"""First-contact responsibility (首问责任制): who owns a case right now.

The first department to log a case owns it until the department it routes the case to has
accepted it; a refused handover returns it to the first-contact department, never to nobody.
"""

from __future__ import annotations

from sync.vocabulary import CaseStatus

_BEFORE_ACCEPTANCE = frozenset({CaseStatus.DISCOVERED, CaseStatus.ASSIGNED})


def owner_department(
    *, status: CaseStatus, first_contact_department: str, lead_department: str | None
) -> str:
    if status in _BEFORE_ACCEPTANCE or lead_department is None:
        return first_contact_department
    return lead_department
