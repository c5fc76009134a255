"""First-contact responsibility (首问责任制): who owns a case right now.

The first department to log a case owns it until the department it routes the case to has
accepted it; a refused handover returns it to the first-contact department, never to nobody.
"""

from __future__ import annotations

from sync.errors import InvalidInput
from sync.vocabulary import CaseStatus, Role

_BEFORE_ACCEPTANCE = frozenset({CaseStatus.DISCOVERED, CaseStatus.ASSIGNED})


def owner_department(
    *, status: CaseStatus, first_contact_department: str, lead_department: str | None
) -> str:
    if status in _BEFORE_ACCEPTANCE or lead_department is None:
        return first_contact_department
    return lead_department


def first_contact_of(
    *, actor_role: Role, actor_department: str, named: str | None, reason: str
) -> str:
    """首问责任制: the first-contact department is who actually received the problem — the
    recording user's own department. A supervisor may record on behalf of another department,
    with a reason; anyone else naming another department is refused."""
    if named is None or named == actor_department:
        return actor_department
    if actor_role != Role.SUPERVISOR:
        raise InvalidInput(
            "first_contact_department",
            "首问部门是实际接收问题的本部门，不能登记为其他部门 / the first-contact department is "
            "your own department (the one that received the problem); only a supervisor may "
            "record on behalf of another",
            code="first_contact_not_yours",
        )
    if not reason.strip():
        raise InvalidInput(
            "first_contact_reason",
            "代其他部门登记须说明理由 / recording on behalf of another department needs a reason",
        )
    return named
