"""A classroom clicks everything and types anything: every widget of every page, random and extreme values.

Each page that exists (lossviz.ui.catalog) runs headless in AppTest. Its widgets are read from the page
itself after each run (sliders, number inputs, select boxes, multiselects, radios, select sliders,
checkboxes, toggles, text inputs and areas, buttons, file uploaders), so a widget added tomorrow is
covered without editing this file. Values always stay within the widget's own range, as a browser user
could set them. After every run: no exception reaches the page, and a page that draws no figure says why
(st.error / st.warning / st.info), so a refused input is never a blank page.

Hypothesis drives the random part with a small default budget so ``make test`` stays quick; a longer run:

    LOSSVIZ_ROBUSTNESS_EXAMPLES=200 .venv/bin/pytest tests/test_robustness.py -p no:warnings

(add LOSSVIZ_SHRINK=1 to have hypothesis shrink a failure to its fewest settings; slow with AppTest).
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
import streamlit
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as hs
from streamlit.elements.widgets import multiselect, radio, select_slider, selectbox
from streamlit.testing.v1 import AppTest

from lossviz.ui.catalog import PAGES, ROOT
from tests.pagetest import figures, warnings

EXISTING = [page for page in PAGES if page.exists]
EXAMPLES = int(os.environ.get("LOSSVIZ_ROBUSTNESS_EXAMPLES", "10"))
# Shrinking replays a failing case dozens of times (minutes of AppTest runs); the failure message already
# lists every widget value that was set, so shrink only when asked.
SHRINK = [Phase.shrink] if os.environ.get("LOSSVIZ_SHRINK") else []
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, *SHRINK]
ROUNDS = 2  # a second round reaches widgets that the first round's choices reveal
UNBOUNDED = 1e12  # what a student can type into a number input that has no limits
TIMEOUT = 180

# AppTest shows option labels after format_func; the pages' raw option values are recorded here, per
# widget key, by wrapping the option widgets for the duration of this module.
OPTIONS: dict[str, list[Any]] = {}


def _recording(original: Callable) -> Callable:
    def widget(self, label, options=(), *args, **kwargs):
        options = list(options)
        if kwargs.get("key") is not None:
            OPTIONS[kwargs["key"]] = options
        return original(self, label, options, *args, **kwargs)

    return widget


@pytest.fixture(scope="module", autouse=True)
def record_options():
    with pytest.MonkeyPatch.context() as patch:
        for mixin, name in ((selectbox.SelectboxMixin, "selectbox"), (radio.RadioMixin, "radio"),
                            (multiselect.MultiSelectMixin, "multiselect"),
                            (select_slider.SelectSliderMixin, "select_slider")):
            patch.setattr(mixin, name, _recording(getattr(mixin, name)))
            # st.selectbox is the main container's method bound at import: rebind it to the recorder.
            patch.setattr(streamlit, name, getattr(streamlit._main, name))
        yield


def fresh(page, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / page.path), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def widgets(at: AppTest) -> list:
    """Every enabled widget a user can change on the page as it is drawn now."""
    found = []
    for kind in ("slider", "number_input", "selectbox", "multiselect", "radio", "select_slider", "checkbox",
                 "toggle", "text_input", "text_area", "file_uploader", "button"):
        found += [w for w in getattr(at, kind) if not getattr(w.proto, "disabled", False)]
    return found


def name(widget) -> str:
    return f"{widget.type}[{widget.key or widget.label}]"


def check(at: AppTest, actions: list[str]) -> None:
    assert not at.exception, f"{[e.value for e in at.exception]} after {actions}"
    if not figures(at):
        explained = [*at.error, *at.warning, *at.info]
        assert explained, f"no figure and no message saying why, after {actions}"


# ---------------------------------------------------------------------------------------------------------
# Values a browser user can give each widget


def _on_step(value: float, low: float, step: float) -> float:
    return low + round((value - low) / step) * step if step else value


def _slider_value(widget, draw) -> Any:
    low, high = widget.min, widget.max
    integer = isinstance(widget.value if not isinstance(widget.value, list | tuple) else widget.value[0], int)
    if integer:
        values = hs.one_of(hs.sampled_from([low, high]), hs.integers(low, high))
        snap = lambda v: int(min(max(_on_step(v, low, widget.step or 1), low), high))  # noqa: E731
    else:
        values = hs.one_of(hs.sampled_from([low, high]), hs.floats(low, high))
        snap = lambda v: float(min(max(_on_step(v, low, widget.step), low), high))  # noqa: E731
    if isinstance(widget.value, list | tuple):
        return sorted([snap(draw(values)), snap(draw(values))])
    return snap(draw(values))


def _number_value(widget, draw) -> Any:
    low = -UNBOUNDED if widget.min is None else widget.min
    high = UNBOUNDED if widget.max is None else widget.max
    if isinstance(widget.value, int) or widget.proto.data_type == widget.proto.DataType.INT:
        return draw(hs.one_of(hs.sampled_from([int(low), int(high)]), hs.integers(int(low), int(high))))
    return draw(hs.one_of(hs.sampled_from([float(low), float(high), 0.0]), hs.floats(low, high)))


def _options(widget) -> list[Any]:
    return OPTIONS.get(widget.key) or list(widget.options)


NUMBER_TEXT = hs.lists(hs.one_of(hs.floats(allow_nan=True, allow_infinity=True), hs.integers(-10**6, 10**6)),
                       max_size=12).map(lambda xs: ", ".join(map(str, xs)))
ODD_TEXT = hs.sampled_from(["", " ", "nan", "inf", "-1e308", "1e309", "((((((", "x" * 40, "1,,2",
                           "é∑∂ƒ", "\n\t"])
CSV_BYTES = hs.one_of(
    hs.binary(max_size=400),
    hs.lists(hs.lists(hs.one_of(hs.floats(allow_nan=True), hs.text(max_size=6)), min_size=1, max_size=4),
             max_size=30).map(lambda rows: "\n".join(",".join(map(str, r)) for r in rows).encode()),
)


def random_action(widget, draw) -> tuple[str, Callable[[], Any]] | None:
    """(description, apply) for one random value of ``widget``, or None to leave it alone."""
    kind = widget.type
    if kind == "slider":
        value = _slider_value(widget, draw)
    elif kind == "number_input":
        value = _number_value(widget, draw)
    elif kind in ("selectbox", "radio"):
        value = draw(hs.sampled_from(_options(widget))) if _options(widget) else None
    elif kind == "select_slider":
        options = _options(widget)
        value = draw(hs.sampled_from(options))
        if isinstance(widget.value, list | tuple):
            value = sorted([options.index(value), options.index(draw(hs.sampled_from(options)))])
            value = [options[value[0]], options[value[1]]]
    elif kind == "multiselect":
        limit = widget.max_selections or None
        options = _options(widget)
        value = draw(hs.lists(hs.sampled_from(options), unique=True, max_size=limit)) if options else []
    elif kind in ("checkbox", "toggle"):
        value = draw(hs.booleans())
    elif kind in ("text_input", "text_area"):
        limit = widget.max_chars or 600  # past every text field's limit: a refusal must not break a page
        value = draw(hs.one_of(hs.text(max_size=limit), NUMBER_TEXT, ODD_TEXT).map(lambda t: t[:limit]))
    elif kind == "file_uploader":
        content = draw(CSV_BYTES)
        return f"upload {len(content)} bytes", lambda: widget.set_value(("upload.csv", content, "text/csv"))
    elif kind == "button":
        return (f"click {widget.label!r}", widget.click) if draw(hs.booleans()) else None
    else:
        return None
    return f"{name(widget)}={value!r}", lambda: widget.set_value(value)


@pytest.mark.parametrize("page", EXISTING, ids=lambda p: p.url_path)
@settings(max_examples=EXAMPLES, deadline=None, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=hs.data())
def test_random_values_in_every_widget_never_break_a_page(page, data):
    at = fresh(page)
    actions: list[str] = ["(defaults)"]
    check(at, actions)
    for _ in range(ROUNDS):
        for widget in widgets(at):
            if not data.draw(hs.booleans(), label=f"touch {name(widget)}"):
                continue
            action = random_action(widget, data.draw)
            if action is not None:
                actions.append(action[0])
                action[1]()
        at.run()
        check(at, actions)


# ---------------------------------------------------------------------------------------------------------
# Extremes: every widget at one end of its range, then the settings a teacher is warned about


def extreme_action(widget, end: str) -> tuple[str, Callable[[], Any]] | None:
    high = end == "max"
    kind = widget.type
    if kind == "slider":
        value = widget.max if high else widget.min
        value = [widget.min, widget.max] if isinstance(widget.value, list | tuple) and high else value
    elif kind == "number_input":
        bound = widget.max if high else widget.min
        value = bound if bound is not None else (UNBOUNDED if high else -UNBOUNDED)
        value = int(value) if widget.proto.data_type == widget.proto.DataType.INT else float(value)
    elif kind in ("selectbox", "radio", "select_slider"):
        options = _options(widget)
        if not options:
            return None
        value = options[-1] if high else options[0]
        if kind == "select_slider" and isinstance(widget.value, list | tuple):
            value = [options[0], options[-1]] if high else [options[0], options[0]]
    elif kind == "multiselect":
        options = _options(widget)
        value = options[: widget.max_selections or len(options)] if high else []
    elif kind in ("checkbox", "toggle"):
        value = high
    elif kind in ("text_input", "text_area"):
        limit = widget.max_chars or 300
        value = ("9" * limit) if high else ""
    else:
        return None
    return f"{name(widget)}={value!r}", lambda: widget.set_value(value)


@pytest.mark.parametrize("end", ["min", "max"])
@pytest.mark.parametrize("page", EXISTING, ids=lambda p: p.url_path)
def test_every_widget_at_one_end_of_its_range(page, end):
    at = fresh(page)
    actions = [f"every widget at its {end}"]
    for _ in range(ROUNDS):
        for widget in widgets(at):
            action = extreme_action(widget, end)
            if action is not None:
                actions.append(action[0])
                action[1]()
        at.run()
        check(at, actions)


# A label or key naming the setting -> the extreme the issue asks for (clipped to the widget's range).
CLASSROOM_EXTREMES = [
    (re.compile(r"(^|_)lr$|learning rate", re.I), 10.0),
    (re.compile(r"momentum", re.I), 0.999),
    (re.compile(r"(^|_)steps$|^steps", re.I), 10_000),
    (re.compile(r"resolution|cells|grid|side", re.I), math.inf),
]


def _classroom_value(widget) -> Any | None:
    for pattern, target in CLASSROOM_EXTREMES:
        if pattern.search(widget.key or "") or pattern.search(widget.label or ""):
            if widget.type == "select_slider":
                options = _options(widget)
                return options[-1] if target == math.inf else None
            if widget.type in ("slider", "number_input") and not isinstance(widget.value, list | tuple):
                high = math.inf if widget.max is None else widget.max
                low = -math.inf if widget.min is None else widget.min
                value = min(max(target, low), high)
                if math.isinf(value):
                    return None
                return int(value) if isinstance(widget.value, int) else float(value)
    return None


@pytest.mark.parametrize("page", EXISTING, ids=lambda p: p.url_path)
def test_classroom_extremes_lr_10_momentum_0999_most_steps_finest_grid(page):
    at = fresh(page)
    actions = ["lr 10, momentum 0.999, most steps, finest grid"]
    for _ in range(ROUNDS):
        for widget in widgets(at):
            value = _classroom_value(widget)
            if value is not None:
                actions.append(f"{name(widget)}={value!r}")
                widget.set_value(value)
        at.run()
        check(at, actions)


# ---------------------------------------------------------------------------------------------------------
# Links: a tampered or extreme URL value falls back with a notice naming it, and never crashes the page

TAMPERED = ["abc", "", "nan", "inf", "-inf", "1e308", "-1e308", "10000", "-1", "0", "1,2", "x" * 600]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("page", EXISTING, ids=lambda p: p.url_path)
def test_tampered_links_fall_back_with_a_notice(page):
    default = fresh(page)
    link = {key: str(default.query_params[key]) for key in default.query_params}
    if not link:
        pytest.skip(f"{page.title} keeps no settings in its URL")
    for value in TAMPERED:
        at = fresh(page, {key: value for key in link})
        actions = [f"every link setting = {value[:20]!r}"]
        check(at, actions)
        # The kit's notices are literal (tests.pagetest.warnings reads them) and name each setting by its
        # label, never by its key (issue 13, defect 9): one "was ignored" notice per refused setting.
        notices = [n for n in warnings(at) if "was ignored" in n]
        # Too long for any field, or a word where a number belongs: these values must be refused aloud.
        refused = [key for key, original in link.items()
                   if len(value) > 500 or (_is_number(original) and not _is_number(value))]
        assert len(notices) >= len(refused), f"{refused}={value[:20]!r}: {len(notices)} notices, {page.title}"
