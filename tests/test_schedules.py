"""lossviz.schedules against the real stepping torch schedulers, hand calculations and its own rules.

torch's schedulers update the rate recursively (lr_t = lr_{t-1} * factor); lossviz evaluates closed
forms. They agree to round-off: over 300-450 steps every schedule is within rtol 1e-13 except
CosineAnnealingLR, whose ratio recursion drifts by about 3e-16 per step (measured: 9e-13 after 3000
steps), hence the separate, looser 3000-step cosine test.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import schedules

torch = pytest.importorskip("torch")
L = torch.optim.lr_scheduler

RTOL = 1e-13


def torch_lrs(make_scheduler, lr: float, steps: int, warmup: int = 0, warmup_start: float = 1 / 3):
    """lr held by the optimizer at each of ``steps`` optimizer.step() calls, stepping torch's scheduler.

    With ``warmup`` the scheduler is SequentialLR([LinearLR, main], milestones=[warmup]), built in that
    order like the exported code.
    """
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if warmup:
            ramp = L.LinearLR(optimizer, start_factor=warmup_start, end_factor=1.0, total_iters=warmup)
            scheduler = L.SequentialLR(optimizer, [ramp, make_scheduler(optimizer)], milestones=[warmup])
        else:
            scheduler = make_scheduler(optimizer) if make_scheduler else None
        used = []
        for t in range(steps):
            used.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            # OneCycleLR raises when stepped past total_steps, so the last step is not followed by one.
            if scheduler is not None and t < steps - 1:
                scheduler.step()
    return np.array(used)


# (lossviz name, lossviz params, torch factory); base_lr 0.1 throughout (onecycle derives its own).
CASES = [
    ("constant", {}, None),
    ("step", {"step_size": 7, "gamma": 0.5}, lambda o: L.StepLR(o, step_size=7, gamma=0.5)),
    ("step", {"step_size": 50}, lambda o: L.StepLR(o, step_size=50)),
    ("multistep", {"milestones": [10, 60, 200], "gamma": 0.3},
     lambda o: L.MultiStepLR(o, milestones=[10, 60, 200], gamma=0.3)),
    ("multistep", {"milestones": [0, 100]}, lambda o: L.MultiStepLR(o, milestones=[0, 100])),
    ("exponential", {"gamma": 0.99}, lambda o: L.ExponentialLR(o, gamma=0.99)),
    ("exponential", {"gamma": 1.01}, lambda o: L.ExponentialLR(o, gamma=1.01)),
    ("inverse_time", {"decay": 0.05}, lambda o: L.LambdaLR(o, lambda t: 1.0 / (1.0 + 0.05 * t))),
    ("polynomial", {}, lambda o: L.PolynomialLR(o)),
    ("polynomial", {"total_iters": 200, "power": 2.5},
     lambda o: L.PolynomialLR(o, total_iters=200, power=2.5)),
    ("cosine", {"T_max": 100, "eta_min": 1e-3}, lambda o: L.CosineAnnealingLR(o, T_max=100, eta_min=1e-3)),
    ("cosine", {"T_max": 37}, lambda o: L.CosineAnnealingLR(o, T_max=37)),
    ("cosine_warm_restarts", {"T_0": 10}, lambda o: L.CosineAnnealingWarmRestarts(o, T_0=10)),
    ("cosine_warm_restarts", {"T_0": 7, "T_mult": 2, "eta_min": 1e-3},
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=1e-3)),
    ("cosine_warm_restarts", {"T_0": 1, "T_mult": 3},
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3)),
    ("linear", {}, lambda o: L.LinearLR(o)),
    ("linear", {"start_factor": 0.1, "end_factor": 0.5, "total_iters": 150},
     lambda o: L.LinearLR(o, start_factor=0.1, end_factor=0.5, total_iters=150)),
    ("cyclic", {"max_lr": 0.5, "step_size_up": 20},
     lambda o: L.CyclicLR(o, base_lr=0.1, max_lr=0.5, step_size_up=20, cycle_momentum=False)),
    ("cyclic", {"max_lr": 0.5, "step_size_up": 15, "step_size_down": 25, "mode": "triangular2"},
     lambda o: L.CyclicLR(o, base_lr=0.1, max_lr=0.5, step_size_up=15, step_size_down=25,
                          mode="triangular2", cycle_momentum=False)),
    ("cyclic", {"max_lr": 0.5, "step_size_up": 10, "mode": "exp_range", "gamma": 0.99},
     lambda o: L.CyclicLR(o, base_lr=0.1, max_lr=0.5, step_size_up=10, mode="exp_range", gamma=0.99,
                          cycle_momentum=False)),
    ("cyclic", {"max_lr": 0.5}, lambda o: L.CyclicLR(o, base_lr=0.1, max_lr=0.5, cycle_momentum=False)),
    ("onecycle", {"max_lr": 0.5, "total_steps": 300},
     lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=300, cycle_momentum=False)),
    ("onecycle", {"max_lr": 0.5, "total_steps": 299, "three_phase": True, "anneal_strategy": "linear",
                  "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
     lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=299, pct_start=0.25, anneal_strategy="linear",
                            div_factor=10.0, final_div_factor=100.0, three_phase=True, cycle_momentum=False)),
    ("onecycle", {"max_lr": 0.5, "total_steps": 310, "three_phase": True, "pct_start": 0.4},
     lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=310, pct_start=0.4, three_phase=True,
                            cycle_momentum=False)),
]


def hf_wsd_factor(step, warmup, stable, decay, warmup_type="linear", decay_type="cosine", ratio=0.0):
    """The warmup-stable-decay multiplier as Hugging Face transformers' get_wsd_schedule defines it,
    written out in plain Python for torch's LambdaLR."""
    if step < warmup:
        progress = step / max(1, warmup)
        factor = {"linear": progress, "cosine": 0.5 * (1.0 - math.cos(math.pi * progress)),
                  "1-sqrt": 1.0 - math.sqrt(1.0 - progress)}[warmup_type]
        return max(0.0, factor * (1.0 - ratio) + ratio)
    if step < warmup + stable:
        return 1.0
    if step < warmup + stable + decay:
        progress = (step - warmup - stable) / max(1, decay)
        factor = {"linear": 1.0 - progress, "cosine": 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)),
                  "1-sqrt": 1.0 - math.sqrt(progress)}[decay_type]
        return max(0.0, factor * (1.0 - ratio) + ratio)
    return ratio


