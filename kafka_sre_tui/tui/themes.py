"""Themes: the project's own from ``themes/*.toml`` plus Textual's built-ins.

The top-level ``themes/`` is where people edit them; ``kafka_sre_tui/themes`` links to it, so the
build puts them inside the installed package (package data) and they are found the same way from a
checkout, an editable install and a wheel."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable

from textual.theme import Theme

THEMES_DIR = files("kafka_sre_tui") / "themes"
_FIELDS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
           "warning", "error", "success", "dark")


def load_project_themes(folder: Traversable = THEMES_DIR) -> list[Theme]:
    themes = []
    for path in sorted((p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name):
        doc = tomllib.loads(path.read_text())
        themes.append(Theme(name=path.name.removesuffix(".toml"), **{k: doc[k] for k in _FIELDS if k in doc}))
    return themes
