"""The new optimizers against their references, step by step, in float64.

References (none of them lossviz code): torch.optim's Rprop, ASGD, Adafactor, LBFGS and Muon;
lion_pytorch.Lion; pytorch_optimizer.SignSGD and SAM; schedulefree's SGDScheduleFree and
AdamWScheduleFree; for Newton's method, torch.autograd's Hessian with torch.linalg. Every optimizer runs
200 steps on Rosenbrock and on a model on data (logistic regression, and a 2-6-2 MLP for the optimizers
that treat weight matrices as matrices), with per-run hyperparameter arrays: one lossviz ``run`` of R
runs against R separate reference runs.

Tolerances: rtol 1e-10 where the reference is float64 throughout. Where it is not, or where round-off is
amplified, the case says so: torch fuses multiply-adds (one rounding where NumPy has two) and
differentiates its own expression of the loss, so the two sides differ in the last bit from the first
step; most optimizers keep that difference at 1e-15, but

- SAM: the reference computes the gradient norm in float32, so a last-bit difference can move the norm
  by one float32 step (6e-8 relative) and the perturbation by rho * 6e-8: whole trajectories agree to
  1e-6, and every single step taken from the reference's own iterate and state agrees to 1e-12.
- Muon: torch runs Newton-Schulz in bfloat16. With it replaced by the same iteration in float64,
  trajectories agree to 1e-10; with torch's bfloat16, each step taken from torch's own state agrees to
  1e-1 relative to the step's length (bfloat16 keeps 8 bits; measured up to 5e-2).
- L-BFGS with fixed steps (no line search) takes up to 20 unsafeguarded inner steps per outer step
  along a curved valley, which multiplies round-off; on Rosenbrock it agrees to 1e-8, with the strong
  Wolfe line search to 1e-10.
- Sign-like updates (Lion, sign descent, Rprop, Adafactor once V tracks g^2, Muon's orthogonalization
  of a nearly rank-deficient momentum) are discontinuous where a gradient coordinate vanishes, so a
  settings whose path ends oscillating around a minimum can turn a last-bit difference into a visible
  one; the cases below converge without that (Muon's MLP rates in particular are the moderate ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import lion_pytorch
import numpy as np
import pytest
import pytorch_optimizer
import schedulefree
import torch
import torch.optim._muon as torch_muon

from lossviz import models, optimizers, surfaces
from lossviz.run import run

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: threads only add waiting on a shared machine

STEPS = 200
ROSENBROCK = surfaces.get("rosenbrock")
ROSENBROCK_START = np.array([-1.2, 1.0])
_RNG = np.random.default_rng(7)
DATA_X = _RNG.normal(size=(64, 2))
DATA_Y = (DATA_X[:, 0] * DATA_X[:, 1] + 0.3 * _RNG.normal(size=64) > 0).astype(float)
LOGISTIC = models.logistic_regression(DATA_X, DATA_Y)
LOGISTIC_START = np.array([0.5, -1.0, 0.2])
MLP = models.mlp(DATA_X, DATA_Y, hidden=(6,), activation="tanh")
MLP_START = MLP.init_params(seed=3)


# --------------------------------------------------------------------------------------- torch mirrors
class Mirror:
    """The same objective in torch: one leaf tensor per parameter tensor, laid out as torch would hold
    it (a surface's point as one vector, or as a 1 x 2 row for Muon; a layer's weights as nn.Linear's
    (fan_out, fan_in) matrix)."""

    def __init__(self, objective, row: bool = False) -> None:
        self.objective = objective
        self.row = row

    def tensors(self, flat: np.ndarray) -> list[torch.Tensor]:
        if isinstance(self.objective, surfaces.Surface):
            values = flat.reshape(1, -1) if self.row else flat
            return [torch.tensor(values.copy(), requires_grad=True)]
        out = []
        for s in self.objective.layer_slices:
            values = flat[s.slice].reshape(s.shape)
            out.append(
                torch.tensor(values.T.copy() if s.kind == "weight" else values.copy(), requires_grad=True)
            )
        return out

    def flatten(self, tensors: list[torch.Tensor]) -> np.ndarray:
        if isinstance(self.objective, surfaces.Surface):
            return tensors[0].detach().numpy().reshape(-1).copy()
        return np.concatenate(
            [t.detach().numpy().T.reshape(-1) if t.ndim == 2 else t.detach().numpy() for t in tensors]
        )

    def loss(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        if isinstance(self.objective, surfaces.Surface):
            x, y = tensors[0].reshape(-1)
            return eval(self.objective.torch_expr, {"torch": torch, "x": x, "y": y})
        h = torch.tensor(self.objective.X)
        for i in range(0, len(tensors), 2):
            h = h @ tensors[i].T + tensors[i + 1]
            if i + 2 < len(tensors):
                h = torch.tanh(h)
        if self.objective.n_outputs == 1:
            return torch.nn.functional.binary_cross_entropy_with_logits(
                h[:, 0], torch.tensor(self.objective.y)
            )
        return torch.nn.functional.cross_entropy(h, torch.tensor(self.objective.y).long())


def reference_path(
    mirror: Mirror,
    x0: np.ndarray,
    steps: int,
    build: Callable,
    call: str = "step",
    record: Callable | None = None,
) -> tuple[np.ndarray, list]:
    """The reference's iterates (steps + 1, d), and ``record(optimizers, tensors)`` after every step."""
    tensors = mirror.tensors(x0)
    built = build(tensors)
    opts = built if isinstance(built, list) else [built]
    for opt in opts:
        if hasattr(opt, "train"):
            opt.train()
    path, extra = [mirror.flatten(tensors)], [record(opts, tensors) if record else None]
    for _ in range(steps):

        def closure():
            for opt in opts:
                opt.zero_grad()
            loss = mirror.loss(tensors)
            loss.backward()
            return loss

        if call == "closure":
            opts[0].step(closure)
        elif call == "sam":
            closure()
            opts[0].step(closure)
        else:
            closure()
            for opt in opts:
                opt.step()
        path.append(mirror.flatten(tensors))
        extra.append(record(opts, tensors) if record else None)
    return np.array(path), extra


