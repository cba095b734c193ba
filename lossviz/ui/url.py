"""Settings in the URL: open a link, see the same picture.

A page declares a schema of :class:`Field` objects whose keys are both its widget keys and its query
parameter names. On the first run of a session the query string is read, each value validated
(a tampered or invalid value falls back to the default with a notice naming it), and the widgets'
session state is seeded from it; after the widgets have run, :func:`write` puts the current settings
back into the URL.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from lossviz._validation import check_choice, check_int, check_scalar

MAX_VALUE_LENGTH = 500


@dataclass(frozen=True)
class Field:
    """One shareable setting: its key, default, a parser that raises ValueError, and a formatter.

    A ``lazy`` field is kept out of ``st.session_state`` until its widget is about to be drawn
    (:func:`restore`). A page with hundreds of possible settings (six optimizer slots, each with every
    optimizer's knobs) draws a few dozen; every widget Streamlit draws scans the whole session state, so
    seeding all of them cost about 40 ms per rerun.
    """

    key: str
    default: Any
    parse: Callable[[str], Any]
    dump: Callable[[Any], str] = str
    lazy: bool = False


def lazy(field: Field) -> Field:
    """The same field, restored only when its widget is drawn (:func:`restore`)."""
    return replace(field, lazy=True)


def float_field(key: str, default: float, low: float, high: float) -> Field:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{key} must be a number, got {text!r}") from None
        return check_scalar(value, key, low=low, high=high)

    return Field(key, default, parse, lambda v: repr(float(v)))


def int_field(key: str, default: int, low: int, high: int) -> Field:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{key} must be an integer, got {text!r}") from None
        return check_int(value, key, low=low, high=high)

    return Field(key, default, parse)


def choice_field(key: str, default: str, choices: Sequence[str]) -> Field:
    options = list(choices)
    return Field(key, default, lambda text: check_choice(text, key, options))


def bool_field(key: str, default: bool) -> Field:
    def parse(text: str) -> bool:
        if text not in ("0", "1"):
            raise ValueError(f"{key} must be 0 or 1, got {text!r}")
        return text == "1"

    return Field(key, default, parse, lambda v: "1" if v else "0")


def parse_query(query: Mapping[str, str], fields: Iterable[Field]) -> tuple[dict[str, Any], list[str]]:
    """Validate the query values of ``fields``; return (values, notices).

    A missing key takes its default silently; an invalid one takes its default and adds a notice that
    names the key, the value it had and why it was refused.
    """
    values: dict[str, Any] = {}
    notices: list[str] = []
    for field in fields:
        if field.key not in query:
            values[field.key] = field.default
            continue
        text = str(query[field.key])
        try:
            if len(text) > MAX_VALUE_LENGTH:
                raise ValueError(f"{field.key} is longer than {MAX_VALUE_LENGTH} characters")
            values[field.key] = field.parse(text)
        except (ValueError, TypeError) as exc:
            values[field.key] = field.default
            shown = text if len(text) <= 60 else text[:57] + "..."
            notices.append(f"Link setting {field.key}={shown!r} was ignored ({exc}); using {field.default!r}.")
    return values, notices


_PAGE = "_url_page"


def _memory(page: str) -> dict[str, Any]:
    return st.session_state.setdefault(f"_url_memory::{page}", {})


def seed_from_url(page: str, fields: Sequence[Field]) -> list[str]:
    """Seed widget state from the URL once per session and page; return notices to show.

    Later runs keep what the user set with the widgets; only a fresh session (a shared link opened)
    reads the URL again.
    """
    st.session_state[_PAGE] = page
    memory = _memory(page)
    flag = f"_url_seeded::{page}"
    if flag not in st.session_state:
        values, notices = parse_query(st.query_params.to_dict(), fields)
        for field in fields:
            memory[field.key] = values[field.key]
            if not field.lazy:
                st.session_state[field.key] = values[field.key]
        st.session_state[flag] = notices
    # Streamlit forgets a widget's value while the widget is not drawn (a hidden optimizer slot, the
    # formula box of a non-custom surface); drawn again it would start at its minimum (an lr of 0). Each
    # run remembers the values it finds and puts back the last one seen (or the default) where a key
    # went missing, so a slot hidden and shown again comes back as the user left it. Lazy fields are put
    # back by restore(), just before their widget is drawn.
    for field in fields:
        if field.key in st.session_state:
            memory[field.key] = st.session_state[field.key]
        elif not field.lazy:
            st.session_state[field.key] = memory.get(field.key, field.default)
        elif field.key not in memory:
            memory[field.key] = field.default
    return st.session_state[flag]


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


def write(fields: Sequence[Field]) -> None:
    """Put the current value of every field into the URL, so the address bar is always a share link."""
    current = {f.key: f.dump(st.session_state.get(f.key, f.default)) for f in fields}
    if current != st.query_params.to_dict():
        st.query_params.from_dict(current)
