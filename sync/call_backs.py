"""12345 call-back (回访) results: their names and how a file's or a request's text reads.

Pure: no I/O. Whether an unsatisfied call-back reopens a closed case is the repeat-report rule
(``sync.workflow.call_back_counts_as_repeat``), not a rule of its own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from sync.errors import InvalidInput
from sync.vocabulary import CallBackResult

__all__ = ["CALL_BACK_NAMES", "MAX_COMMENT", "check_comment", "parse_call_back_result"]

MAX_COMMENT = 1000

CALL_BACK_NAMES: Mapping[CallBackResult, tuple[str, str]] = {
    CallBackResult.SATISFIED: ("满意", "satisfied"),
    CallBackResult.BASICALLY_SATISFIED: ("基本满意", "basically satisfied"),
    CallBackResult.NOT_SATISFIED: ("不满意", "not satisfied"),
}

# the words platforms and operators write, normalised (NFKC, no spaces, lower case)
_WORDS: Mapping[str, CallBackResult] = {
    "满意": CallBackResult.SATISFIED,
    "非常满意": CallBackResult.SATISFIED,
    "很满意": CallBackResult.SATISFIED,
    "satisfied": CallBackResult.SATISFIED,
    "基本满意": CallBackResult.BASICALLY_SATISFIED,
    "比较满意": CallBackResult.BASICALLY_SATISFIED,
    "basically_satisfied": CallBackResult.BASICALLY_SATISFIED,
    "basicallysatisfied": CallBackResult.BASICALLY_SATISFIED,
    "不满意": CallBackResult.NOT_SATISFIED,
    "很不满意": CallBackResult.NOT_SATISFIED,
    "非常不满意": CallBackResult.NOT_SATISFIED,
    "not_satisfied": CallBackResult.NOT_SATISFIED,
    "notsatisfied": CallBackResult.NOT_SATISFIED,
    "unsatisfied": CallBackResult.NOT_SATISFIED,
}


def parse_call_back_result(text: object, field: str = "result") -> CallBackResult:
    """The result a cell or a request names; ``InvalidInput(field)`` says which words work."""
    if not isinstance(text, str):
        raise InvalidInput(field, f"应为文本 / must be text, got {text!r}")
    key = "".join(unicodedata.normalize("NFKC", text).split()).lower()
    found = _WORDS.get(key)
    if found is None:
        raise InvalidInput(
            field,
            f"未知的回访结果 {text!r}，应为 满意、基本满意 或 不满意 / unknown call-back result, "
            "must be satisfied, basically_satisfied or not_satisfied",
        )
    return found


def check_comment(comment: str, field: str = "comment") -> str:
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(field, f"不能超过 {MAX_COMMENT} 字 / at most {MAX_COMMENT} characters")
    return comment
