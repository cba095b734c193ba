"""Settings in the link: open a link, see the same picture.

A page declares its shareable settings once, as typed :class:`Field` objects: the key (both the widget's
key and the query parameter), the label the user sees, the default, and the allowed values (a range, a
list of choices, a length). The same declaration parses a link's value, draws the widget with the same
range (:mod:`lossviz.ui.widgets`) and writes the value back into the address bar, so a link can never
hold what the widget refuses, nor the widget what the link refuses (TensorFlow Playground's ``state.ts``
is the model: one table, one parser).

On the first run of a session the query string is read and each value validated; a value that is
refused falls back to the default with a notice naming the setting as the user sees it (its label), the
value shown literally (:mod:`lossviz.ui.text`), and what is allowed. After the widgets have run,
:func:`write` puts the current settings back into the URL.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from lossviz._validation import format_range
from lossviz.ui.text import quote

__all__ = [
    "Field", "lazy", "float_field", "int_field", "choice_field", "bool_field", "text_field", "list_field",
    "parse_query", "seed_from_url", "restore", "apply_values", "current", "write", "labels_of", "show_value",
    "MAX_VALUE_LENGTH", "from_link", "refuse_link_value",
]

MAX_VALUE_LENGTH = 500


@dataclass(frozen=True)
class Field:
    """One shareable setting.

    ``parse(text)`` returns the value or raises ValueError whose message completes "it ..." (e.g. "must
    be a number in [0, 10]"). ``low``/``high`` (numbers), ``choices`` (choice and list fields) and
    ``max_items``/``max_length`` are the same limits the widget is drawn with.

    A ``lazy`` field is kept out of ``st.session_state`` until its widget is about to be drawn
    (:func:`restore`). A page with hundreds of possible settings (six optimizer slots, each with every
    optimizer's knobs) draws a few dozen; every widget Streamlit draws scans the whole session state.
    """

    key: str
    default: Any
    parse: Callable[[str], Any]
    dump: Callable[[Any], str] = str
    lazy: bool = False
    label: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    max_items: int | None = None
    max_length: int | None = None

    @property
    def title(self) -> str:
        """What the user sees: the label, or the key for a field without one."""
        return self.label or self.key


def lazy(field: Field) -> Field:
    """The same field, restored only when its widget is drawn (:func:`restore`)."""
    return replace(field, lazy=True)


def show_value(value: Any) -> str:
    """A setting's value as a message prints it: numbers with %g, lists joined by commas."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(show_value(v) for v in value) or "none"
    return str(value)


def _number(text: str, allowed: str) -> float:
    """``text`` as a finite number; else a ValueError saying what is ``allowed`` ("a number in [1, 10]")."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"must be {allowed}") from None
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number: {allowed}")
    return value


def float_field(key: str, default: float, low: float, high: float, label: str = "") -> Field:
    """A number in ``[low, high]``."""
    allowed = f"a number in {format_range(low, high)}"

    def parse(text: str) -> float:
        value = _number(text, allowed)
        if not low <= value <= high:
            raise ValueError(f"must be {allowed}")
        return value

    return Field(key, default, parse, lambda v: repr(float(v)), label=label, low=low, high=high)


def int_field(key: str, default: int, low: int, high: int, label: str = "") -> Field:
    """A whole number in ``[low, high]``."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"must be a whole number in {format_range(low, high)}") from None
        if not low <= value <= high:
            raise ValueError(f"must be a whole number in {format_range(low, high)}")
        return value

    return Field(key, default, parse, label=label, low=low, high=high)


def _listing(choices: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(map(str, choices[:limit]))
    return shown + (f" and {len(choices) - limit} more" if len(choices) > limit else "")


def choice_field(key: str, default: str, choices: Sequence[str], label: str = "") -> Field:
    """One of ``choices``."""
    options = tuple(choices)

    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"must be one of {_listing(options)}")
        return text

    return Field(key, default, parse, label=label, choices=options)


_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def bool_field(key: str, default: bool, label: str = "") -> Field:
    """On or off, written 1 or 0; a link may also say true/false, yes/no or on/off (any case), as a
    teacher typing ``?present=true`` into the address bar would."""
    def parse(text: str) -> bool:
        word = text.strip().lower()
        if word not in _ON + _OFF:
            raise ValueError("must be 1 or 0 (or true/false, yes/no, on/off)")
        return word in _ON

    return Field(key, default, parse, lambda v: "1" if v else "0", label=label)


def text_field(key: str, default: str, max_length: int, label: str = "") -> Field:
    """Free text of at most ``max_length`` characters (a formula, a list of numbers)."""
    def parse(text: str) -> str:
        if len(text) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return text

    return Field(key, default, parse, label=label, max_length=max_length)


def list_field(key: str, default: Sequence, choices: Sequence, label: str = "", *,
               max_items: int | None = None, min_items: int = 0,
               convert: Callable[[str], Any] = str) -> Field:
    """Several of ``choices`` (each at most once, in the order given), written comma-separated.

    ``convert`` turns each comma-separated item into a choice (``int`` for batch sizes); the count is
    checked as well as membership, since a widget refuses more than ``max_items``.
    """
    options = tuple(choices)
    most = len(options) if max_items is None else max_items

    def parse(text: str) -> list:
        try:
            items = [convert(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError:
            items = [None]
        if any(item not in options for item in items):
            raise ValueError(f"must list some of {_listing([str(o) for o in options])}, separated by commas")
        items = list(dict.fromkeys(items))
        if not min_items <= len(items) <= most:
            raise ValueError(f"must list {min_items} to {most} of them, not {len(items)}"
                             if min_items else f"must list at most {most} of them, not {len(items)}")
        return items

    return Field(key, list(default), parse, lambda v: ",".join(map(str, v)), label=label, choices=options,
                 max_items=most)


def parse_query(query: Mapping[str, str], fields: Iterable[Field],
                defaults: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Validate the query values of ``fields``; return (values, notices).

    A missing key takes its default (from ``defaults`` when given, else the field's) silently; a refused
    one takes it too and adds a notice naming the setting by its label, the value (quoted literally,
    shortened) and what is allowed.
    """
    values: dict[str, Any] = {}
    notices: list[str] = []
    for field in fields:
        default = (defaults or {}).get(field.key, field.default)
        if field.key not in query:
            values[field.key] = default
            continue
        text = str(query[field.key])
        try:
            if len(text) > MAX_VALUE_LENGTH:
                raise ValueError(f"is longer than {MAX_VALUE_LENGTH} characters")
            values[field.key] = field.parse(text)
        except (ValueError, TypeError) as exc:
            values[field.key] = default
            reason = str(exc)
            reason = reason if reason.startswith(("must", "is ")) else f"is not allowed ({reason})"
            notices.append(f"The link's setting “{field.title}” = {quote(text, 60)} was ignored: "
                           f"it {reason}. Using {show_value(default)}.")
    return values, notices


_PAGE = "_url_page"


def _memory(page: str) -> dict[str, Any]:
    return st.session_state.setdefault(f"_url_memory::{page}", {})


def seed_from_url(page: str, fields: Sequence[Field], defaults: Mapping[str, Any] | None = None) -> list[str]:
    """Seed widget state from the URL once per session and page; return the notices to show.

    ``defaults`` (a page's default scenario) fills what the link leaves out, so a link with only some
    settings shows the page's own picture around them. Later runs keep what the user set with the
    widgets; only a fresh session (a shared link opened) reads the URL again.
    """
    st.session_state[_PAGE] = page
    memory = _memory(page)
    flag = f"_url_seeded::{page}"
    if flag not in st.session_state:
        query = st.query_params.to_dict()
        values, notices = parse_query(query, fields, defaults)
        for field in fields:
            memory[field.key] = values[field.key]
            if not field.lazy:
                st.session_state[field.key] = values[field.key]
        st.session_state[flag] = notices
        st.session_state[f"_url_given::{page}"] = {
            f.key: values[f.key] for f in fields if f.key in query and _accepts(f, str(query[f.key]))}
    # Streamlit forgets a widget's value while the widget is not drawn (a hidden optimizer slot, the
    # formula box of a non-custom surface); drawn again it would start at its minimum (an lr of 0). Each
    # run remembers the values it finds and puts back the last one seen (or the default) where a key
    # went missing, so a slot hidden and shown again comes back as the user left it. Lazy fields are put
    # back by restore(), just before their widget is drawn.
    # One snapshot of the state instead of a lookup per field: each `key in st.session_state` goes through
    # Streamlit's whole widget-state path (about 5 us; the Explorer's four optimizer slots have some 850
    # lazy fields, most of them not drawn). A field that is not lazy and missing from the snapshot is
    # asked again the usual way before it is put back.
    present = st.session_state.to_dict()
    for field in fields:
        if field.key in present:
            memory[field.key] = present[field.key]
        elif not field.lazy and field.key in st.session_state:
            memory[field.key] = st.session_state[field.key]
        elif not field.lazy:
            st.session_state[field.key] = memory.get(field.key,
                                                     (defaults or {}).get(field.key, field.default))
        elif field.key not in memory:
            memory[field.key] = (defaults or {}).get(field.key, field.default)
    return st.session_state[flag]


def _accepts(field: Field, text: str) -> bool:
    try:
        field.parse(text)
    except (ValueError, TypeError):
        return False
    return len(text) <= MAX_VALUE_LENGTH


def from_link(key: str) -> bool:
    """True while setting ``key`` holds the value the opened link gave it: the link's author chose it.

    False for a value the link did not set (a default, a scenario's) or that has changed since.
    """
    given = st.session_state.get(f"_url_given::{st.session_state.get(_PAGE, '')}", {})
    return key in given and current(key) == given[key]


def refuse_link_value(field: Field, reason: str, used: Any) -> str:
    """The notice for a link's value of ``field`` that parses but does not fit the rest of the page (a
    feature the chosen dataset does not have): worded like a refused link value, kept with the link's
    notices for the rest of the session (the page shows them at the top), and returned to show now.

    ``reason`` completes "it ..." ("is not a feature of this dataset"); ``used`` is the value used instead.
    """
    given = quote(show_value(current(field.key, field.default)), 60)
    message = (f"The link's setting “{field.title}” = {given} was ignored: it {reason}. "
               f"Using {quote(show_value(used), 60)}.")
    notices = st.session_state.setdefault(f"_url_seeded::{st.session_state.get(_PAGE, '')}", [])
    if message not in notices:
        notices.append(message)
    return message


def restore(key: str) -> None:
    """Put a lazy field's remembered value back into session state; call it just before its widget."""
    if key not in st.session_state:
        memory = _memory(st.session_state.get(_PAGE, ""))
        if key in memory:
            st.session_state[key] = memory[key]


def apply_values(values: Mapping[str, Any]) -> None:
    """Set widget state from a preset (a classroom scenario), before the widgets are drawn.

    A lazy field's value goes to the page's memory (and to session state only if its widget is there
    already), so a preset does not fill session state with settings no widget shows.
    """
    memory = _memory(st.session_state.get(_PAGE, ""))
    for key, value in values.items():
        if key in memory:
            memory[key] = value
        if key in st.session_state or key not in memory:
            st.session_state[key] = value


def current(key: str, default: Any = None) -> Any:
    """A setting's current value: its widget's state, else the page's memory of it."""
    if key in st.session_state:
        return st.session_state[key]
    return _memory(st.session_state.get(_PAGE, "")).get(key, default)


def labels_of(keys: Iterable[str], fields: Sequence[Field]) -> list[str]:
    """The labels of ``keys`` as the user sees them (unknown keys are left out)."""
    by_key = {f.key: f.title for f in fields}
    return [by_key[k] for k in keys if k in by_key]


def write(fields: Sequence[Field]) -> None:
    """Put the current value of every field into the URL, so the address bar is always a share link."""
    current_values = {f.key: f.dump(current(f.key, f.default)) for f in fields}
    if current_values != st.query_params.to_dict():
        st.query_params.from_dict(current_values)
