"""The password rule (one place; the server enforces it, the phone checks it before sending).

A new password has at least ``MIN_PASSWORD_CHARS`` characters, is not only digits (a birthday
or a telephone number), is not the username (in any casing, reversed or not) and is not the
demo password.
"""

from __future__ import annotations

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 200
DEMO_PASSWORD = "yixian-demo"


def password_problem(password: str, *, username: str) -> str | None:
    """Why ``password`` is refused as a new password for ``username``, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"密码至少 {MIN_PASSWORD_CHARS} 个字符 / at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"密码最多 {MAX_PASSWORD_CHARS} 个字符 / at most {MAX_PASSWORD_CHARS} characters"
    if password.isdigit():
        return "密码不能全是数字 / not only digits"
    lowered, name = password.strip().lower(), username.strip().lower()
    if name and (lowered == name or lowered == name[::-1]):
        return "密码不能与用户名相同 / must not be the username"
    if lowered == DEMO_PASSWORD:
        return "不能使用演示密码 / must not be the demo password"
    return None
