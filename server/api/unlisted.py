"""The register of unlisted matters (清单未列事项): cases no list entry covered, assigned to the
town/street office of the place (属地管理) or to a department chosen with a reason. 编办 reads it
to prepare the next list version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from server.api.deps import SessionDep, require_role
from server.data import unlisted as unlisted_data
from sync.lifecycle import Actor
from sync.vocabulary import Role

router = APIRouter(tags=["boundary"])

Registrar = Annotated[Actor, Depends(require_role(Role.COORDINATOR, Role.ADMIN))]


class UnlistedMatterOut(BaseModel):
    id: int
    case_id: str
    category: str
    town_code: str | None
    list_version: int
    lead_department: str
    override_reason: str | None
    recorded_by: str
    recorded_at: datetime


@router.get(
    "/unlisted-matters",
    response_model=list[UnlistedMatterOut],
    summary="The register of matters no list entry covered, newest first (编办, administrators)",
)
def unlisted_matters(
    session: SessionDep,
    _actor: Registrar,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[UnlistedMatterOut]:
    return [
        UnlistedMatterOut.model_validate(r, from_attributes=True)
        for r in unlisted_data.list_rows(session, limit=limit, offset=offset)
    ]
