"""The workflow's reactions to case changes, as hooks the app registers.

The case use cases (``server/services/cases.py``) call these hooks at three moments; the workflow
built on the cases (assisting tasks, disputes, repeat reports, notifications:
``server/services/workflow_hooks.py``) implements them. Registering them at start-up
(``register``: the app, the command line and the demo loader do it) keeps the dependency one way:
the workflow imports the cases, never the reverse. A use case that runs with nothing registered
fails loudly instead of silently skipping the workflow."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlmodel import Session

from sync.lifecycle import Action, Actor

if TYPE_CHECKING:
    from server.models import Case, CaseEvent
    from server.services.cases import ActionInput


class CaseHooks(Protocol):
    def after_create(self, session: Session, case: Case, *, actor: Actor, now: datetime) -> None:
        """A case was recorded (its event is written)."""

    def before_transition(
        self,
        session: Session,
        case: Case,
        action: Action,
        actor: Actor,
        inp: ActionInput,
        now: datetime,
    ) -> None:
        """The lifecycle allowed ``action``; its event is not written yet."""

    def after_transition(
        self,
        session: Session,
        case: Case,
        *,
        action: Action,
        actor: Actor,
        inp: ActionInput,
        event: CaseEvent,
        now: datetime,
    ) -> None:
        """The action's fields and event are written."""


_registered: CaseHooks | None = None


def register(hooks: CaseHooks) -> None:
    global _registered
    _registered = hooks


def current() -> CaseHooks:
    if _registered is None:
        raise RuntimeError(
            "the workflow's case hooks are not registered: call "
            "server.services.workflow_hooks.register() at start-up"
        )
    return _registered
