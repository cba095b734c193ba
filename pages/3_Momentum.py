"""Momentum: none vs heavy ball vs Nesterov in a ravine, and the (lr, momentum) phase map with its theory."""
import streamlit as st

from lossviz import surfaces
from lossviz.lessons import momentum as lesson
from lossviz.ui import budget, cache, export, surface_picker, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.ui.progress_cache import cached
from lossviz.viz import momentum as figures

SURFACES = [*(n for n in surfaces.names() if len(surfaces.get(n).minima)), "custom"]
OWN = [
    url.int_field("steps", 150, 10, 500, "steps"),
    url.float_field("lr", 0.9, 0.01, 2.0, "learning rate (× 2/λ_max)"),
    url.float_field("momentum", 0.6, 0.0, 0.99, "momentum β"),
    url.choice_field("method", "heavy_ball", lesson.METHODS, "phase-map method"),
    url.choice_field("metric", "final", ["final", "steps"], "colour by"),
    url.choice_field("side", "64", ("64", "80", "96"), "cells per side"),
    url.choice_field("tol", "1e-3", ("1e-3", "1e-6", "1e-9"), "tolerance (× start distance)"),
    url.int_field("cell_row", -1, -1, lesson.MAX_SIDE - 1, "clicked cell (row)"),
    url.int_field("cell_col", -1, -1, lesson.MAX_SIDE - 1, "clicked cell (column)"),
]
FIELDS = [*surface_picker.surface_fields(SURFACES, kappa=100.0, rotation=30.0, start=(-2.5, 2.0)), *OWN]
field = {f.key: f for f in OWN}
METRICS = {"final": "final loss", "steps": "steps to tolerance"}

page = open_page("momentum", FIELDS, scenarios=lesson.MOMENTUM_SCENARIOS, default="walls")
page.lesson(
    "In a ravine the gradient points mostly across the valley. With a learning rate near the limit "
    "2/λ_max, plain gradient descent overshoots the floor on every step: it bounces from wall to wall and "
    "crawls along the floor. **Heavy-ball momentum** keeps a running sum of past gradients: the pushes "
    "across the valley alternate and cancel, those along the floor add up, so it bounces less and gets "
    "much closer. **Nesterov** evaluates the push one step ahead, which lowers its stability limit to "
    "2(1+β)/((1+2β)λ_max). Drag the **momentum slider under the map** to see every β without waiting for the "
    "server; the phase map shows all (lr, β) pairs at once, with the theory's stability boundary and optimum "
    "on top. Click any cell to see its run.")
page.scenario_picker()
choice = surface_picker.surface_picker("momentum", SURFACES)
st.sidebar.header("Optimizer")
fraction = float(widgets.slider(field["lr"], st.sidebar, step=0.001, format="%.3f"))
beta_slot = st.sidebar.container()  # the momentum slider, drawn by race_section (a fragment)
steps = int(widgets.slider(field["steps"], st.sidebar))
active = choice.active_keys | set(field)
page.write_link(active)
page.scenario_note(active, ignore=("cell_row", "cell_col"))


def work(side: int) -> list[budget.Estimate]:
    """The cost of the three runs with the momentum frames, and of a phase map ``side`` cells on a side."""
    return [budget.runs(surface, steps + 20, 3 + 2 * 52, ("steps", steps, 10), calls=5, grid_points=81**2),
            budget.runs(surface, steps, side**2, ("steps", steps, 10), ("cells per side", side, 64),
                        calls=1 + side**2 * steps // 10**6)]


surface = page.computed(lambda: cache.build_surface(choice.key))
xs, ys, Z, curvature = page.computed(lambda: (*cache.surface_grid(choice.key, 81), cache.curvature(
    choice.key, choice.start)), work(int(url.current("side"))))
stars, floor = cache.reference_minimum(choice.key, choice.start)
start, lr, where = choice.start, fraction * curvature.max_stable_lr, (choice.key, choice.start)
maps = {"minima": stars, "min_value": floor, "log_scale": surface.log_scale, "start": start,
        "view_key": repr(choice.key)}
code = {"steps": steps, "x0": start, "objective_expr": surface.torch_expr or None}


@st.fragment
def race_section() -> None:
    """β and the three runs it sets: moving β reruns this part only (the phase map covers every β)."""
    beta = float(widgets.slider(field["momentum"], beta_slot, step=0.01))
    page.part_link(active)
    st.caption(lesson.setting_summary(surface.title, curvature, fraction, beta))
    st.subheader("None vs heavy ball vs Nesterov")
    with shown_errors():
        comparison, frames = cached("momentum_race", (*where, lr, beta, steps), lambda: (
            lesson.compare_momentum(surface, start, lr, beta, steps, curvature),
            lesson.momentum_frames(surface, start, lr, steps, lesson.frame_momenta(beta))))
        page.chart(figures.ravine(xs, ys, Z, comparison, frames, **maps), "ravine_chart", main=True)
        left, right = st.columns([3, 2])
        page.chart(figures.rates(comparison), "rate_chart", left)
        right.caption(lesson.rates_summary(comparison))
        export.csv_button("Trajectories (CSV)", comparison.to_frame, "lossviz_momentum_trajectories.csv",
                          right)
        export.code_block(export.torch_scripts(comparison.runs(), **code), title="PyTorch code: the 3 runs")


race_section()


@st.fragment
def phase_section() -> None:
    """The phase map, its controls and the clicked cell's run: a click or a control reruns this part only."""
    bar = st.sidebar
    bar.header("Phase map")
    method = widgets.radio(field["method"], bar, format_func=lesson.METHOD_TITLES.get, label="method")
    metric = widgets.radio(field["metric"], bar, format_func=METRICS.get)
    side, tol = int(widgets.radio(field["side"], bar)), float(widgets.radio(field["tol"], bar))
    st.subheader(f"Phase map: {lesson.METHOD_TITLES[method]} over (lr, momentum)")
    with shown_errors():
        if not budget.affordable(work(side)[1]):
            return
        result = cached("momentum_phase", (*where, steps, method, side, tol), lambda: lesson.phase_map(
            surface, start, steps, method=method, n_lr=side, n_momentum=side, rel_tol=tol,
            curvature=curvature))
        if click := surface_picker.new_click("phase_chart"):
            cell = result.nearest_cell(*(surface_picker.clicked(click, axis) for axis in "xy"))
            st.session_state["cell_row"], st.session_state["cell_col"] = cell
        page.write_link(active)
        row, col, clicked = lesson.default_cell(result, url.current("cell_row"), url.current("cell_col"))
        values = result.steps_to_tol if metric == "steps" else result.final_loss - floor
        label = f"steps to {tol:g} × start distance" if metric == "steps" else "final loss − minimum"
        left, right = st.columns([3, 2])
        page.chart(figures.phase_map(result, values, value_label=label, log_color=metric == "final",
                                     selected=result.settings(row, col), view_key=repr(where)),
                   "phase_chart", left, clickable=True)
        run = lesson.cell_trajectory(surface, result, row, col)
        page.chart(figures.cell_map(xs, ys, Z, result, row, col, run, **maps), "cell_chart", right)
        right.caption(lesson.cell_summary(result, row, col, clicked))
        st.caption(lesson.phase_summary(result, metric))
        export.csv_button("Phase map (CSV)", result.to_frame, "lossviz_phase_map.csv")
        cell = [(f"phase-map cell: {figures.cell_label(result, row, col)}", result.cell_optimizer(row, col),
                 None)]
        export.code_block(export.torch_scripts(cell, **code), title="PyTorch code: the clicked cell")


phase_section()
page.slides("lossviz_momentum")
