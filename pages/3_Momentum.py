"""Momentum: none vs heavy ball vs Nesterov in a ravine, and the (lr, momentum) phase map with its theory."""
import numpy as np
import streamlit as st

from lossviz import expr, surfaces, torch_export
from lossviz.lessons import learning_rate as lr_sweep
from lossviz.lessons import momentum as phase_map
from lossviz.lessons.momentum import METHOD_TITLES, MOMENTUM_SCENARIOS
from lossviz.ui import cache, nav, url
from lossviz.ui.errors import shown_errors
from lossviz.viz import learning_rate as hyper
from lossviz.viz.landscape import PALETTE, Path, contour_figure

st.set_page_config(page_title="Momentum · lossviz", layout="wide")
nav.sidebar()
st.title("Momentum")
st.markdown(
    "In a ravine the gradient points mostly across the valley, so plain gradient descent bounces between "
    "the walls and crawls along the floor. **Heavy-ball momentum** keeps a running sum of past gradients: "
    "the bounces cancel, the push along the floor adds up, and the error shrinks like √β per step instead of "
    "1 − lr·λ_min. **Nesterov** evaluates the push one step ahead, which damps the bounces sooner but lowers "
    "its stability limit. Drag the **momentum slider under the map** to see every β without waiting for the "
    "server; the phase map then shows all (lr, β) pairs at once, with the theory's stability boundary and "
    "optimum drawn on top. Click any cell to see that run."
)

SURFACES = [*(n for n in surfaces.names() if len(surfaces.get(n).minima)), "custom"]
TOLERANCES = ("1e-3", "1e-6", "1e-9")
SIDES = ("64", "80", "96")
FIELDS = [
    url.choice_field("surface", "quadratic", SURFACES),
    url.float_field("kappa", 100.0, 1.0, 1000.0), url.float_field("rotation", 30.0, -180.0, 180.0),
    url.Field("formula", "sin(x)*cos(y) + 0.1*(x^2 + y^2)", str),
    *(url.float_field(k, v, -1e6, 1e6) for k, v in (("xmin", -3.0), ("xmax", 3.0), ("ymin", -3.0), ("ymax", 3.0))),
    url.float_field("x0", -2.5, -1e6, 1e6), url.float_field("y0", 2.0, -1e6, 1e6),
    url.int_field("steps", 150, 10, 500),
    url.float_field("lr", 0.5, 0.01, 2.0), url.float_field("momentum", 0.9, 0.0, 0.99),
    url.choice_field("method", "heavy_ball", phase_map.METHODS),
    url.choice_field("metric", "final", ["steps", "final"]),
    url.choice_field("side", "64", SIDES), url.choice_field("tol", "1e-3", TOLERANCES),
    url.int_field("cell_row", -1, -1, 127), url.int_field("cell_col", -1, -1, 127),
]
DEFAULTS = {f.key: f.default for f in FIELDS}

notices = url.seed_from_url("momentum", FIELDS)
for notice in notices:
    st.warning(notice)

with st.sidebar:
    st.header("Classroom scenarios")
    choice = st.selectbox("scenario", ["—", *MOMENTUM_SCENARIOS], key="scenario_pick",
                          format_func=lambda n: n if n == "—" else MOMENTUM_SCENARIOS[n].title)
    if st.button("Load scenario", disabled=choice == "—", width="stretch"):
        url.apply_values(DEFAULTS | MOMENTUM_SCENARIOS[choice].settings | {"scenario_note": choice})
        st.rerun()
    st.header("Surface")
    surface_name = st.selectbox("surface", SURFACES, key="surface",
                                format_func=lambda n: "Custom formula" if n == "custom" else surfaces.get(n).title)
    params, formula, domain = {}, "", None
    if surface_name == "quadratic":
        params = {"condition_number": st.slider("condition number κ", 1.0, 1000.0, key="kappa"),
                  "rotation": st.slider("rotation (degrees)", -180.0, 180.0, key="rotation")}
    if surface_name == "custom":
        formula = st.text_input("f(x, y) =", key="formula", max_chars=expr.MAX_LENGTH)
        c1, c2 = st.columns(2)
        domain = ((c1.number_input("x min", key="xmin"), c2.number_input("x max", key="xmax")),
                  (c1.number_input("y min", key="ymin"), c2.number_input("y max", key="ymax")))
    c1, c2 = st.columns(2)
    start = (c1.number_input("start x", key="x0", format="%.4g"),
             c2.number_input("start y", key="y0", format="%.4g"))
    # The phase map records every cell's params and gradients: 96 x 96 cells x 500 steps is 74 MB each.
    steps = st.slider("steps", 10, 500, key="steps")
    st.header("Optimizer")
    lr_fraction = st.slider("learning rate (× 2/λ_max)", 0.01, 2.0, step=0.001, format="%.3f", key="lr")
    momentum = st.slider("momentum β", 0.0, 0.99, step=0.01, key="momentum")
    st.header("Phase map")
    method = st.radio("method", phase_map.METHODS, key="method", format_func=METHOD_TITLES.get, horizontal=True)
    metric = st.radio("colour by", ["final", "steps"], key="metric", horizontal=True,
                      format_func={"steps": "steps to tolerance", "final": "final loss"}.get)
    side = int(st.select_slider("cells per side", SIDES, key="side"))
    tol = float(st.select_slider("tolerance (× start distance)", TOLERANCES, key="tol"))