CASES += [
    ("constant_factor", {}, lambda o: L.ConstantLR(o)),
    ("constant_factor", {"factor": 0.05, "total_iters": 120},
     lambda o: L.ConstantLR(o, factor=0.05, total_iters=120)),
    ("wsd", {"num_warmup_steps": 30, "num_stable_steps": 150, "num_decay_steps": 100},
     lambda o: L.LambdaLR(o, lambda t: hf_wsd_factor(t, 30, 150, 100))),
    ("wsd", {"num_stable_steps": 100, "num_decay_steps": 120, "decay_type": "1-sqrt", "min_lr_ratio": 0.1},
     lambda o: L.LambdaLR(o, lambda t: hf_wsd_factor(t, 0, 100, 120, decay_type="1-sqrt", ratio=0.1))),
    ("wsd", {"num_warmup_steps": 50, "num_stable_steps": 0, "num_decay_steps": 200, "decay_type": "linear",
             "warmup_type": "cosine", "min_lr_ratio": 0.2},
     lambda o: L.LambdaLR(o, lambda t: hf_wsd_factor(t, 50, 0, 200, "cosine", "linear", 0.2))),
    ("wsd", {"num_warmup_steps": 40, "num_stable_steps": 60, "num_decay_steps": 50, "warmup_type": "1-sqrt"},
     lambda o: L.LambdaLR(o, lambda t: hf_wsd_factor(t, 40, 60, 50, "1-sqrt"))),
    ("chain", {"schedules": [("exponential", {"gamma": 0.99}), ("step", {"step_size": 30, "gamma": 0.5})]},
     lambda o: L.ChainedScheduler([L.ExponentialLR(o, gamma=0.99), L.StepLR(o, step_size=30, gamma=0.5)], o)),
    ("chain", {"schedules": [("constant_factor", {"factor": 0.5, "total_iters": 20}),
                             ("linear", {"start_factor": 0.2, "total_iters": 50}),
                             ("multistep", {"milestones": [100, 200], "gamma": 0.3})]},
     lambda o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=20),
                                   L.LinearLR(o, start_factor=0.2, total_iters=50),
                                   L.MultiStepLR(o, milestones=[100, 200], gamma=0.3)], o)),
    ("chain", {"schedules": [("polynomial", {"total_iters": 250, "power": 2.0})]},
     lambda o: L.ChainedScheduler([L.PolynomialLR(o, total_iters=250, power=2.0)], o)),
]
CASE_IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]
# chain takes no generic warm-up (torch's SequentialLR cannot restart a ChainedScheduler).
WARMUP_CASES = [case for case in CASES if case[0] != "chain"]
WARMUP_IDS = [i for i, case in zip(CASE_IDS, CASES, strict=True) if case[0] != "chain"]


