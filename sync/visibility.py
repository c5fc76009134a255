"""Who may see a case: the rule both the server and a device's pull apply."""

from __future__ import annotations

from collections.abc import Iterable

from sync.vocabulary import Role

OVERSIGHT_ROLES = frozenset({Role.SUPERVISOR, Role.COORDINATOR, Role.ADMIN})


def can_see_case(
    *,
    role: Role,
    department: str,
    user_id: str,
    first_contact_department: str,
    lead_department: str | None,
    assisting_departments: Iterable[str],
    reporter_user_id: str,
) -> bool:
    if role in OVERSIGHT_ROLES:
        return True
    if user_id == reporter_user_id:
        return True
    return department in {first_contact_department, lead_department, *assisting_departments}


def involved_departments(
    first_contact_department: str, lead_department: str | None, assisting_departments: Iterable[str]
) -> frozenset[str]:
    """The departments that see a case because they take part in it (``can_see_case``)."""
    return frozenset(
        d for d in (first_contact_department, lead_department, *assisting_departments) if d
    )
