from __future__ import annotations

import re

import pytest

from fieldapp.i18n import MESSAGES, Lang, label_for, other_lang, t
from sync.vocabulary import Role

HAN = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _words(text: str) -> str:
    """``text`` without placeholders: what a user reads."""
    return PLACEHOLDER.sub("", text)


def test_every_key_has_a_chinese_and_an_english_form() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh.strip() and en.strip(), key
        if key.startswith("lang."):  # a language is named in itself
            continue
        if any(ch.isalpha() for ch in _words(zh)):  # not a bare template like "{a} · {b}"
            assert HAN.search(zh), f"{key}: zh form has no Chinese: {zh!r}"
        assert not HAN.search(en), f"{key}: en form contains Chinese: {en!r}"


def test_both_forms_take_the_same_placeholders() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en)), key


def test_chinese_is_the_default_and_english_is_switchable() -> None:
    assert t("login.submit") == "登录"
    assert t("login.submit", Lang.EN) == "Sign in"
    assert t("login.submit", "en") == "Sign in"


def test_placeholders_are_filled() -> None:
    assert t("home.welcome", Lang.ZH, name="张三") == "你好，张三"
    assert t("home.welcome", Lang.EN, name="Zhang") == "Hello, Zhang"


def test_unknown_key_fails_loudly_naming_the_key() -> None:
    with pytest.raises(KeyError, match=r"login\.sbumit"):
        t("login.sbumit")


def test_every_role_has_a_label() -> None:
    for role in Role:
        assert label_for("role", role.value, Lang.ZH) != role.value
        assert label_for("role", role.value, Lang.EN) != role.value


def test_a_value_without_a_label_is_shown_as_is() -> None:
    assert label_for("role", "auditor", Lang.ZH) == "auditor"


def test_toggle_alternates_between_the_two_languages() -> None:
    assert other_lang(Lang.ZH) is Lang.EN
    assert other_lang(Lang.EN) is Lang.ZH