def _build(name: str, params: dict, **extra) -> schedules.Schedule:
    if name == "onecycle":
        return schedules.get(name, **params, **extra)
    return schedules.get(name, base_lr=0.1, **params, **extra)


def _steps_for(name: str, params: dict, warmup: int = 0) -> int:
    # OneCycleLR's rate is defined up to t = total_steps; run the whole range.
    return (params["total_steps"] + 1 if name == "onecycle" else 300) + warmup


@pytest.mark.parametrize("name, params, make", CASES, ids=CASE_IDS)
def test_matches_stepping_torch_scheduler(name, params, make):
    sched = _build(name, params)
    steps = _steps_for(name, params)
    expected = torch_lrs(make, float(sched.base_lr), steps)
    np.testing.assert_allclose(sched(np.arange(steps)), expected, rtol=RTOL, atol=1e-16)


@pytest.mark.parametrize("name, params, make", WARMUP_CASES, ids=WARMUP_IDS)
@pytest.mark.parametrize("warmup, warmup_start", [(13, 0.05), (1, 1 / 3)])
def test_warmup_matches_torch_sequential_lr(name, params, make, warmup, warmup_start):
    if make is None:  # constant: torch needs some scheduler after the ramp; a factor of one.
        def make(o):
            return L.LambdaLR(o, lambda t: 1.0)
    sched = _build(name, params, warmup_steps=warmup, warmup_start_factor=warmup_start)
    steps = _steps_for(name, params, warmup)
    expected = torch_lrs(make, float(sched.base_lr), steps, warmup, warmup_start)
    np.testing.assert_allclose(sched(np.arange(steps)), expected, rtol=RTOL, atol=1e-16)


def test_warmup_restarts_the_main_schedule_at_its_own_step_zero():
    plain = schedules.get("linear", base_lr=0.2, start_factor=0.5, total_iters=4)
    warm = schedules.get("linear", base_lr=0.2, start_factor=0.5, total_iters=4, warmup_steps=3,
                         warmup_start_factor=0.25)
    t = np.arange(12)
    # Hand calculation: ramp 0.2 * (0.25 + 0.75 t / 3) for t < 3, never reaching 0.2 itself ...
    np.testing.assert_allclose(warm(t[:3]), 0.2 * (0.25 + 0.75 * t[:3] / 3), rtol=1e-15)
    # ... then the main schedule from its step 0 (0.2 * start_factor: a drop, as in torch's SequentialLR).
    np.testing.assert_allclose(warm(t[3:]), plain(t[3:] - 3), rtol=1e-15)
    assert float(warm(3)) == pytest.approx(0.1)


def test_cosine_recursion_drift_over_3000_steps_stays_below_2e_12():
    sched = schedules.get("cosine", base_lr=0.1, T_max=37)
    expected = torch_lrs(lambda o: L.CosineAnnealingLR(o, T_max=37), 0.1, 3000)
    np.testing.assert_allclose(sched(np.arange(3000)), expected, rtol=2e-12, atol=1e-16)


# ---------------------------------------------------------------------------------------------------------
# Hand calculations


def test_closed_forms_by_hand():
    assert float(schedules.get("constant", base_lr=0.3)(1000)) == 0.3
    step = schedules.get("step", base_lr=1.0, step_size=3, gamma=0.5)
    assert step([0, 2, 3, 5, 6, 9]).tolist() == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]
    multi = schedules.get("multistep", base_lr=1.0, milestones=[2, 5], gamma=0.1)
    np.testing.assert_allclose(multi([0, 1, 2, 4, 5, 100]), [1, 1, 0.1, 0.1, 0.01, 0.01], rtol=1e-15)
    assert float(schedules.get("exponential", base_lr=2.0, gamma=0.9)(3)) == pytest.approx(2 * 0.729)
    assert float(schedules.get("inverse_time", base_lr=1.0, decay=0.5)(4)) == pytest.approx(1 / 3)
    poly = schedules.get("polynomial", base_lr=1.0, total_iters=4, power=2.0)
    np.testing.assert_allclose(poly([0, 1, 2, 4, 10]), [1, 0.5625, 0.25, 0, 0], atol=1e-16)
    cosine = schedules.get("cosine", base_lr=1.0, T_max=4, eta_min=0.2)
    np.testing.assert_allclose(cosine([0, 2, 4, 8]), [1.0, 0.6, 0.2, 1.0], rtol=1e-15)
    assert float(cosine(1)) == pytest.approx(0.2 + 0.4 * (1 + math.cos(math.pi / 4)))
    restarts = schedules.get("cosine_warm_restarts", base_lr=1.0, T_0=2, T_mult=2)
    # Restarts at t = 0, 2, 6, 14: periods 2, 4, 8.
    np.testing.assert_allclose(restarts([0, 1, 2, 4, 6, 10, 14]), [1, 0.5, 1, 0.5, 1, 0.5, 1], atol=1e-15)
    linear = schedules.get("linear", base_lr=1.0, start_factor=0.5, end_factor=1.0, total_iters=4)
    np.testing.assert_allclose(linear([0, 1, 2, 4, 7]), [0.5, 0.625, 0.75, 1.0, 1.0], rtol=1e-15)