def stack(settings: list[dict]) -> dict:
    """R runs' settings as one lossviz call: numbers become arrays (R,), tuples per component."""
    assert all(set(s) == set(settings[0]) for s in settings), "every run must set the same keys"
    out = {}
    for key, first in settings[0].items():
        values = [s[key] for s in settings]
        if isinstance(first, tuple):
            out[key] = tuple(
                np.array([v[i] for v in values]) if all(v[i] is not None for v in values) else None
                for i in range(len(first))
            )
        elif isinstance(first, (bool, str, int)) or first is None:
            assert all(v == first for v in values), f"{key} must be shared by the runs"
            out[key] = first
        else:
            out[key] = np.array(values, dtype=float)
    return out


# ---------------------------------------------------------------------------------------- the references
def _sgd_kwargs(s: dict) -> dict:
    return {k: v for k, v in s.items() if k not in ("rho", "adaptive", "base_optimizer")}


TORCH_CLASS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def schedule_free_x(opts, tensors) -> np.ndarray:
    """schedulefree's evaluation point x = y.lerp(z, 1 - 1/beta1), read without switching its mode."""
    opt = opts[0]
    group = opt.param_groups[0]
    beta1 = group["betas"][0] if "betas" in group else group["momentum"]
    return np.concatenate(
        [
            t.detach().lerp(opt.state[t]["z"], 1 - 1 / beta1).numpy().reshape(-1)
            if "z" in opt.state[t]
            else t.detach().numpy().reshape(-1)
            for t in tensors
        ]
    )


