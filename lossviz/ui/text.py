"""User text on the screen: always literal, never Markdown or HTML, and never longer than a glance.

Link values, formulas, file names, column names and cells come from strangers. Streamlit's alerts,
captions and Markdown interpret what they are given (links, images, emphasis, ``:colour[...]``, LaTeX),
so every message that may hold such text goes through this module instead:

- :func:`notice` draws an alert box (warning, error, info, success) whose text is HTML-escaped into an
  element that displays it as it is: a link stays the characters of a link, an image is never fetched;
- :func:`literal` does the same for a plain line of text (a caption);
- :func:`shorten` cuts text to a sane length with an ellipsis and makes line breaks and other control
  characters visible, so no message carries kilobytes of someone's text;
- :func:`quote` is a shortened value in quotation marks, for composing a message in plain text;
- :func:`plotly_label` is text for a figure title, axis title or legend entry, escaped for Plotly's
  HTML subset (``<a href>``, ``<b>``, ``<br>`` are shown, not obeyed).

Nothing here takes Markdown: a message is plain text from start to end, and shows exactly the
characters it holds.
"""
from __future__ import annotations

import html
import unicodedata

import streamlit as st

__all__ = ["LIMIT", "shorten", "quote", "notice", "literal", "plotly_label", "KINDS"]

# The most characters of one user value a message quotes.
LIMIT = 80

# Colours of Streamlit's own light-theme alerts, so a literal notice looks like st.warning and friends.
KINDS = {
    "warning": ("rgba(255, 227, 18, 0.1)", "rgb(146, 108, 5)", "⚠"),
    "error": ("rgba(255, 43, 43, 0.09)", "rgb(125, 53, 59)", "✕"),
    "info": ("rgba(28, 131, 225, 0.1)", "rgb(0, 66, 128)", "ℹ"),
    "success": ("rgba(33, 195, 84, 0.1)", "rgb(23, 114, 51)", "✓"),
}

_VISIBLE = {"\n": "⏎", "\r": "⏎", "\t": "⇥"}


def shorten(text: object, limit: int = LIMIT) -> str:
    """``text`` as a string of at most ``limit`` characters (an ellipsis marks a cut), on one line.

    Line breaks and tabs become visible symbols (⏎, ⇥); other control and format characters (which
    could hide text or reorder it) become the replacement character.

    >>> shorten("weight\\nimport os")
    'weight⏎import os'
    >>> shorten("x" * 100, limit=10)
    'xxxxxxxxx…'
    """
    raw = str(text)
    if len(raw) > 4 * limit:  # never walk megabytes of someone's cell character by character
        raw = raw[: 4 * limit]
    out = []
    for char in raw:
        if char in _VISIBLE:
            out.append(_VISIBLE[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            out.append("\ufffd")
        else:
            out.append(char)
    cleaned = "".join(out)
    if len(cleaned) > limit or len(str(text)) > len(raw):
        cleaned = cleaned[: max(limit - 1, 0)] + "…"
    return cleaned


def quote(value: object, limit: int = LIMIT) -> str:
    """A user value in quotation marks for a plain-text message: ``“value”``, shortened.

    >>> quote("[log in](http://evil.example)")
    '“[log in](http://evil.example)”'
    """
    return f"“{shorten(value, limit)}”"


def _box(text: str, kind: str) -> str:
    background, color, icon = KINDS[kind]
    body = html.escape(text, quote=True)
    return (
        f'<div data-lv-notice="{kind}" role="{"alert" if kind in ("warning", "error") else "status"}" '
        f'style="background:{background};color:{color};border-radius:0.5rem;padding:0.75rem 1rem;'
        f'margin:0 0 0.5rem 0;white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.5;">'
        f'<span aria-hidden="true">{icon}&nbsp; </span>{body}</div>'
    )


def notice(text: str, kind: str = "warning", container=None) -> None:
    """An alert box showing ``text`` literally (``kind``: warning, error, info or success).

    The whole text is escaped: compose it from trusted words and :func:`quote` d user values, never
    from Markdown.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    (container or st).html(_box(str(text), kind))


def literal(text: str, container=None, muted: bool = True) -> None:
    """A line of literal text (muted like a caption, or body coloured)."""
    color = "rgba(49, 51, 63, 0.6)" if muted else "inherit"
    size = "0.875rem" if muted else "1rem"
    body = html.escape(str(text), quote=True)
    (container or st).html(
        f'<p data-lv-literal="1" style="color:{color};font-size:{size};margin:0 0 0.5rem 0;'
        f'white-space:pre-wrap;overflow-wrap:anywhere;">{body}</p>'
    )


def plotly_label(text: object, limit: int = 60) -> str:
    """``text`` for a Plotly title, axis title, hover text or legend entry: shortened and escaped.

    Plotly renders a subset of HTML in its labels (``<a href>``, ``<b>``, ``<br>``, ``<sub>``); escaped,
    they show as typed. Quotation marks stay as they are: without ``<`` no tag can start, and Plotly
    would show ``&quot;`` as those six characters (it decodes ``&lt;``, ``&gt;`` and ``&amp;`` only).

    >>> plotly_label('<a href="http://x">click</a>')
    '&lt;a href="http://x"&gt;click&lt;/a&gt;'
    """
    return html.escape(shorten(text, limit), quote=False)
