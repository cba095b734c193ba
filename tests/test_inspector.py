"""The step inspector's KaTeX block: one indexing convention (torch's, t from 1) and each optimizer's own
symbols, for every optimizer; the blocks render in the KaTeX Streamlit ships."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from lossviz import models, optimizers, surfaces
from lossviz.optimizers import parameter_layout
from lossviz.run import run
from lossviz.viz import inspector
from tests.test_optimizers import _katex_module

ROSENBROCK = surfaces.get("rosenbrock")
START = np.array([-1.2, 1.0])

# (optimizer, settings): every optimizer with its defaults (a small lr), plus the settings that change
# which symbols appear.
CASES = [(name, {"lr": 1e-3} if name not in ("lbfgs", "newton") else {}) for name in optimizers.names()] + [
    ("sgd", {"lr": 1e-3, "momentum": 0.9}),
    ("sgd", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("rmsprop", {"lr": 1e-3, "momentum": 0.5, "centered": True}),
    ("adam", {"lr": 1e-3, "amsgrad": True}),
    ("signsgd", {"lr": 1e-3, "momentum": 0.0}),
    ("sam", {"base_optimizer": "adam", "lr": 1e-3}),
    ("newton", {"saddle_free": True, "damping": 1.0}),
    ("asgd", {"lr": 1e-3, "t0": 1.0}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def _block(name: str, settings: dict, t: int, objective=ROSENBROCK, x0=START) -> str:
    optimizer = optimizers.get(name, **settings)
    traj = run(objective, optimizer, x0, 6, record_grads=True, record_state=True)
    numbers = inspector.inspect_step(traj, optimizer, t, layout=parameter_layout(objective))
    return inspector.step_latex(optimizer, t, **numbers)


@pytest.mark.parametrize(("name", "settings"), CASES, ids=IDS)
@pytest.mark.parametrize("t", [1, 4])
def test_every_block_counts_steps_from_one_as_torch_does(name: str, settings: dict, t: int) -> None:
    block = _block(name, settings, t)
    assert rf"g_{{{t}}} = \nabla f(\theta_{{{t - 1}}})" in block
    assert rf"\theta_{{{t}}} = \theta_{{{t - 1}}}" in block
    # no other filled-in step index: every number index is t, t - 1 (or t + 1 for ASGD's next eta / mu)
    indices = {int(i) for i in re.findall(r"_\{(\d+)\}", block)}
    assert indices <= {t - 1, t, t + 1}, indices
    if name != "asgd":
        assert t + 1 not in indices
    # the rule itself stays symbolic, in torch's indexing
    assert r"g_t &\leftarrow \nabla f(\theta_{t-1})" in block


@pytest.mark.parametrize(("name", "settings"), CASES, ids=IDS)
def test_every_block_uses_its_own_symbols(name: str, settings: dict) -> None:
    optimizer = optimizers.get(name, **settings)
    block = _block(name, settings, 3)
    symbol = inspector.direction_symbol(optimizer)
    assert symbol.replace("_t", "_{3}") in block.split(r"\\[12pt]")[-1]  # the filled update names it
    shown = STATE_SHOWN.get((name, tuple(sorted(settings))), STATE_SHOWN.get((name, ()), ()))
    for expected in shown:
        assert expected in block, (name, expected)


# State lines each case must show (filled in at t = 3).
STATE_SHOWN = {
    ("sgd", ("lr", "momentum")): ("b_{3} =",),
    ("sgd", ("lr", "momentum", "nesterov")): ("b_{3} =", r"(g_{3} + \mu b_{3})"),
    ("rmsprop", ("centered", "lr", "momentum")): ("v_{3} =", r"\bar g_{3} =", "b_{3} ="),
    ("rmsprop", ()): ("v_{3} =",),
    ("adam", ()): ("m_{3} =", "v_{3} ="),
    ("adam", ("amsgrad", "lr")): (r"v^{\max}_{3} =",),
    ("adamw", ()): ("m_{3} =", "v_{3} ="),
    ("adagrad", ()): ("s_{3} =",),
    ("adadelta", ()): ("v_{3} =", "u_{3} ="),
    ("nadam", ()): ("m_{3} =", r"\prod_{i \le 3}"),
    ("radam", ()): ("m_{3} =",),
    ("adamax", ()): ("u_{3} =",),
    ("rprop", ()): (r"\eta_{3} =",),
    ("asgd", ()): (r"\bar\theta_{3} =", r"\eta_{4} ="),
    ("adafactor", ()): (r"\hat V_{3} =",),
    ("lbfgs", ()): (r"H_0 =", r"\Delta_{3}"),
    ("muon", ()): ("B_{3} =", "O_{3}"),
    ("lion", ()): ("m_{3} =", r"\operatorname{sign}(c_{3})"),
    ("signsgd", ()): ("b_{3} =", r"\operatorname{sign}(b_{3})"),
    ("signsgd", ("lr", "momentum")): (r"\operatorname{sign}(g_{3})",),
    ("sam", ()): (r"\theta_{2} + \epsilon_{3} =",),
    ("sam", ("base_optimizer", "lr")): ("m_{3} =", r"\hat m_{3}"),
    ("schedule_free_sgd", ()): ("z_{3} =", "x_{3} ="),
    ("schedule_free_adamw", ()): ("z_{3} =", "x_{3} =", "v_{3} ="),
    ("newton", ()): (r"\lambda(H_{3}) =", r"H_{3}^{-1} g_{3}"),
    ("newton", ("damping", "saddle_free")): (r"\lvert H_{3}\rvert^{-1} g_{3}",),
}


def test_plain_sgd_has_no_momentum_buffer_and_reads_theta_minus_gamma_g() -> None:
    block = _block("sgd", {"lr": 1e-3}, 1)
    assert "b_" not in block
    assert r"\theta_{1} = \theta_{0} - \gamma\, g_{1} =" in block
    assert r"\gamma_{\text{eff}}" not in block


def test_the_filled_in_numbers_are_the_steps_numbers() -> None:
    optimizer = optimizers.get("sgd", lr=0.1)
    block = inspector.step_latex(
        optimizer,
        1,
        np.array([1.0, 2.0]),
        np.array([0.8, 1.6]),
        np.array([2.0, 4.0]),
        0.1,
        {},
        0.1,
        np.array([2.0, 4.0]),
    )
    assert (
        r"\begin{pmatrix}1\\2\end{pmatrix} - 0.1\begin{pmatrix}2\\4\end{pmatrix} = "
        r"\begin{pmatrix}0.8\\1.6\end{pmatrix}"
    ) in block


def test_a_per_coordinate_step_size_is_written_as_gamma_eff() -> None:
    block = _block("adam", {"lr": 1e-2}, 2)
    assert r"\theta_{2} = \theta_{1} - \gamma_{\text{eff}} \odot \hat m_{2} =" in block


def test_inspect_step_reproduces_the_recorded_step() -> None:
    """direction * effective_lr is the step the trajectory took, for every optimizer."""
    for name, settings in CASES:
        optimizer = optimizers.get(name, **settings)
        traj = run(ROSENBROCK, optimizer, START, 4, record_grads=True, record_state=True)
        for t in (1, 4):
            numbers = inspector.inspect_step(traj, optimizer, t)
            np.testing.assert_array_equal(numbers["params"], traj.params[t - 1])
            np.testing.assert_array_equal(numbers["grad"], traj.grads[t - 1])
            step = numbers["params"] - numbers["new_params"]
            np.testing.assert_allclose(
                numbers["effective_lr"] * numbers["direction"], step, rtol=1e-12, atol=1e-15, err_msg=name
            )


def test_inspect_step_on_a_batched_model_run_with_a_layout() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    model = models.mlp(X, (X[:, 0] > 0).astype(float), hidden=(3,))
    optimizer = optimizers.get("muon", lr=np.array([1e-2, 2e-2]))
    traj = run(model, optimizer, model.init_params(seed=0), 3, record_grads=True, record_state=True)
    numbers = inspector.inspect_step(traj, optimizer, 2, run=1, layout=parameter_layout(model))
    np.testing.assert_array_equal(numbers["new_params"], traj.params[1, 2])
    assert numbers["lr"] == 2e-2


def test_inspect_step_and_step_latex_check_t() -> None:
    optimizer = optimizers.get("sgd")
    traj = run(ROSENBROCK, optimizer, START, 3, record_grads=True, record_state=True)
    for bad in (0, 4, True):
        with pytest.raises(ValueError, match=r"t must be a step in \[1, 3\] \(counted from 1\)"):
            inspector.inspect_step(traj, optimizer, bad)
    with pytest.raises(ValueError, match="t must be the step counted from 1"):
        inspector.step_latex(optimizer, 0, START, START, START, 0.1, {}, 0.1, START)
    with pytest.raises(ValueError, match="record_grads=True and record_state=True"):
        inspector.inspect_step(run(ROSENBROCK, optimizer, START, 3), optimizer, 1)


def test_direction_words_cover_every_optimizer_and_say_what_muon_does_to_a_vector() -> None:
    assert set(inspector.DIRECTION_WORDS) == set(optimizers.names())
    assert set(inspector.DIRECTION_SYMBOL) == set(optimizers.names())
    words = inspector.DIRECTION_WORDS["muon"]
    assert "orthogonaliz" in words and "singular value" in words and "direction" in words
    # the length it quotes is what Newton-Schulz leaves of a row: measured on a real Muon step
    optimizer = optimizers.get("muon", lr=1.0, weight_decay=0.0)
    p = np.array([[3.0, -7.0]])
    moved = np.linalg.norm(optimizer.update(np.array([[5.0, 1.0]]), optimizer.init(p), p)[0] - p)
    assert f"{moved:.2f}" in words


def test_blocks_render_in_katex(tmp_path) -> None:
    node, katex = shutil.which("node"), _katex_module()
    if node is None or katex is None:
        pytest.skip("needs node and Streamlit's bundled KaTeX")
    module = tmp_path / "katex.mjs"
    shutil.copy(katex, module)
    script = tmp_path / "check.mjs"
    script.write_text(
        "import { readFileSync } from 'fs';\n"
        "const katex = (await import(process.argv[2])).default;\n"
        "const inputs = JSON.parse(readFileSync(0, 'utf8'));\n"
        "const errors = [];\n"
        "for (const s of inputs) {\n"
        "  try { katex.renderToString(s, {throwOnError: true, displayMode: true}); errors.push(''); }\n"
        "  catch (e) { errors.push(e.message); }\n"
        "}\n"
        "console.log(JSON.stringify(errors));\n"
    )
    blocks = [_block(name, settings, 2) for name, settings in CASES]
    done = subprocess.run(
        [node, str(script), module.as_uri()],
        input=json.dumps([*blocks, r"\frac{1}{"]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    *errors, broken = json.loads(done.stdout)
    assert errors == [""] * len(blocks), [(case, e) for case, e in zip(IDS, errors, strict=True) if e]
    assert broken.startswith("KaTeX parse error")
