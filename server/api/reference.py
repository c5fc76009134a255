"""Departments, towns/streets, registered sites and intake channels (read-only for every signed-in
user)."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.deps import CurrentUser, SessionDep
from server.api.schemas import DepartmentOut, IntakeChannelOut, SiteOut, TownOut
from server.data import reference as reference_data

router = APIRouter(prefix="/reference", tags=["reference"])


@router.get("/departments", response_model=list[DepartmentOut], summary="All departments")
def departments(session: SessionDep, _user: CurrentUser) -> list[DepartmentOut]:
    return [
        DepartmentOut.model_validate(d, from_attributes=True)
        for d in reference_data.list_departments(session)
    ]


@router.get("/towns", response_model=list[TownOut], summary="Towns and street offices")
def towns(session: SessionDep, _user: CurrentUser) -> list[TownOut]:
    return [
        TownOut.model_validate(t, from_attributes=True)
        for t in reference_data.list_town_rows(session)
    ]


@router.get("/sites", response_model=list[SiteOut], summary="Registered sites (点位)")
def sites(session: SessionDep, _user: CurrentUser) -> list[SiteOut]:
    return [
        SiteOut.model_validate(s, from_attributes=True)
        for s in reference_data.list_site_rows(session)
    ]


@router.get(
    "/intake-channels",
    response_model=list[IntakeChannelOut],
    summary="Intake channels (受理渠道) a case's source names",
)
def intake_channels(session: SessionDep, _user: CurrentUser) -> list[IntakeChannelOut]:
    return [
        IntakeChannelOut.model_validate(c, from_attributes=True)
        for c in reference_data.list_intake_channel_rows(session)
    ]
