"""Themes: the project's own from ``themes/*.toml`` (top of the repository) plus Textual's built-ins."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.theme import Theme

THEMES_DIR = Path(__file__).resolve().parents[2] / "themes"
_FIELDS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
           "warning", "error", "success", "dark")


def load_project_themes(folder: Path = THEMES_DIR) -> list[Theme]:
    themes = []
    for path in sorted(folder.glob("*.toml")):
        doc = tomllib.loads(path.read_text())
        themes.append(Theme(name=path.stem, **{k: doc[k] for k in _FIELDS if k in doc}))
    return themes