def test_cyclic_by_hand():
    tri = schedules.get("cyclic", base_lr=1.0, max_lr=3.0, step_size_up=2, step_size_down=4)
    # Up 1 -> 3 in 2 steps, down to 1 in 4, period 6.
    np.testing.assert_allclose(tri([0, 1, 2, 3, 4, 5, 6, 8]), [1, 2, 3, 2.5, 2, 1.5, 1, 3], rtol=1e-15)
    halving = schedules.get("cyclic", base_lr=1.0, max_lr=3.0, step_size_up=2, mode="triangular2")
    np.testing.assert_allclose(halving([2, 6, 10]), [3, 2, 1.5], rtol=1e-15)
    shrinking = schedules.get("cyclic", base_lr=1.0, max_lr=3.0, step_size_up=2, mode="exp_range", gamma=0.5)
    np.testing.assert_allclose(shrinking([1, 2]), [1 + 1 * 0.5, 1 + 2 * 0.25], rtol=1e-15)


def test_onecycle_by_hand():
    sched = schedules.get("onecycle", max_lr=1.0, total_steps=11, pct_start=0.5, anneal_strategy="linear",
                          div_factor=4.0, final_div_factor=5.0)
    assert sched.base_lr == 0.25
    # Phase one ends at pct_start * 11 - 1 = 4.5, phase two at 10, reaching 0.25 / 5 = 0.05.
    np.testing.assert_allclose(sched([0, 4]), [0.25, 0.25 + 0.75 * 4 / 4.5], rtol=1e-15)
    np.testing.assert_allclose(sched([10]), [0.05], rtol=1e-15)
    assert float(sched(5)) == pytest.approx(1.0 + (0.05 - 1.0) * 0.5 / 5.5)


@given(
    name=st.sampled_from(["step", "exponential", "polynomial", "cosine", "linear", "cosine_warm_restarts"]),
    t=st.integers(0, 10_000),
)
@settings(max_examples=60, deadline=None)
def test_schedule_scales_with_base_lr(name, t):
    params = {"step": {"step_size": 5}, "exponential": {"gamma": 0.999}, "polynomial": {"total_iters": 300},
              "cosine": {"T_max": 100}, "linear": {}, "cosine_warm_restarts": {"T_0": 9, "T_mult": 2}}[name]
    one = float(schedules.get(name, base_lr=1.0, **params)(t))
    assert float(schedules.get(name, base_lr=0.03, **params)(t)) == pytest.approx(0.03 * one, rel=1e-14)


# ---------------------------------------------------------------------------------------------------------
# Shapes and per-run rates


@pytest.mark.parametrize("name, params, make", CASES, ids=CASE_IDS)
def test_array_base_lr_gives_each_run_its_own_schedule(name, params, make):
    t = np.arange(40).reshape(8, 5)
    rates = np.array([0.01, 0.1, 0.4])
    if name == "onecycle":
        sched = schedules.get(name, **{**params, "max_lr": rates})
        singles = [schedules.get(name, **{**params, "max_lr": r}) for r in rates]
    else:
        sched = schedules.get(name, base_lr=rates, **params)
        singles = [schedules.get(name, base_lr=r, **params) for r in rates]
    out = sched(t)
    assert out.shape == (8, 5, 3)
    for run, single in enumerate(singles):
        np.testing.assert_array_equal(out[..., run], single(t))


def test_schedule_does_not_change_when_the_callers_array_does():
    rates = np.array([0.1, 0.2])
    sched = schedules.get("exponential", base_lr=rates, gamma=0.5)
    sched.params["gamma"] = 0.1
    rates[0] = 5.0
    np.testing.assert_allclose(sched(1), [0.05, 0.1], rtol=1e-15)


def test_output_shapes():
    sched = schedules.get("cosine", base_lr=0.1, T_max=10)
    assert sched(3).shape == ()
    assert sched(np.int32(3)).shape == ()
    assert sched([1, 2]).shape == (2,)
    assert sched(np.zeros((0,), dtype=int)).shape == (0,)
    assert sched(np.arange(6, dtype=np.uint8).reshape(2, 3)).dtype == np.float64
    assert schedules.get("cyclic", base_lr=0.1, max_lr=np.array([0.5, 1.0]))([0, 1]).shape == (2, 2)


