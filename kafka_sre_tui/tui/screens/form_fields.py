"""What the job forms share (backup, restore, migrate, drain): one row per option with its label and
the CLI option it sets, and a one-line error under the row when its value is wrong.

Values are parsed by the CLI's own parsers (cli_args, the engine's request dataclasses and their
validation), so the dashboard accepts exactly what a runbook does. The engine's messages name the CLI
option (``--rate-limit must be > 0 MB/s``), which is how such an error finds the field it belongs to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Collapsible, Input, Label, Static

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import INT64_MAX

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Field:
    label: str
    flag: str  # the CLI option this field sets


class FieldError(ConfigError):
    """A value the form cannot use; ``field`` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def whole_number(text: str) -> int:
    """What argparse's ``type=int`` accepts, within Kafka's int64 (no offset, count or lag is larger;
    the engine checks each option's own range)."""
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"expected a whole number; got '{text}'") from None
    if abs(value) > INT64_MAX:
        raise ConfigError(f"expected a whole number up to {INT64_MAX}; got '{text}'")
    return value


def decimal(text: str) -> float:
    """What argparse's ``type=float`` accepts, but finite: NaN and infinity are never a setting."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"expected a number like 2.5; got '{text}'") from None
    if not math.isfinite(value):
        raise ConfigError(f"expected a finite number like 2.5; got '{text}'")
    return value


class JobForm(ModalScreen[R]):
    """A form whose fields mirror a CLI command's options. Subclasses give ``FIELDS``, ``body()``
    (the rows, built with ``text``/``check``) and ``build()`` (the engine request, validated)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#form-body *"  # the first field (the app's own AUTO_FOCUS names a table)
    PREFIX = "f"  # widget ids: PREFIX-name
    FIELDS: dict[str, Field] = {}
    SUBMIT = ("start", "Start")  # the primary button's id and label
    NOTIFIES = False  # the job can tell the [notify] webhooks how it ended (the CLI's --notify)

    def heading(self) -> str:
        raise NotImplementedError

    def on_mount(self) -> None:
        choose = getattr(self.app, "choose_notify", None)
        if choose is not None:  # a choice made in a form whose job never started does not carry over
            choose(False)

    def body(self) -> ComposeResult:
        raise NotImplementedError

    def build(self) -> R:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(id="form", classes="job-form"):
            yield Static(self.heading(), classes="form-title")
            with VerticalScroll(id="form-body", can_focus=False):  # Tab goes field to field; focus scrolls
                yield from self.body()
                if self.NOTIFIES and _has_webhooks(self.app):
                    yield Checkbox("Notify the \\[notify] webhooks [dim]--notify[/]", False, id="notify-job",
                                   compact=True, classes="field-check")
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button(self.SUBMIT[1], variant="primary", id=self.SUBMIT[0], compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    # -- rows ---------------------------------------------------------------------------------
    def wid(self, name: str) -> str:
        return f"{self.PREFIX}-{name.replace('_', '-')}"

    def text(self, name: str, value: str = "", placeholder: str = "") -> Iterator[Widget]:
        field = self.FIELDS[name]
        yield Horizontal(Label(f"{field.label} [dim]{field.flag}[/]", classes="field-label"),
                         Input(value, placeholder=placeholder, id=self.wid(name), compact=True), classes="field")
        yield Static("", id=f"{self.wid(name)}-error", classes="field-error")

    def check(self, name: str, value: bool = False) -> Iterator[Widget]:
        field = self.FIELDS[name]
        yield Checkbox(f"{field.label} [dim]{field.flag}[/]", value, id=self.wid(name), compact=True,
                       classes="field-check")

    @staticmethod
    def advanced(*rows: Iterator[Widget]) -> Collapsible:
        return Collapsible(*(w for row in rows for w in row), title="Advanced", id="advanced")

    # -- values -------------------------------------------------------------------------------
    def raw(self, name: str) -> str:
        return self.query_one(f"#{self.wid(name)}", Input).value.strip()

    def parse(self, name: str, parse: Callable[[str], T]) -> T | None:
        """The field parsed as the CLI parses its option; None when empty."""
        text = self.raw(name)
        if not text:
            return None
        try:
            return parse(text)
        except ConfigError as exc:
            raise FieldError(name, str(exc)) from None

    def whole(self, name: str) -> int | None:
        return self.parse(name, whole_number)

    def whole_or(self, name: str, default: int) -> int:
        value = self.whole(name)
        return default if value is None else value

    def number(self, name: str) -> float | None:
        return self.parse(name, decimal)

    def number_or(self, name: str, default: float) -> float:
        value = self.number(name)
        return default if value is None else value

    def checked(self, name: str) -> bool:
        return self.query_one(f"#{self.wid(name)}", Checkbox).value

    # -- submit -------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == self.SUBMIT[0]:
            self.submit()
        elif event.button.id == "cancel":
            self.dismiss(None)  # type: ignore[arg-type]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]

    def submit(self) -> None:
        for error in self.query(".field-error").results(Static):
            error.update("")
            error.remove_class("shown")
        self.query_one("#form-error", Static).update("")
        try:
            result = self.build()
        except FieldError as exc:
            self.show_error(exc.field, str(exc))
        except ConfigError as exc:  # the engine's validation: its message names the CLI option
            self.show_error(self.field_of(str(exc)), str(exc))
        else:
            chosen = self.query("#notify-job").results(Checkbox)
            choose = getattr(self.app, "choose_notify", None)
            if choose is not None:  # the job this form starts (after its checks) tells the webhooks, or not
                choose(any(box.value for box in chosen))
            self.dismiss(result)

    def field_of(self, message: str) -> str | None:
        by_flag = {f.flag: name for name, f in self.FIELDS.items()}
        return next((by_flag[flag] for flag in re.findall(r"--[a-z][a-z-]*", message) if flag in by_flag), None)

    def show_error(self, name: str | None, message: str) -> None:
        """Under its field, which gets the focus (Advanced opens when the field is in it); a checkbox's
        error, or one that concerns no field, above the buttons."""
        if name is None:
            self.query_one("#form-error", Static).update(Text(message, style="bold red"))
            return
        text = f"{self.FIELDS[name].label.strip()}: {message}"
        under = self.query(f"#{self.wid(name)}-error")
        spot = under.first(Static) if under else self.query_one("#form-error", Static)
        spot.update(Text(text, style="" if under else "bold red"))
        spot.add_class("shown")
        field = self.query_one(f"#{self.wid(name)}")
        for ancestor in field.ancestors:
            if isinstance(ancestor, Collapsible):
                ancestor.collapsed = False
        self.call_after_refresh(field.focus)
        self.call_after_refresh(spot.scroll_visible)


def _has_webhooks(app: object) -> bool:
    notify = getattr(getattr(app, "config", None), "notify", None)
    return bool(notify is not None and (notify.webhooks or notify.slack_webhooks))
