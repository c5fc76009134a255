"""The one tree of domain errors, mapped to HTTP once by the server.

DomainError
├── InvalidInput          – bad input; names the field and why            (422)
├── NotPermitted          – the actor's role/department may not do this   (403)
├── NotFound              – unknown, or not visible to the caller         (404)
├── RuleViolation         – the rules forbid this now; says why           (409)
│   └── TransitionNotAllowed – the lifecycle forbids this action now
└── EditConflict          – the record changed since the edit was based   (409)
"""

from __future__ import annotations

__all__ = [
    "DomainError",
    "EditConflict",
    "InvalidInput",
    "NotFound",
    "NotPermitted",
    "RuleViolation",
    "TransitionNotAllowed",
]


class DomainError(Exception):
    """Base of every error the rules raise. ``code`` is a stable machine-readable key."""

    code: str = "domain_error"

    def __init__(self, reason: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if code is not None:
            self.code = code
        self.field: str | None = field  # the input the refusal is about, when there is one

    def as_dict(self) -> dict[str, str]:
        out = {"code": self.code, "reason": self.reason}
        if self.field is not None:
            out["field"] = self.field
        return out


class InvalidInput(DomainError):
    code = "invalid_input"

    def __init__(self, field: str, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {reason}", code=code, field=field)
        self.field: str = field
        self.why = reason

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "reason": self.why}


class NotPermitted(DomainError):
    code = "not_permitted"


class NotFound(DomainError):
    code = "not_found"


class RuleViolation(DomainError):
    code = "rule_violation"


class TransitionNotAllowed(RuleViolation):
    code = "transition_not_allowed"


class EditConflict(DomainError):
    code = "edit_conflict"