REQUIRED_VALUES = {
    "base_lr": 0.1, "step_size": 3, "milestones": [2, 4], "gamma": 0.9, "decay": 0.1, "T_max": 5, "T_0": 4,
    "max_lr": 0.5, "total_steps": 20, "num_stable_steps": 5, "num_decay_steps": 5,
    "schedules": (("exponential", {"gamma": 0.9}), ("step", {"step_size": 4})),
}


def _required_args(name: str) -> dict:
    defaults = schedules.parameters(name)
    return {key: REQUIRED_VALUES[key] for key, value in defaults.items() if value is schedules.REQUIRED}


def _warmup(name: str, steps: int) -> dict:
    """warmup_steps for the schedules that take it (not reduce_on_plateau and chain)."""
    return {"warmup_steps": steps} if "warmup_steps" in schedules.parameters(name) else {}


def test_attributes_and_rebuild_from_params():
    for name in schedules.names():
        sched = schedules.get(name, **_required_args(name), **_warmup(name, 2))
        assert sched.name == name
        assert sched.title and sched.latex and isinstance(sched.params, dict)
        if name == "constant":
            assert sched.torch_name is None
        else:
            assert sched.torch_name.endswith(("LR", "Restarts", "Plateau", "Scheduler"))
        assert sched.params.get("warmup_steps", 2) == 2
        rebuilt = schedules.get(sched.name, **sched.params)
        if sched.reads_loss:
            losses = np.r_[np.linspace(5, 1, 10), np.ones(30)]
            np.testing.assert_array_equal(rebuilt.replay(losses), sched.replay(losses))
        else:
            np.testing.assert_array_equal(rebuilt(np.arange(20)), sched(np.arange(20)))
    assert schedules.get("step", base_lr=0.1, step_size=5).params == {
        "base_lr": 0.1, "step_size": 5, "gamma": 0.1, "warmup_steps": 0, "warmup_start_factor": 1 / 3}


def test_parameters_lists_torch_defaults():
    assert schedules.parameters("cosine") == {
        "base_lr": schedules.REQUIRED, "T_max": schedules.REQUIRED, "eta_min": 0.0, "warmup_steps": 0,
        "warmup_start_factor": 1 / 3}
    onecycle = schedules.parameters("onecycle")
    assert "base_lr" not in onecycle
    assert (onecycle["pct_start"], onecycle["div_factor"], onecycle["final_div_factor"]) == (0.3, 25.0, 1e4)


def test_latex_is_balanced():
    for name in schedules.names():
        for warmup in (0, 3):
            latex = schedules.get(name, **_required_args(name), **_warmup(name, warmup)).latex
            assert latex.count("{") == latex.count("}"), (name, latex)
            assert latex.count(r"\left") == latex.count(r"\right"), (name, latex)


# ---------------------------------------------------------------------------------------------------------
# Validation


STEP = {"base_lr": 0.1, "step_size": 3}
CYCLIC = {"base_lr": 0.1, "max_lr": 1.0}
ONECYCLE = {"max_lr": 1.0, "total_steps": 10}


