"""The words of the domain, one English name per idea (see docs/domain.md "Words in code")."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INSPECTOR = "inspector"  # 巡查员
    HANDLER = "handler"  # 部门经办人 (first-contact, lead or assisting department)
    SUPERVISOR = "supervisor"  # 督办
    COORDINATOR = "coordinator"  # 编办 / 会商小组
    ADMIN = "admin"  # 管理员


class CaseStatus(StrEnum):
    DISCOVERED = "discovered"  # 发现
    ASSIGNED = "assigned"  # 交办
    ACCEPTED = "accepted"  # 签收
    HANDLING = "handling"  # 处置
    HANDLED = "handled"  # 已反馈
    CLOSED = "closed"  # 结案
    CANCELLED = "cancelled"  # 撤销
    MERGED = "merged"  # 合并(重复)


TERMINAL_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.MERGED})
OPEN_STATUSES = frozenset(set(CaseStatus) - TERMINAL_STATUSES)
# Active (在办): the lead department is working on it (it may be suspended or disputed). Not
# ``discovered`` (nobody has it yet, or it was returned) nor ``handled`` (reported back, waiting
# for verification). Which deadline runs in which status: sync/overdue.py.
ACTIVE_STATUSES = frozenset({CaseStatus.ASSIGNED, CaseStatus.ACCEPTED, CaseStatus.HANDLING})


class Party(StrEnum):
    """How an actor's department relates to a case."""

    FIRST_CONTACT = "first_contact"  # 首问部门
    LEAD = "lead"  # 主办
    ASSISTING = "assisting"  # 协办
    REPORTER = "reporter"  # the user who recorded the case
    ANY = "any"  # no relation needed (the role alone suffices)


class TimeUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"


class CallBackResult(StrEnum):
    """A citizen's answer when the 12345 centre calls back (回访)."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    NOT_SATISFIED = "not_satisfied"  # 不满意
