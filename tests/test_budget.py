"""lossviz.ui.budget: the advice names a setting and a value that fits, also when only part of the work
grows with that setting (the grids of a model on data stay whatever the steps)."""
import re

import pytest

from lossviz.ui import budget


@pytest.fixture
def shown(monkeypatch):
    messages = []
    monkeypatch.setattr(budget.text, "notice", lambda message, *args: messages.append(message))
    return messages


def _advised(messages, label):
    return float(re.search(rf"{label} from [0-9.]+ to ([0-9.]+)", messages[-1]).group(1))


def test_a_knob_that_scales_everything_is_lowered_by_the_whole_factor(shown):
    assert not budget.affordable(budget.Estimate(3 * budget.SECONDS, knobs=(budget.Knob("steps", 900),)))
    assert _advised(shown, "steps") == 300


def test_a_knob_that_scales_part_of_the_work_leaves_room_for_the_rest(shown):
    # Half of 2 x SECONDS grows with the steps: SECONDS of fixed work leaves nothing, so steps cannot fix it.
    fixed_half = budget.Estimate(2 * budget.SECONDS, knobs=(budget.Knob("steps", 1000, share=0.5),
                                                           budget.Knob("rows", 100, share=1.0)))
    assert not budget.affordable(fixed_half)
    assert "steps from" not in shown[-1] and _advised(shown, "rows") == 50
    # A quarter fixed: the steps' part must fit in the three quarters of the budget left.
    seconds = 2 * budget.SECONDS
    estimate = budget.Estimate(seconds, knobs=(budget.Knob("steps", 1000, share=0.75),))
    assert not budget.affordable(estimate)
    steps = _advised(shown, "steps")
    assert 0.25 * seconds + 0.75 * seconds * steps / 1000 <= budget.SECONDS
    assert 0.25 * seconds + 0.75 * seconds * (steps + 1) / 1000 > budget.SECONDS * 0.99


def test_data_estimate_splits_the_runs_from_the_grids():
    estimate = budget.data_estimate(1e8, 2e7, 400, run_knobs=(budget.Knob("steps", 400),),
                                    data_knobs=(budget.Knob("samples", 2000, 20),))
    running = 1e8 * budget.ROW_STEP_SECONDS + 400 * budget.CALL_SECONDS
    assert estimate.seconds == pytest.approx(running + 2e7 * budget.ROW_EVAL_SECONDS)
    steps, samples = estimate.knobs
    assert steps.share == pytest.approx(running / estimate.seconds) and samples.share == 1.0
    assert budget.affordable(budget.data_estimate(10, 10, 1))
