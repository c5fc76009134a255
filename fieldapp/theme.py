"""Look and feel for outdoor phone use: big touch targets, large text, a CJK font.

The fonts (built by ``scripts/build_font.py``) are served from the app's assets; without them
Flutter's web client draws Chinese as boxes. Two files, so the first frame waits only for the
small one:
- ``NotoSansSC-Subset.otf``: GB2312 (6,763 hanzi) and every character the app's own texts use,
  registered before the first frame;
- ``NotoSansSC-Rest.woff2``: the rest of GB 18030's CJK Unified Ideographs (U+4E00–U+9FFF,
  with the rarer characters of people's names), registered just after the first frame and
  used as every text style's fallback family. See docs/flet.md "Chinese text".
"""

from __future__ import annotations

import asyncio

import flet as ft

FONT_FAMILY = "NotoSansSC"
FONT_ASSET = "fonts/NotoSansSC-Subset.otf"  # relative to assets/
REST_FONT_FAMILY = "NotoSansSC-Rest"
REST_FONT_ASSET = "fonts/NotoSansSC-Rest.woff2"
REST_FONT_DELAY_S = 0.3  # after the first frame has been sent
SEED_COLOR = "#1E5AA8"  # a calm government blue

TOUCH_TARGET = 56  # px: height of buttons and text fields (Material minimum is 48)
SPACING = 16
PAGE_PADDING = 20
TITLE_SIZE = 26
BODY_SIZE = 18
INPUT_TEXT_SIZE = 18


def text_style(**kwargs: object) -> ft.TextStyle:
    """A TextStyle in the CJK font. Flutter applies ``Theme.font_family`` only to styles that
    name no family, but a style set in the theme (text_theme, buttons) replaces the default
    one without inheriting the family: every such style must name the font itself, and its
    fallback (the rest of the hanzi), which Flutter takes only from the style."""
    return ft.TextStyle(
        font_family=FONT_FAMILY,
        font_family_fallback=[REST_FONT_FAMILY],
        **kwargs,  # type: ignore[arg-type]
    )


def _button_style() -> ft.ButtonStyle:
    return ft.ButtonStyle(
        padding=ft.Padding.symmetric(horizontal=24, vertical=16),
        text_style=text_style(size=BODY_SIZE, weight=ft.FontWeight.W_600),
        shape=ft.RoundedRectangleBorder(radius=12),
    )


def build_theme() -> ft.Theme:
    body = text_style(size=BODY_SIZE)
    return ft.Theme(
        color_scheme_seed=SEED_COLOR,
        font_family=FONT_FAMILY,
        use_material3=True,
        visual_density=ft.VisualDensity.STANDARD,  # not compact: gloved, hurried fingers
        text_theme=ft.TextTheme(  # every slot names the fonts (see text_style)
            display_large=text_style(),
            display_medium=text_style(),
            display_small=text_style(),
            headline_large=text_style(),
            headline_medium=text_style(),
            headline_small=text_style(),
            title_large=text_style(size=TITLE_SIZE, weight=ft.FontWeight.W_600),
            title_medium=text_style(),
            title_small=text_style(),
            body_large=body,
            body_medium=text_style(size=16),
            body_small=text_style(),
            label_large=text_style(size=BODY_SIZE, weight=ft.FontWeight.W_600),
            label_medium=text_style(),
            label_small=text_style(),
        ),
        button_theme=ft.ButtonTheme(style=_button_style()),
        filled_button_theme=ft.FilledButtonTheme(style=_button_style()),
        outlined_button_theme=ft.OutlinedButtonTheme(style=_button_style()),
        text_button_theme=ft.TextButtonTheme(style=_button_style()),
        navigation_bar_theme=ft.NavigationBarTheme(
            height=72,
            label_text_style=text_style(size=14, weight=ft.FontWeight.W_500),
        ),
        appbar_theme=ft.AppBarTheme(title_text_style=text_style(size=22)),
    )


def apply_theme(page: ft.Page) -> None:
    """Register the CJK font and set the light theme (readable in sunlight); the rest of the
    hanzi follow just after the first frame."""
    page.fonts = {FONT_FAMILY: FONT_ASSET}
    page.theme = build_theme()
    page.theme_mode = ft.ThemeMode.LIGHT
    page.run_task(_register_rest_font, page)


async def _register_rest_font(page: ft.Page) -> None:
    await asyncio.sleep(REST_FONT_DELAY_S)
    page.fonts = {FONT_FAMILY: FONT_ASSET, REST_FONT_FAMILY: REST_FONT_ASSET}
    page.update()


def field(
    label: str,
    *,
    value: str = "",
    password: bool = False,
    error: str | None = None,
    on_change: ft.ControlEventHandler[ft.TextField] | None = None,
    on_submit: ft.ControlEventHandler[ft.TextField] | None = None,
    keyboard_type: ft.KeyboardType = ft.KeyboardType.TEXT,
    icon: ft.IconData | None = None,
    multiline: bool = False,
) -> ft.TextField:
    """A full-width text field with a touch-sized box; ``multiline`` for long texts (理由,
    法律依据, 说明): it grows from 2 to 6 lines as the text does."""
    return ft.TextField(
        multiline=multiline,
        min_lines=2 if multiline else None,
        max_lines=6 if multiline else None,
        label=label,
        value=value,
        password=password,
        can_reveal_password=password,
        error=error,
        on_change=on_change,
        on_submit=on_submit,
        keyboard_type=keyboard_type,
        prefix_icon=icon,
        text_size=INPUT_TEXT_SIZE,
        content_padding=ft.Padding.symmetric(horizontal=16, vertical=18),
        border_radius=12,
        autocorrect=False,
        enable_suggestions=not password,
    )


def primary_button(
    text: str,
    *,
    on_click: ft.ControlEventHandler[ft.Button] | None = None,
    disabled: bool = False,
    icon: ft.IconData | None = None,
) -> ft.FilledButton:
    """The one main action of a screen: full width, touch-sized."""
    return ft.FilledButton(
        content=text,
        icon=icon,
        on_click=on_click,
        disabled=disabled,
        height=TOUCH_TARGET,
    )
