"""The Textual dashboard: a thin face over the engine."""