REFERENCES: dict[str, Callable[[list, dict], object]] = {
    "rprop": lambda ps, s: torch.optim.Rprop(ps, foreach=False, **s),
    "asgd": lambda ps, s: torch.optim.ASGD(ps, foreach=False, **s),
    "adafactor": lambda ps, s: torch.optim.Adafactor(ps, foreach=False, **s),
    "lbfgs": lambda ps, s: torch.optim.LBFGS(ps, **s),
    "lion": lambda ps, s: lion_pytorch.Lion(ps, **s),
    "signsgd": lambda ps, s: pytorch_optimizer.SignSGD(ps, foreach=False, **s),
    "sam": lambda ps, s: pytorch_optimizer.SAM(
        ps,
        TORCH_CLASS[s.get("base_optimizer", "sgd")],
        **_sgd_kwargs(s),
        rho=s["rho"],
        adaptive=s.get("adaptive", False),
    ),
    "schedule_free_sgd": lambda ps, s: schedulefree.SGDScheduleFree(ps, **s),
    "schedule_free_adamw": lambda ps, s: schedulefree.AdamWScheduleFree(ps, **s),
}


def muon_reference(ps: list, s: dict) -> list:
    """torch's Muon on the matrices and, as its docs pair them, AdamW on the rest (lossviz's adamw_*)."""
    aux = {"lr": s.get("adamw_lr") or s["lr"]}
    muon_kwargs = {k: v for k, v in s.items() if not k.startswith("adamw")}
    matrices = [p for p in ps if p.ndim == 2]
    rest = [p for p in ps if p.ndim != 2]
    return [torch.optim.Muon(matrices, **muon_kwargs)] + ([torch.optim.AdamW(rest, **aux)] if rest else [])


REFERENCES["muon"] = muon_reference


def float64_newton_schulz(grad, ns_coefficients, ns_steps, eps):
    """torch's _zeropower_via_newtonschulz line for line, in float64 instead of bfloat16."""
    a, b, c = ns_coefficients
    x = grad.double()
    tall = grad.size(0) > grad.size(1)
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        update = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        x = torch.addmm(x, update, x, beta=a)
    return x.T if tall else x


@dataclass
class Case:
    id: str
    name: str
    runs: list[dict]
    objective: str = "rosenbrock"
    call: str = "step"
    rtol: float = 1e-10
    atol: float = 1e-12
    steps: int = STEPS
    float64_muon: bool = False
    paths: dict = field(default_factory=dict)  # lossviz path name -> reference recorder


OBJECTIVES = {
    "rosenbrock": (ROSENBROCK, ROSENBROCK_START),
    "logistic": (LOGISTIC, LOGISTIC_START),
    "mlp": (MLP, MLP_START),
}


def _asgd_ax(opts, tensors):
    return np.concatenate(
        [
            opts[0].state[t]["ax"].numpy().reshape(-1) if opts[0].state[t] else t.detach().numpy().reshape(-1)
            for t in tensors
        ]
    )


