"""A slot's schedule resolved for another number of steps (controls.for_steps) is the setting the slot
would give if drawn for those steps: the Explorer's steps rerun the race alone (a fragment), while the
optimizer slots' widgets stay as they were drawn for the steps before."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lossviz.ui import controls


def _slot_page():
    import streamlit as st

    from lossviz.ui import controls, url

    drawn_for, wanted = st.session_state["steps"]
    url.seed_from_url("steps_test", controls.slot_fields(1))
    setting = controls.optimizer_slot(1, drawn_for, st)
    st.session_state["result"] = setting if wanted == drawn_for else controls.for_steps(1, setting, wanted)


def _setting(query: dict, drawn_for: int, wanted: int):
    at = AppTest.from_function(_slot_page)
    for key, value in query.items():
        at.query_params[key] = value
    at.session_state["steps"] = (drawn_for, wanted)
    at.run()
    assert not at.exception, at.exception
    return at.session_state["result"]


def _lengths(schedule: str, value: int) -> dict:
    return {f"o1_s_{name}": str(value)
            for name, _, kind, _ in controls.SCHEDULE_KNOBS[schedule] if kind == "int"}


@pytest.mark.parametrize("schedule", [s for s in controls.SCHEDULE_KNOBS if s != "constant"])
@pytest.mark.parametrize("length", [0, 7])  # 0: "from the run's length"; 7: a length of its own
def test_a_schedule_resolved_for_new_steps_is_the_one_drawn_for_them(schedule, length):
    query = {"o1_opt": "sgd", "o1_sched": schedule, "o1_warmup": "3", **_lengths(schedule, length)}
    direct = _setting(query, 80, 80)
    assert _setting(query, 40, 80) == direct
    assert direct.schedule == schedule and direct.schedule_params["warmup_steps"] == 3
    automatic = length == 0 and any(kind == "int" for _, _, kind, _ in controls.SCHEDULE_KNOBS[schedule])
    # A length that follows the run differs between 40 and 80 steps (so the check above has teeth).
    assert (_setting(query, 40, 40) != direct) == automatic


def test_a_racers_name_gives_a_choice_in_the_sidebars_words():
    """The L-BFGS scenario's racer read "line search fn strong_wolfe" in its legend: the argument's name and
    the value's identifier. The sidebar calls it "line search"."""
    from lossviz.ui import controls

    name = controls.slot_label(1, "lbfgs", {"lr": 1.0, "line_search_fn": "strong_wolfe"}, "constant")
    assert name == "1. L-BFGS (lr 1, line search strong wolfe)"
