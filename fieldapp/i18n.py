"""UI text: Chinese (zh-CN) first, every label also in English.

``MESSAGES`` maps a key to its (zh, en) forms; ``t(key, lang)`` picks one. Keys are grouped
by screen with a dotted prefix (``login.*``, ``nav.*``). Screens added later put their keys
here too: a unit test checks every key has both forms.
"""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    ZH = "zh-CN"
    EN = "en"


DEFAULT_LANG = Lang.ZH

MESSAGES: dict[str, tuple[str, str]] = {
    # the app
    "app.name": ("一线", "Yixian"),
    "app.tagline": ("一线联合办公 · 现场处置", "On-site joint office work"),
    "app.starting": ("正在启动…", "Starting…"),
    # navigation
    "nav.home": ("首页", "Home"),
    "nav.new": ("上报", "Report"),
    "nav.settings": ("设置", "Settings"),
    "nav.back": ("返回", "Back"),
    # sign-in
    "login.server": ("服务器地址", "Server address"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.busy": ("正在登录…", "Signing in…"),
    "lang.switch_to": ("English", "中文"),  # names the language a tap switches to
    "login.error.username_required": ("请输入用户名", "Enter your username"),
    "login.error.password_required": ("请输入密码", "Enter your password"),
    "login.error.server_invalid": (
        "服务器地址应以 http:// 或 https:// 开头",
        "The server address must start with http:// or https://",
    ),
    "login.error.bad_credentials": ("用户名或密码错误", "Wrong username or password"),
    "login.error.rejected": ("服务器拒绝登录", "The server refused the sign-in"),
    "login.error.unreachable": (
        "无法连接服务器，可离线继续工作",
        "Cannot reach the server; you can keep working offline",
    ),
    "login.error.timeout": (
        "服务器响应超时，可离线继续工作",
        "The server did not answer in time; you can keep working offline",
    ),
    "login.error.server_fault": (
        "服务器出错，请稍后再试",
        "The server failed; try again later",
    ),
    # home
    "home.title": ("首页", "Home"),
    "home.welcome": ("你好，{name}", "Hello, {name}"),
    "home.placeholder": (
        "待办案件将显示在这里",
        "Your open cases will appear here",
    ),
    "home.signed_in_as": ("{department} · {role}", "{department} · {role}"),
    # new case
    "new.title": ("上报问题", "Report a problem"),
    "new.placeholder": ("现场上报即将开放", "On-site reporting is coming"),
    # case
    "case.title": ("案件 {id}", "Case {id}"),
    "case.placeholder": ("案件详情即将开放", "Case details are coming"),
    # settings
    "settings.title": ("设置", "Settings"),
    "settings.language": ("界面语言", "Language"),
    "settings.server": ("服务器地址", "Server address"),
    "settings.account": ("当前用户", "Signed in as"),
    "settings.sign_out": ("退出登录", "Sign out"),
    "settings.secure_storage": ("令牌保存位置", "Token stored in"),
    "settings.storage.secure": ("安全存储", "secure storage"),
    "settings.storage.memory": ("仅本次会话", "this session only"),
    # roles
    "role.inspector": ("巡查员", "Inspector"),
    "role.handler": ("部门经办人", "Department handler"),
    "role.supervisor": ("督办", "Supervisor"),
    "role.coordinator": ("编办协调", "Coordinator"),
    "role.admin": ("管理员", "Administrator"),
    # languages, each named in itself
    "lang.zh-CN": ("中文", "中文"),
    "lang.en": ("English", "English"),
    # generic
    "common.not_found": ("页面不存在", "Page not found"),
}


def t(key: str, lang: Lang | str = DEFAULT_LANG, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``.

    Raises ``KeyError`` naming the key when it is unknown, so a typo fails in tests rather
    than showing a raw key to a user.
    """
    try:
        zh, en = MESSAGES[key]
    except KeyError:
        raise KeyError(f"no UI text for key {key!r}") from None
    text = en if Lang(lang) is Lang.EN else zh
    return text.format(**values) if values else text


def other_lang(lang: Lang) -> Lang:
    """The language a one-tap toggle switches to."""
    return Lang.EN if lang is Lang.ZH else Lang.ZH


def label_for(prefix: str, value: str, lang: Lang | str = DEFAULT_LANG) -> str:
    """The label of an enum-like ``value`` (``label_for("role", "inspector")`` → 巡查员),
    or ``value`` itself when there is no text for it (a newer server may send new values)."""
    key = f"{prefix}.{value}"
    return t(key, lang) if key in MESSAGES else value