CASES = [
    Case(
        "rprop-rosenbrock",
        "rprop",
        [
            {"lr": 1e-3, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0)},
            {"lr": 1e-2, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.1)},
        ],
    ),
    Case(
        "rprop-logistic",
        "rprop",
        [{"lr": 1e-2, "etas": (0.5, 1.2)}, {"lr": 0.1, "etas": (0.7, 1.1)}],
        "logistic",
    ),
    Case(
        "asgd-rosenbrock",
        "asgd",
        [
            {"lr": 1e-3, "lambd": 1e-4, "alpha": 0.75, "t0": 20.0, "weight_decay": 0.0},
            {"lr": 5e-4, "lambd": 1e-2, "alpha": 0.5, "t0": 50.0, "weight_decay": 0.1},
        ],
        paths={"ax": _asgd_ax},
    ),
    Case(
        "asgd-logistic",
        "asgd",
        [{"lr": 0.5, "t0": 10.0}, {"lr": 0.1, "t0": 100.0}],
        "logistic",
        paths={"ax": _asgd_ax},
    ),
    Case(
        "adafactor-rosenbrock",
        "adafactor",
        [
            {"lr": 1e-2, "beta2_decay": -0.8, "eps": (None, 1e-3), "d": 1.0, "weight_decay": 0.0},
            {"lr": 0.3, "beta2_decay": -0.5, "eps": (None, 1e-2), "d": 2.0, "weight_decay": 0.1},
        ],
    ),
    # Near a minimum Adafactor's U = g / sqrt(V) is almost sign(g) (V follows g^2 closely), which a
    # last-bit difference in a vanishing gradient can flip: these rates converge without reaching that.
    Case(
        "adafactor-logistic",
        "adafactor",
        [{"lr": 0.01, "eps": (1e-20, 1e-3)}, {"lr": 0.005, "eps": (1e-12, 1e-2)}],
        "logistic",
    ),
    Case(
        "adafactor-mlp-factored",
        "adafactor",
        [{"lr": 0.005, "weight_decay": 0.01}, {"lr": 0.003, "weight_decay": 0.0}],
        "mlp",
    ),
    Case(
        "lbfgs-wolfe-rosenbrock",
        "lbfgs",
        [
            {"lr": 1.0, "line_search_fn": "strong_wolfe", "tolerance_grad": 1e-7},
            {"lr": 0.5, "line_search_fn": "strong_wolfe", "tolerance_grad": 1e-5},
        ],
        call="closure",
    ),
    # A history of three curvature pairs on Rosenbrock amplifies the last bits of the dot products, which
    # depend on the CPU's vector width: 7e-10 apart on an AMD EPYC without AVX-512, within 1e-10 with it.
    Case(
        "lbfgs-wolfe-small-history",
        "lbfgs",
        [
            {"lr": 0.5, "max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"},
            {"lr": 0.8, "max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"},
        ],
        call="closure",
        rtol=1e-8,
        atol=1e-10,
    ),
    Case(
        "lbfgs-fixed-rosenbrock", "lbfgs", [{"lr": 1.0}, {"lr": 0.25}], call="closure", rtol=1e-8, atol=1e-10
    ),
    Case(
        "lbfgs-fixed-logistic",
        "lbfgs",
        [{"lr": 1.0, "max_iter": 10}, {"lr": 0.5, "max_iter": 10}],
        "logistic",
        call="closure",
    ),
    Case(
        "lbfgs-wolfe-logistic",
        "lbfgs",
        [{"lr": 1.0, "line_search_fn": "strong_wolfe"}, {"lr": 0.3, "line_search_fn": "strong_wolfe"}],
        "logistic",
        call="closure",
    ),
    Case(
        "muon-rosenbrock-float64-ns",
        "muon",
        [
            {"lr": 1e-3, "momentum": 0.95, "weight_decay": 0.1, "nesterov": True},
            {"lr": 1e-2, "momentum": 0.5, "weight_decay": 0.0, "nesterov": True},
        ],
        float64_muon=True,
    ),
    Case(
        "muon-rosenbrock-plain-momentum",
        "muon",
        [
            {"lr": 3e-3, "momentum": 0.9, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"},
            {"lr": 1e-3, "momentum": 0.8, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"},
        ],
        float64_muon=True,
    ),
    Case(
        "muon-mlp-float64-ns",
        "muon",
        [{"lr": 2e-3, "momentum": 0.9, "adamw_lr": 3e-3}, {"lr": 5e-3, "momentum": 0.95, "adamw_lr": 1e-3}],
        "mlp",
        float64_muon=True,
    ),
    Case(
        "lion-rosenbrock",
        "lion",
        [
            {"lr": 1e-3, "betas": (0.9, 0.99), "weight_decay": 0.1},
            {"lr": 1e-4, "betas": (0.5, 0.9), "weight_decay": 0.0},
        ],
    ),
    Case(
        "lion-decoupled",
        "lion",
        [
            {"lr": 1e-3, "weight_decay": 0.1, "decoupled_weight_decay": True},
            {"lr": 3e-3, "weight_decay": 1.0, "decoupled_weight_decay": True},
        ],
    ),
    Case(
        "lion-logistic",
        "lion",
        [{"lr": 1e-2, "betas": (0.9, 0.99)}, {"lr": 3e-2, "betas": (0.95, 0.98)}],
        "logistic",
    ),
    Case(
        "signsgd-rosenbrock",
        "signsgd",
        [
            {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
            {"lr": 1e-2, "momentum": 0.0, "weight_decay": 0.1},
        ],
    ),
    Case(
        "signsgd-coupled-decay",
        "signsgd",
        [
            {"lr": 1e-3, "momentum": 0.5, "weight_decay": 0.1, "weight_decouple": False},
            {"lr": 3e-3, "momentum": 0.0, "weight_decay": 0.3, "weight_decouple": False},
        ],
    ),
    Case(
        "signsgd-logistic",
        "signsgd",
        [{"lr": 1e-2, "momentum": 0.9}, {"lr": 1e-2, "momentum": 0.0}],
        "logistic",
    ),
    Case(
        "sam-sgd-rosenbrock",
        "sam",
        [
            {"base_optimizer": "sgd", "rho": 0.05, "lr": 1e-3, "momentum": 0.9},
            {"base_optimizer": "sgd", "rho": 0.02, "lr": 1e-3, "momentum": 0.5},
        ],
        call="sam",
        rtol=1e-6,
    ),
    Case(
        "sam-adam-adaptive",
        "sam",
        [
            {"base_optimizer": "adam", "rho": 0.1, "adaptive": True, "lr": 1e-2},
            {"base_optimizer": "adam", "rho": 0.5, "adaptive": True, "lr": 3e-3},
        ],
        call="sam",
        rtol=1e-6,
    ),
    Case(
        "sam-sgd-mlp",
        "sam",
        [
            {"base_optimizer": "sgd", "rho": 0.05, "lr": 0.1, "momentum": 0.9},
            {"base_optimizer": "sgd", "rho": 0.1, "lr": 0.05, "momentum": 0.9},
        ],
        "mlp",
        call="sam",
        rtol=1e-6,
        atol=1e-8,
    ),
    Case(
        "schedule-free-sgd-rosenbrock",
        "schedule_free_sgd",
        [
            {
                "lr": 1e-3,
                "momentum": 0.9,
                "weight_decay": 0.01,
                "warmup_steps": 10,
                "r": 0.0,
                "weight_lr_power": 2.0,
            },
            {
                "lr": 5e-4,
                "momentum": 0.5,
                "weight_decay": 0.0,
                "warmup_steps": 10,
                "r": 1.0,
                "weight_lr_power": 1.0,
            },
        ],
        paths={"x": schedule_free_x},
    ),
    Case(
        "schedule-free-sgd-logistic",
        "schedule_free_sgd",
        [{"lr": 0.5, "momentum": 0.9}, {"lr": 2.0, "momentum": 0.95}],
        "logistic",
        paths={"x": schedule_free_x},
    ),
    Case(
        "schedule-free-adamw-rosenbrock",
        "schedule_free_adamw",
        [
            {"lr": 1e-2, "betas": (0.9, 0.999), "weight_decay": 0.01, "warmup_steps": 20, "r": 0.5},
            {"lr": 3e-3, "betas": (0.5, 0.9), "weight_decay": 0.0, "warmup_steps": 20, "r": 0.0},
        ],
        paths={"x": schedule_free_x},
    ),
    Case(
        "schedule-free-adamw-logistic",
        "schedule_free_adamw",
        [{"lr": 0.05, "eps": 1e-8}, {"lr": 0.01, "eps": 1e-6}],
        "logistic",
        paths={"x": schedule_free_x},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_step_equals_the_reference(case: Case, monkeypatch) -> None:
    if case.float64_muon:
        monkeypatch.setattr(torch_muon, "_zeropower_via_newtonschulz", float64_newton_schulz)
    objective, x0 = OBJECTIVES[case.objective]
    optimizer = optimizers.get(case.name, **stack(case.runs))
    traj = run(objective, optimizer, x0, case.steps)
    assert traj.params.shape == (len(case.runs), case.steps + 1, objective.dim)
    mirror = Mirror(objective, row=case.name == "muon")
    recorders = case.paths
    record = (lambda opts, ts: {k: f(opts, ts) for k, f in recorders.items()}) if recorders else None
    for r, settings in enumerate(case.runs):
        reference, extra = reference_path(
            mirror, x0, case.steps, lambda ps, s=settings: REFERENCES[case.name](ps, s), case.call, record
        )
        assert np.all(np.isfinite(reference))
        assert np.abs(reference[-1] - x0).max() > 1e-2, "the comparison must cover real motion"
        np.testing.assert_allclose(traj.params[r], reference, rtol=case.rtol, atol=case.atol)
        for name in recorders:
            expected = np.array([e[name] for e in extra])
            np.testing.assert_allclose(traj.paths[name][r], expected, rtol=case.rtol, atol=case.atol)


# ------------------------------------------------------------------------------- step from their state
def test_sam_takes_the_references_step_from_the_references_state() -> None:
    """One step at a time from pytorch-optimizer's own iterate and momentum: equal to 1e-12 each step
    (only the whole path can drift, through the reference's float32 gradient norm)."""
    settings = {"rho": 0.1, "lr": 1e-3, "momentum": 0.9}
    mirror = Mirror(ROSENBROCK)
    (x,) = mirror.tensors(ROSENBROCK_START)
    reference = pytorch_optimizer.SAM([x], torch.optim.SGD, **settings)
    ours = optimizers.get("sam", **settings)
    state = ours.init(ROSENBROCK_START[None])
    from lossviz.run import StepObjective

    for t in range(STEPS):
        before = mirror.flatten([x])[None]
        if t > 0:
            buffer = reference.state[x]["momentum_buffer"].numpy()[None].copy()
            state = state._replace(base=state.base._replace(momentum_buffer=buffer))
        after, state = ours.update(
            ROSENBROCK.grad(before), state, before, objective=StepObjective(ROSENBROCK)
        )

        def closure():
            reference.zero_grad()
            loss = mirror.loss([x])
            loss.backward()
            return loss

        closure()
        reference.step(closure)
        np.testing.assert_allclose(after[0], mirror.flatten([x]), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("objective_name", ["rosenbrock", "mlp"])
def test_muon_takes_torchs_bfloat16_step_from_torchs_state(objective_name: str) -> None:
    """Against torch's real (bfloat16) Newton-Schulz: from torch's iterate and momentum each step, the
    update agrees to 1e-1 of its length (bfloat16 keeps 8 significant bits and every Gram product of the
    five iterations is rounded to it: measured up to 5e-2 on the MLP's matrices, 1e-3 on Rosenbrock's
    row), and points the same way (cosine > 0.99)."""
    objective, x0 = OBJECTIVES[objective_name]
    settings = {"lr": 0.02, "momentum": 0.9, "weight_decay": 0.0}
    mirror = Mirror(objective, row=True)
    tensors = mirror.tensors(x0)
    matrices = [t for t in tensors if t.ndim == 2]
    rest = [t for t in tensors if t.ndim != 2]
    reference = [torch.optim.Muon(matrices, **settings)] + ([torch.optim.SGD(rest, lr=0.0)] if rest else [])
    ours = optimizers.get("muon", **settings, adamw_lr=0.0)
    layout = optimizers.parameter_layout(objective)
    state = ours.init(x0[None], layout=layout)
    worst = 0.0
    for t in range(STEPS):
        before = mirror.flatten(tensors)[None]
        if t > 0:
            buffers = [reference[0].state[m]["momentum_buffer"] for m in matrices]
            state = state._replace(momentum_buffer=_flat_buffers(objective, buffers, x0.size))
        after, state = ours.update(objective.grad(before), state, before, layout=layout)
        for opt in reference:
            opt.zero_grad()
        mirror.loss(tensors).backward()
        for opt in reference:
            opt.step()
        theirs = mirror.flatten(tensors) - before[0]
        mine = after[0] - before[0]
        worst = max(worst, np.linalg.norm(mine - theirs) / np.linalg.norm(theirs))
        assert mine @ theirs > 0.99 * np.linalg.norm(mine) * np.linalg.norm(theirs)
    assert worst < 1e-1
    assert worst > 1e-6, "torch's bfloat16 iteration is not float64: the comparison must see it"


def _flat_buffers(objective, buffers: list, dim: int) -> np.ndarray:
    """torch's per-matrix momentum buffers written into lossviz's flat (R=1, d) layout."""
    out = np.zeros((1, dim))
    if isinstance(objective, surfaces.Surface):
        out[0] = buffers[0].numpy().reshape(-1)
        return out
    weights = [s for s in objective.layer_slices if s.kind == "weight"]
    for s, buffer in zip(weights, buffers, strict=True):
        out[0, s.slice] = buffer.numpy().T.reshape(-1)
    return out


# ----------------------------------------------------------------------------------------------- L-BFGS
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_records_every_function_evaluation_torch_makes(line_search_fn) -> None:
    settings = {"lr": 1.0 if line_search_fn else 0.5, "line_search_fn": line_search_fn}
    traj = run(ROSENBROCK, optimizers.get("lbfgs", **settings), ROSENBROCK_START, 8)
    mirror = Mirror(ROSENBROCK)
    (x,) = mirror.tensors(ROSENBROCK_START)
    reference = torch.optim.LBFGS([x], **settings)
    seen: list[np.ndarray] = []
    outer: list[bool] = []

    def closure():
        reference.zero_grad()
        seen.append(x.detach().numpy().copy())
        loss = mirror.loss([x])
        loss.backward()
        return loss

    for _ in range(8):
        start = len(seen)
        reference.step(closure)
        outer += [True] + [False] * (len(seen) - start - 1)
    evaluations = traj.evaluations()
    assert len(evaluations.points) == len(seen) > 8 * 3
    np.testing.assert_allclose(evaluations.points, np.array(seen), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(evaluations.outer, outer)
    np.testing.assert_allclose(evaluations.loss, ROSENBROCK.f(evaluations.points), rtol=1e-12)
    # each outer step starts where the trajectory's recorded point is
    starts = evaluations.points[evaluations.outer]
    np.testing.assert_allclose(starts, traj.params[: len(starts)], rtol=1e-12)
    assert reference.state[x]["func_evals"] == len(seen)


# ----------------------------------------------------------------------------------------------- Newton
def _torch_newton_path(
    x0: np.ndarray, lr: float, damping: float, saddle_free: bool, steps: int, surface=ROSENBROCK
) -> np.ndarray:
    x = torch.tensor(x0)
    path = [x.numpy().copy()]

    def f(v):
        return eval(surface.torch_expr, {"torch": torch, "x": v[0], "y": v[1]})

    for _ in range(steps):
        g = torch.autograd.functional.jacobian(f, x)
        h = torch.autograd.functional.hessian(f, x)
        if saddle_free:
            values, vectors = torch.linalg.eigh(h)
            step = vectors @ ((vectors.T @ g) / (values.abs() + damping))
        else:
            step = torch.linalg.solve(h + damping * torch.eye(2), g)
        x = x - lr * step
        path.append(x.numpy().copy())
    return np.array(path)


@pytest.mark.parametrize("saddle_free", [False, True])
def test_newton_equals_torch_autograd_hessian_and_linalg(saddle_free: bool) -> None:
    runs = [{"lr": 1.0, "damping": 0.0}, {"lr": 0.5, "damping": 1.0}, {"lr": 0.2, "damping": 10.0}]
    traj = run(
        ROSENBROCK, optimizers.get("newton", saddle_free=saddle_free, **stack(runs)), ROSENBROCK_START, STEPS
    )
    for r, settings in enumerate(runs):
        expected = _torch_newton_path(
            ROSENBROCK_START, settings["lr"], settings["damping"], saddle_free, STEPS
        )
        np.testing.assert_allclose(traj.params[r], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(traj.params[0, -1], [1.0, 1.0], atol=1e-12)  # Newton converges here


def test_newton_on_a_data_model_uses_differences_of_the_analytic_gradient() -> None:
    """Logistic regression has no analytic Hessian in lossviz: Newton differences its gradient; compared
    with torch's exact autograd Hessian step by step (central differences are accurate to ~1e-9 here)."""
    traj = run(LOGISTIC, optimizers.get("newton", damping=0.1), LOGISTIC_START, 30)
    mirror = Mirror(LOGISTIC)
    x = torch.tensor(LOGISTIC_START)

    def f(v):
        return mirror.loss([v[:2].reshape(1, 2), v[2:]])

    for t in range(30):
        g = torch.autograd.functional.jacobian(f, x)
        h = torch.autograd.functional.hessian(f, x)
        x = x - torch.linalg.solve(h + 0.1 * torch.eye(3), g)
        np.testing.assert_allclose(traj.params[t + 1], x.numpy(), rtol=1e-6, atol=1e-8)