shared = set(DEFAULTS) - ({"kappa", "rotation"} if surface_name != "quadratic" else set())
shared -= {"formula", "xmin", "xmax", "ymin", "ymax"} if surface_name != "custom" else set()


@st.cache_resource(max_entries=32, show_spinner=False)
def curvature_of(key: tuple, start: tuple) -> lr_sweep.Curvature:
    return lr_sweep.reference_curvature(cache.build_surface(key), np.array(start), find_minimum=True)


@st.cache_resource(max_entries=32, show_spinner="Running the three methods…")
def compared(key: tuple, start: tuple, lr: float, momentum: float, steps: int):
    surface, curvature = cache.build_surface(key), curvature_of(key, start)
    frames = phase_map.momentum_frames(surface, np.array(start), lr, steps, phase_map.frame_momenta(momentum))
    return phase_map.compare_momentum(surface, np.array(start), lr, momentum, steps, curvature), frames


@st.cache_resource(max_entries=16, show_spinner="Computing the phase map (one run of every cell)…")
def mapped(key: tuple, start: tuple, steps: int, method: str, side: int, tol: float) -> phase_map.PhaseMap:
    return phase_map.phase_map(cache.build_surface(key), np.array(start), steps, method=method, n_lr=side,
                               n_momentum=side, rel_tol=tol, curvature=curvature_of(key, start))


key = cache.surface_key(surface_name, params, formula, domain)
curvature = None
with shown_errors():
    surface = cache.build_surface(key)
    xs, ys, Z = cache.surface_grid(key, 81)
    curvature = curvature_of(key, start)
if curvature is None:
    url.write([f for f in FIELDS if f.key in shared])  # so a link to the refused formula shows the same message
    st.stop()
lr = lr_fraction * curvature.max_stable_lr
floor = surface.min_value if surface.min_value is not None else float(surface.f(curvature.point))
note = st.session_state.get("scenario_note")
if note in MOMENTUM_SCENARIOS:
    changed = [k for k, v in MOMENTUM_SCENARIOS[note].settings.items() if st.session_state.get(k) != v]
    if changed:
        st.caption(f"Scenario “{MOMENTUM_SCENARIOS[note].title}” loaded, then changed "
                   f"({', '.join(changed[:4])}): its text no longer describes this picture. Load it again "
                   "to return.")
    else:
        st.info(f"**{MOMENTUM_SCENARIOS[note].title}.** {MOMENTUM_SCENARIOS[note].explanation}")
st.caption(f"**{surface.title}.** At {curvature.where}: λ_max = {curvature.lambda_max:.4g}, λ_min = "
           f"{curvature.lambda_min:.4g} (κ = {curvature.condition_number:.4g}). lr = {lr_fraction:g} × 2/λ_max = "
           f"**{lr:.4g}**, β = **{momentum:g}**.")

st.subheader("None vs heavy ball vs Nesterov")
comparison = None
with shown_errors():
    comparison, frames = compared(key, start, lr, momentum, steps)
if comparison is not None:
    active = int(np.argmin(np.abs(frames.momenta - momentum)))
    left, right = st.columns([3, 2])
    left.plotly_chart(hyper.momentum_slider_figure(
        xs, ys, Z, gd_path=comparison.trajectories[0].params, momenta=frames.momenta,
        heavy_ball=frames.heavy_ball, nesterov=frames.nesterov, active=active, minima=surface.minima,
        log_scale=surface.log_scale, min_value=surface.min_value, start=start), width="stretch", key="ravine_chart")
    with np.errstate(invalid="ignore"):
        distances = [np.linalg.norm(t.params - curvature.point, axis=-1) for t in comparison.trajectories]
    right.plotly_chart(hyper.rate_curves_figure(
        [(label, PALETTE[i], d) for i, (label, d) in enumerate(zip(comparison.labels, distances))],
        comparison.theory_rates, ylabel="distance to the minimum"), width="stretch", key="rate_chart")
    rows = [f"**{label}**: theory ρ = {rho:.4g}, measured {m:.4g}" if np.isfinite(m) else
            f"**{label}**: theory ρ = {rho:.4g}" + (" > 1: diverges" if rho > 1 else "")
            for label, rho, m in zip(comparison.labels, comparison.theory_rates, comparison.measured_rates)]
    right.caption("Contraction of the distance per step (second half of the run): " + "; ".join(rows) + ". The "
                  "slider under the map replays heavy ball and Nesterov for every β at this lr, precomputed.")