@pytest.mark.parametrize(
    "name, kwargs, exc, match",
    [
        ("cosinus", {"base_lr": 0.1}, ValueError,
         "unknown schedule 'cosinus'; valid names: constant, step, multistep"),
        ("step", {**STEP, "gama": 0.5}, TypeError,
         "schedule 'step' got unknown parameter.*gama; valid parameters: base_lr, step_size, gamma"),
        ("step", {"base_lr": 0.1}, ValueError, "schedule 'step' needs the parameter step_size"),
        ("step", {"step_size": 3}, ValueError, "schedule 'step' needs base_lr"),
        ("step", {**STEP, "base_lr": 0.0}, ValueError, r"base_lr must be in \(0, inf\)"),
        ("step", {**STEP, "base_lr": [0.1, -1.0]}, ValueError,
         r"base_lr must be in \(0, inf\) for every run, got -1.0"),
        ("step", {**STEP, "base_lr": []}, ValueError,
         r"base_lr must be .* \(one value per run\), got shape \(0,\)"),
        ("step", {**STEP, "base_lr": [[0.1]]}, ValueError,
         r"base_lr must be .* \(one value per run\), got shape \(1, 1\)"),
        ("step", {**STEP, "step_size": 0}, ValueError, r"step_size must be an integer in \[1, inf\), got 0"),
        ("step", {**STEP, "step_size": 2.5}, TypeError, "step_size must be an integer"),
        ("step", {**STEP, "gamma": 0}, ValueError, r"gamma must be in \(0, inf\)"),
        ("multistep", {"base_lr": 0.1, "milestones": [5, 3]}, ValueError,
         r"milestones must be strictly increasing, got \[5, 3\]"),
        ("multistep", {"base_lr": 0.1, "milestones": []}, ValueError, "milestones must hold at least one"),
        ("multistep", {"base_lr": 0.1, "milestones": [-1, 3]}, ValueError, "milestones must be steps >= 0"),
        ("multistep", {"base_lr": 0.1, "milestones": [1.5]}, TypeError, "milestones must be integers"),
        ("multistep", {"base_lr": 0.1, "milestones": 5}, TypeError, "milestones must be a sequence"),
        ("inverse_time", {"base_lr": 0.1, "decay": -1}, ValueError, r"decay must be in \[0, inf\)"),
        ("polynomial", {"base_lr": 0.1, "total_iters": 0}, ValueError, "total_iters must be an integer in"),
        ("polynomial", {"base_lr": 0.1, "power": 0}, ValueError, r"power must be in \(0, inf\)"),
        ("cosine", {"base_lr": 0.1, "T_max": 0}, ValueError, r"T_max must be an integer in \[1, inf\)"),
        ("cosine", {"base_lr": 0.1, "T_max": 5, "eta_min": -0.1}, ValueError,
         r"eta_min must be in \[0, inf\), got -0.1"),
        ("cosine_warm_restarts", {"base_lr": 0.1, "T_0": 5, "T_mult": 0}, ValueError,
         r"T_mult must be an integer in \[1, inf\), got 0"),
        ("linear", {"base_lr": 0.1, "start_factor": 0}, ValueError,
         r"start_factor must be in \(0, 1\], got 0"),
        ("linear", {"base_lr": 0.1, "end_factor": 1.5}, ValueError, r"end_factor must be in \[0, 1\]"),
        ("cyclic", {"base_lr": 0.1}, ValueError, "schedule 'cyclic' needs the parameter max_lr"),
        ("cyclic", {**CYCLIC, "mode": "sawtooth"}, ValueError,
         "unknown mode 'sawtooth'; valid names: triangular, triangular2, exp_range"),
        ("cyclic", {**CYCLIC, "step_size_down": 0}, ValueError,
         r"step_size_down must be an integer in \[1, inf\), got 0"),
        ("cyclic", {**CYCLIC, "gamma": 1.5}, ValueError, r"gamma must be in \(0, 1\]"),
        ("onecycle", {**ONECYCLE, "base_lr": 0.1}, ValueError,
         "schedule 'onecycle' takes max_lr, not base_lr"),
        ("onecycle", {"max_lr": 1.0}, ValueError, "needs the parameter total_steps"),
        ("onecycle", {**ONECYCLE, "pct_start": 1.5}, ValueError, r"pct_start must be in \[0, 1\], got 1.5"),
        ("onecycle", {**ONECYCLE, "anneal_strategy": "cosine"}, ValueError,
         "unknown anneal_strategy 'cosine'; valid names: cos, linear"),
        ("onecycle", {**ONECYCLE, "three_phase": 1}, TypeError, "three_phase must be True or False, got 1"),
        ("onecycle", {**ONECYCLE, "div_factor": 0}, ValueError, r"div_factor must be in \(0, inf\)"),
        # torch divides by zero on these: a phase that ends where it starts.
        ("onecycle", {**ONECYCLE, "pct_start": 0.1}, ValueError,
         "pct_start=0.1 with total_steps=10 and three_phase=False gives a phase of zero length"),
        ("onecycle", {**ONECYCLE, "pct_start": 1.0}, ValueError, "gives a phase of zero length"),
        ("onecycle", {"max_lr": 1.0, "total_steps": 9, "pct_start": 5 / 9, "three_phase": True}, ValueError,
         "gives a phase of zero length"),
        ("step", {**STEP, "warmup_steps": -1}, ValueError,
         r"warmup_steps must be an integer in \[0, inf\), got -1"),
        ("step", {**STEP, "warmup_start_factor": 0.0}, ValueError,
         r"warmup_start_factor must be in \(0, 1\], got 0.0"),
    ],
)
def test_validation_messages(name, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        schedules.get(name, **kwargs)


def test_parameters_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown schedule 'nope'; valid names"):
        schedules.parameters("nope")


def _torch_onecycle_divides_by_zero(total: int, pct: float, three: bool) -> bool:
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scheduler = L.OneCycleLR(optimizer, max_lr=1.0, total_steps=total, pct_start=pct,
                                     three_phase=three, cycle_momentum=False)
            for _ in range(total):
                optimizer.step()
                scheduler.step()
    except ZeroDivisionError:
        return True
    return False


def test_onecycle_refuses_exactly_the_settings_where_torch_divides_by_zero():
    refused = 0
    for total in range(1, 25):
        for pct in [i / 10 for i in range(11)] + [5 / 9, 1 / total, 0.5 + 0.5 / total]:
            for three in (False, True):
                try:
                    schedules.get("onecycle", max_lr=1.0, total_steps=total, pct_start=pct, three_phase=three)
                    ours = False
                except ValueError:
                    ours = True
                assert ours == _torch_onecycle_divides_by_zero(total, pct, three), (total, pct, three)
                refused += ours
    assert refused > 10  # the grid does reach the failing settings


@pytest.mark.parametrize(
    "t, exc, match",
    [
        (-1, ValueError, r"step t must be >= 0 \(t = 0 is the first optimizer step\), got -1"),
        ([3, -2], ValueError, "step t must be >= 0"),
        (1.5, TypeError, "step t must be an integer or an integer array, got dtype float64"),
        (True, TypeError, "step t must be an integer or an integer array, got True"),
        (11, ValueError, r"schedule 'onecycle' is defined for steps t in \[0, 10\].*got t = 11"),
    ],
)
def test_call_validation(t, exc, match):
    sched = schedules.get("onecycle", max_lr=1.0, total_steps=10)
    with pytest.raises(exc, match=match):
        sched(t)


def test_onecycle_last_step_counts_the_warmup():
    sched = schedules.get("onecycle", max_lr=1.0, total_steps=10, warmup_steps=5)
    assert sched.last_step == 15
    assert sched(15).shape == ()
    with pytest.raises(ValueError, match=r"\[0, 15\]"):
        sched(16)


def test_exponential_growth_overflows_to_inf_without_warning():
    sched = schedules.get("exponential", base_lr=1.0, gamma=2.0)
    assert np.isinf(sched(5000))


# ---------------------------------------------------------------------------------------------------------
# Schedules added with issue 17: chain's members, reduce_on_plateau against torch step by step


def test_chain_is_the_product_of_its_members():
    members = [("exponential", {"gamma": 0.97}), ("linear", {"start_factor": 0.25, "total_iters": 8})]
    chain = schedules.get("chain", base_lr=np.array([0.1, 0.3]), schedules=members)
    t = np.arange(30)
    product = 0.1 * 0.97 ** t * np.minimum(0.25 + 0.75 * np.minimum(t, 8) / 8, 1.0)
    np.testing.assert_allclose(chain(t)[:, 0], product, rtol=1e-14)
    np.testing.assert_allclose(chain(t)[:, 1], 3 * product, rtol=1e-14)
    own_bases = [schedules.get("exponential", base_lr=5.0, gamma=0.97),
                 schedules.get("linear", base_lr=1.0, start_factor=0.25, total_iters=8)]
    built = schedules.get("chain", base_lr=0.1, schedules=own_bases)
    np.testing.assert_allclose(built(t), product, rtol=1e-14)  # a member's own base_lr does not matter
    assert built.params["schedules"] == chain.params["schedules"]


@pytest.mark.parametrize(("members", "error", "match"), [
    ([("cosine", {"T_max": 10})], ValueError, ("chain multiplies schedules whose torch scheduler multiplies "
                                                "the rate each step .*; 'cosine' is not one of them")),
    ([("exponential", {"gamma": 0.9, "warmup_steps": 3})], ValueError,
     "takes no warmup_steps; chain a 'linear'"),
    ([], ValueError, "schedules must hold at least one schedule to chain"),
    ("exponential", TypeError, "schedules must be a sequence of schedules or"),
    ([("exponential",)], TypeError, r"schedules must hold Schedules or \(name, params\) pairs"),
    ([("exponential", {"gamma": -1.0})], ValueError, r"gamma must be in \(0, inf\), got -1"),
])
def test_chain_validation(members, error, match):
    with pytest.raises(error, match=match):
        schedules.get("chain", base_lr=0.1, schedules=members)


def test_schedules_without_warmup_say_why():
    with pytest.raises(TypeError, match="takes no warm-up; chain a 'linear' schedule instead"):
        schedules.get("chain", base_lr=0.1, schedules=[("exponential", {"gamma": 0.9})], warmup_steps=3)
    with pytest.raises(TypeError, match=r"reduce_on_plateau takes no warm-up\)"):
        schedules.get("reduce_on_plateau", base_lr=0.1, warmup_steps=3)


def torch_plateau_lrs(losses, lr, **kwargs):
    """torch's ReduceLROnPlateau fed ``losses[t]`` after optimizer step t: the lr each step used."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = L.ReduceLROnPlateau(optimizer, **kwargs)
    used = []
    for loss in losses:
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step(loss)
    return np.array(used)


PLATEAU_CASES = [
    {},
    {"patience": 3, "factor": 0.5},
    {"patience": 2, "factor": 0.3, "cooldown": 4, "min_lr": 0.004},
    {"patience": 0, "threshold": 0.05, "threshold_mode": "abs"},
    {"mode": "max", "patience": 2},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 1, "eps": 0.05},
]


@pytest.mark.parametrize("settings_", PLATEAU_CASES)
def test_reduce_on_plateau_equals_torch_for_a_sequence_of_losses(settings_):
    rng = np.random.default_rng(3)
    losses = np.r_[np.linspace(3.0, 1.0, 40), 1.0 + 0.02 * rng.normal(size=120), np.linspace(1.0, 0.2, 40),
                   0.2 + 0.001 * rng.normal(size=200)]
    sched = schedules.get("reduce_on_plateau", base_lr=0.1, **settings_)
    expected = torch_plateau_lrs(losses, 0.1, **settings_)
    assert len(np.unique(expected)) > 1, "the sequence must make torch reduce the rate"
    np.testing.assert_allclose(sched.replay(losses), expected, rtol=1e-15)
    # several runs at once: each its own losses and base_lr
    table = np.stack([losses, losses[::-1]], axis=1)
    both = schedules.get("reduce_on_plateau", base_lr=np.array([0.1, 0.5]), **settings_).replay(table)
    np.testing.assert_allclose(both[:, 1], torch_plateau_lrs(losses[::-1], 0.5, **settings_), rtol=1e-15)


def test_reduce_on_plateau_in_run_equals_a_torch_training_loop():
    """run feeds f(x_t) after step t, as a loop calling scheduler.step(loss) with the step's loss does."""
    from lossviz import optimizers, surfaces
    from lossviz.run import run

    surface = surfaces.get("rosenbrock")
    settings_ = {"patience": 5, "factor": 0.5, "threshold": 1e-3}
    sched = schedules.get("reduce_on_plateau", base_lr=np.array([2e-3, 1e-3]), **settings_)
    traj = run(surface, optimizers.get("sgd", momentum=0.9), np.array([-1.2, 1.0]), 300, sched)
    for r, lr in enumerate((2e-3, 1e-3)):
        x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([x], lr=lr, momentum=0.9)
        scheduler = L.ReduceLROnPlateau(optimizer, **settings_)
        path, rates = [x.detach().numpy().copy()], []
        for _ in range(300):
            optimizer.zero_grad()
            loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            loss.backward()
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step(loss.item())
            path.append(x.detach().numpy().copy())
        assert len(set(rates)) > 1  # the plateau reduced the rate
        np.testing.assert_allclose(traj.lr[r], rates, rtol=1e-15)
        np.testing.assert_allclose(traj.params[r], np.array(path), rtol=1e-10, atol=1e-12)


def test_reduce_on_plateau_has_no_value_without_losses():
    sched = schedules.get("reduce_on_plateau", base_lr=0.1)
    with pytest.raises(TypeError, match="reads the loss, so it has no value for a step alone"):
        sched(3)
    with pytest.raises(TypeError, match="does not read the loss"):
        schedules.get("step", base_lr=0.1, step_size=3).replay([1.0, 2.0])


def test_spec_rows_are_what_get_checks():
    for name in schedules.names():
        for key, row in schedules.spec(name).items():
            assert row.name == key and row.label
            if row.kind == "int":
                with pytest.raises(ValueError, match=f"{key} must be an integer in"):
                    schedules.get(name, **{**_required_args(name), key: int(row.low) - 1})
            elif row.kind in ("float", "fraction", "eps") and row.low is not None:
                bad = row.low if not row.include_low else float(np.nextafter(row.low, -np.inf))
                with pytest.raises(ValueError, match=f"{key} must be in"):
                    schedules.get(name, **{**_required_args(name), key: bad})
            elif row.kind == "choice":
                for choice in row.choices:
                    if choice is not None:
                        schedules.get(name, **{**_required_args(name), key: choice})
    assert schedules.spec("wsd")["decay_type"].choices == ("linear", "cosine", "1-sqrt")
    assert schedules.spec("reduce_on_plateau")["patience"].default == 10
