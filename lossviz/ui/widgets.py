"""Widgets drawn from the link's field declarations: the same label, range and choices as the link.

Each function takes a :class:`lossviz.ui.url.Field`, so a range is written once. A number typed outside
its range is not silently ignored (Streamlit's own min/max only paint the box red and keep the old value):
the value is brought back to the nearest end of the range, and a note next to the field says what was
typed, what is allowed and what is used.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from lossviz._validation import format_range
from lossviz.ui import text, url
from lossviz.ui.url import Field

__all__ = ["number", "slider", "select", "radio", "multiselect", "checkbox", "text_input", "range_note_key",
           "field_widget", "SLIDER_SPAN"]

# The widest range of whole numbers :func:`field_widget` draws as a slider (wider: a number box).
SLIDER_SPAN = 200


def range_note_key(key: str) -> str:
    """Where the note about an out-of-range value of widget ``key`` waits for the next run."""
    return f"_range_note::{key}"


def _bring_into_range(field: Field, integer: bool) -> None:
    value = st.session_state.get(field.key)
    low, high = field.low, field.high
    if value is None:
        st.session_state[field.key] = field.default
        st.session_state[range_note_key(field.key)] = (
            f"{field.title} was left empty: using {url.show_value(field.default)}.")
        return
    if (low is not None and value < low) or (high is not None and value > high):
        used = min(max(value, low if low is not None else value), high if high is not None else value)
        used = int(used) if integer else float(used)
        st.session_state[field.key] = used
        st.session_state[range_note_key(field.key)] = (
            f"{field.title} = {value:g} is outside the allowed range {format_range(low, high)}: "
            f"using {used:g}.")


def number(field: Field, container=None, *, step: float | None = None, format: str | None = None,
           help: str | None = None, disabled: bool = False, label: str | None = None, notes=None) -> Any:
    """A number box for ``field``; out-of-range input is brought into range with a note below the box, or
    in ``notes`` (a box in a narrow column: the note there was a word a line)."""
    where = container or st
    url.restore(field.key)
    integer = isinstance(field.default, int) and not isinstance(field.default, bool)
    value = where.number_input(
        label or field.title, step=step if step is not None else (1 if integer else None),
        format=format or ("%d" if integer else "%.4g"), key=field.key, help=help, disabled=disabled,
        on_change=_bring_into_range, args=(field, integer))
    note = st.session_state.pop(range_note_key(field.key), None)
    if note:
        text.notice(note, "warning", notes or where)
    return value


def slider(field: Field, container=None, *, step: float | None = None, format: str | None = None,
           help: str | None = None, disabled: bool = False, label: str | None = None) -> Any:
    """A slider over the field's range."""
    url.restore(field.key)
    return (container or st).slider(label or field.title, field.low, field.high, step=step, format=format,
                                    key=field.key, help=help, disabled=disabled)


def select(field: Field, container=None, *, format_func: Callable[[Any], str] = str, help: str | None = None,
           on_change: Callable | None = None, args: tuple = (), disabled: bool = False,
           label: str | None = None, options: Any = None) -> Any:
    """A select box over the field's choices (or ``options``, a subset valid here)."""
    url.restore(field.key)
    return (container or st).selectbox(label or field.title,
                                       options if options is not None else field.choices,
                                       key=field.key, format_func=format_func, help=help, on_change=on_change,
                                       args=args, disabled=disabled)


def radio(field: Field, container=None, *, format_func: Callable[[Any], str] = str, horizontal: bool = True,
          help: str | None = None, disabled: bool = False, label: str | None = None) -> Any:
    """Radio buttons over the field's choices."""
    url.restore(field.key)
    return (container or st).radio(label or field.title, field.choices, key=field.key,
                                   format_func=format_func, horizontal=horizontal, help=help,
                                   disabled=disabled)


def multiselect(field: Field, container=None, *, format_func: Callable[[Any], str] = str,
                help: str | None = None, label: str | None = None) -> list:
    """A multiselect over the field's choices, limited to its ``max_items``."""
    url.restore(field.key)
    return (container or st).multiselect(label or field.title, field.choices, key=field.key,
                                         max_selections=field.max_items, format_func=format_func, help=help)


def checkbox(field: Field, container=None, *, help: str | None = None, label: str | None = None) -> bool:
    """A checkbox for an on/off field."""
    url.restore(field.key)
    return (container or st).checkbox(label or field.title, key=field.key, help=help)


_TOO_LONG = "_lv_text_too_long"


def _last_text(key: str) -> str:
    return f"_lv_last_text_{key}"


def _refuse_long_text(field: Field) -> None:
    # Before the run (a widget's callback may set its value): text past the limit is put back to the last
    # text the box held, and the run says why.
    value = st.session_state.get(field.key, "")
    if field.max_length is not None and len(value) > field.max_length:
        st.session_state[_TOO_LONG] = (field.key, len(value))
        st.session_state[field.key] = st.session_state.get(_last_text(field.key), field.default)


def text_input(field: Field, container=None, *, help: str | None = None, label: str | None = None,
               placeholder: str | None = None) -> str:
    """A one-line text box of at most the field's length.

    A longer text (a paste) is refused with a message naming the box and its limit, and the box keeps the
    last text it held. (Streamlit's own ``max_chars`` drops such a paste without a word.)
    """
    url.restore(field.key)
    where = container or st
    value = where.text_input(label or field.title, key=field.key, help=help, placeholder=placeholder,
                             on_change=_refuse_long_text, args=(field,))
    refused = st.session_state.get(_TOO_LONG)
    if refused and refused[0] == field.key:
        del st.session_state[_TOO_LONG]
        text.notice(f"{label or field.title}: the text given has {refused[1]:,} characters; at most "
                    f"{field.max_length:,} are allowed, so the last text is kept.", "error", where)
    st.session_state[_last_text(field.key)] = value
    return value


def field_widget(field: Field, container=None, *, step: float | None = None, **options: Any) -> Any:
    """The widget a field's kind suggests: a select box for choices (or when given ``options``, the values
    valid here), a checkbox for on/off, a slider for a number given a ``step`` or a whole number of at most
    :data:`SLIDER_SPAN` values, else a number box.

    ``options`` go to that widget (``help``, ``disabled``, ``format_func``, ...).
    """
    if field.choices or "options" in options:
        return select(field, container, **options)
    if isinstance(field.default, bool):
        return checkbox(field, container, **options)
    if step is not None or (isinstance(field.default, int) and field.high - field.low <= SLIDER_SPAN):
        return slider(field, container, step=step, **options)
    return number(field, container, **options)