st.subheader(f"Phase map: {METHOD_TITLES[method]} over (lr, momentum)")
result = None
with shown_errors():
    result = mapped(key, start, steps, method, side, tol)
if result is not None:
    n_rows, n_cols = result.steps_to_tol.shape
    chart_key = f"phase_chart_{st.session_state.setdefault('_phase_clicks', 0)}"
    picked = st.session_state.get(chart_key, {}).get("selection", {}).get("points", [])
    if picked:
        cell = result.nearest_cell(picked[0]["x"], picked[0]["y"])
        st.session_state["cell_row"], st.session_state["cell_col"] = cell
        st.session_state["_phase_clicks"] += 1
        chart_key = f"phase_chart_{st.session_state['_phase_clicks']}"
    row, col = st.session_state.get("cell_row", -1), st.session_state.get("cell_col", -1)
    clicked = 0 <= row < n_rows and 0 <= col < n_cols
    if not clicked and np.isfinite(result.optimal.lr):
        row, col = result.nearest_cell(result.optimal.lr, result.optimal.momentum)
    elif not clicked:
        row, col = 0, 0
    cell_lr, cell_momentum = result.settings(row, col)
    values = result.steps_to_tol if metric == "steps" else result.final_loss - floor
    label = f"steps to {tol:g} × start distance" if metric == "steps" else "final loss − minimum"
    left, right = st.columns([3, 2])
    left.plotly_chart(hyper.phase_map_figure(
        result.lrs, result.momenta, values, diverged=result.diverged, grew=result.grew, value_label=label,
        boundary_lrs=result.boundary(), boundary_label=f"theory: stability boundary ({METHOD_TITLES[method]})",
        optimal=(result.optimal.lr, result.optimal.momentum), selected=(cell_lr, cell_momentum),
        log_color=metric == "final"), width="stretch", key=chart_key, on_select="rerun", selection_mode="points",
        theme=None)
    run = phase_map.cell_trajectory(surface, result, row, col)
    path = Path(f"lr {cell_lr:.4g}, β {cell_momentum:.3f}", PALETTE[1], run.params, run.loss,
                int(run.diverged_at))
    right.plotly_chart(contour_figure(xs, ys, Z, paths=[path], minima=surface.minima, start=start, height=480,
                                      log_scale=surface.log_scale, min_value=surface.min_value),
                       width="stretch", key="cell_chart")
    steps_text = (f"reaches the tolerance at step {result.steps_to_tol[row, col]:.0f}"
                  if result.converged[row, col] else "diverged" if result.diverged[row, col]
                  else f"does not reach the tolerance in {steps} steps")
    right.caption(("Clicked cell" if clicked else "No cell clicked yet; showing the one nearest the theoretical "
                   "optimum") + f": lr {cell_lr:.4g}, β {cell_momentum:.3f} {steps_text}.")
    mismatch = (result.diverged | result.grew) != result.theory_unstable
    if result.diverged.all():
        fastest = "every cell diverged from this start"
    else:
        best_row, best_col = result.best_cell()
        fastest = f"the fastest cell is lr {result.lrs[best_col]:.4g}, β {result.momenta[best_row]:.3f}"
    formula = "2(1+β)/((1+2β)λ_max)" if result.nesterov else "2(1+β)/λ_max"
    grey = f" Grey cells did not get within the tolerance in {steps} steps." if metric == "steps" else ""
    st.caption(f"{n_rows}×{n_cols} = {n_rows * n_cols:,} runs of {steps} steps in one vectorized run. Theory: "
               f"stable left of the dashed line, lr < {formula}; the star is the rate-optimal tuning lr = "
               f"{result.optimal.lr:.4g}, β = {result.optimal.momentum:.3g} (ρ = {result.optimal.rate:.4g}). "
               f"Measured: {int(mismatch.sum())} of {mismatch.size:,} cells disagree with the line about "
               f"stability; {fastest}.{grey}")

url.write([f for f in FIELDS if f.key in shared])

st.subheader("Export")
c1, c2 = st.columns(2)
if result is not None:
    c1.download_button("Phase map (CSV)", result.to_frame().to_csv(index=False), "lossviz_phase_map.csv",
                       "text/csv")
if comparison is not None:
    c2.download_button("Trajectories (CSV)", comparison.to_frame().to_csv(index=False),
                       "lossviz_momentum_trajectories.csv", "text/csv")
    with st.expander("Equivalent PyTorch code"):
        runs = list(zip(comparison.labels, comparison.optimizers))
        if result is not None:
            runs.append((f"phase-map cell: lr {cell_lr:.4g}, β {cell_momentum:.3f}",
                         result.cell_optimizer(row, col)))
        for label, optimizer in runs:
            st.markdown(f"**{label}**")
            st.code(torch_export.torch_code(optimizer, steps=steps, x0=start,
                                            objective_expr=surface.torch_expr or None), language="python")
