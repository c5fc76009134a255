"""The boundary list: versions, entries, the proposal for a place, and publishing a version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from server.api.deps import CurrentUser, NowDep, ReferenceDep, SessionDep, require_role
from server.api.schemas import (
    BoundaryEntryIO,
    BoundaryVersionOut,
    ProposalOut,
    PublishVersionIn,
)
from server.data import boundary as boundary_data
from server.services import boundary as boundary_service
from server.services.boundary_cache import ReferenceCache
from sync.assignment import propose_assignment
from sync.boundary_types import Point
from sync.errors import NotFound
from sync.lifecycle import Actor
from sync.vocabulary import Role

router = APIRouter(prefix="/boundary", tags=["boundary list"])
AdminActor = Annotated[Actor, Depends(require_role(Role.ADMIN, Role.COORDINATOR))]


def _entry_out(row: object) -> BoundaryEntryIO:
    return BoundaryEntryIO.model_validate(row, from_attributes=True)


@router.get("/versions", response_model=list[BoundaryVersionOut], summary="All list versions")
def versions(session: SessionDep, _user: CurrentUser) -> list[BoundaryVersionOut]:
    return [
        BoundaryVersionOut.model_validate(v, from_attributes=True)
        for v in boundary_data.list_version_rows(session)
    ]


@router.get(
    "/versions/{number}", response_model=BoundaryVersionOut, summary="One version with its entries"
)
def version(number: int, session: SessionDep, _user: CurrentUser) -> BoundaryVersionOut:
    for row in boundary_data.list_version_rows(session):
        if row.number == number:
            out = BoundaryVersionOut.model_validate(row, from_attributes=True)
            out.entries = [_entry_out(e) for e in boundary_data.entry_rows(session, number)]
            return out
    raise NotFound(f"清单版本 {number} 不存在 / list version {number} not found")


@router.get(
    "/proposal",
    response_model=ProposalOut,
    summary="What the list in force proposes for a category at a place, now",
)
def proposal(
    ref: ReferenceDep,
    now: NowDep,
    _user: CurrentUser,
    category: Annotated[str, Query(examples=["parking"])],
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    town_code: str | None = None,
    site_code: str | None = None,
) -> ProposalOut:
    point = Point(lat, lon) if lat is not None and lon is not None else None
    p = propose_assignment(
        versions=ref.versions,
        towns=ref.towns,
        sites=ref.sites,
        category=category,
        recorded_at=now,
        assigned_at=now,
        calendar=ref.calendar,
        point=point,
        town_code=town_code,
        site_code=site_code,
    )
    return ProposalOut(
        matter=p.matter,
        lead_department=p.lead_department,
        lead_duty=p.lead_duty,
        assisting=[
            {"department_code": a.department_code, "duty": a.duty}  # type: ignore[misc]
            for a in p.assisting
        ],
        legal_basis=p.legal_basis,
        list_version=p.list_version,
        time_amount=p.time_limit.amount,
        time_unit=p.time_limit.unit.value,
        due_at=p.deadline.due_at,
        deadline_note=p.deadline.note,
        town_code=p.place.town_code,
        site_code=p.place.site.code if p.place.site else None,
        unlisted=p.unlisted,
    )


@router.post(
    "/versions",
    response_model=BoundaryVersionOut,
    status_code=201,
    summary="Publish a new version (admin or coordinator), with a reason",
)
def publish(
    body: PublishVersionIn,
    request: Request,
    session: SessionDep,
    now: NowDep,
    actor: AdminActor,
) -> BoundaryVersionOut:
    version = boundary_service.publish_version(
        session,
        actor=actor,
        effective_from=body.effective_from,
        reason=body.reason,
        entries=[e.model_dump() for e in body.entries],
        now=now,
        backdate_reason=body.backdate_reason,
    )
    session.commit()
    cache: ReferenceCache = request.app.state.reference_cache
    cache.invalidate()
    return BoundaryVersionOut(
        number=version.number,
        effective_from=version.effective_from,
        reason=version.reason,
        backdate_reason=body.backdate_reason.strip() or None,
        published_by=actor.user_id,
        published_at=now,
        entries=[_entry_out(e) for e in boundary_data.entry_rows(session, version.number)],
    )
