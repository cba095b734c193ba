"""Surface Explorer: race optimizers down a 2-D test function and inspect every step."""
import streamlit as st

from lossviz import plot, surfaces
from lossviz.lessons import explorer
from lossviz.ui import cache, controls, export, surface_picker, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.viz import explorer as figures

SURFACES = [*surfaces.names(), "custom"]
SLOTS = explorer.MAX_RACERS
FIELDS = [
    *surface_picker.surface_fields(SURFACES, kappa=50.0, rotation=0.0),
    url.int_field("steps", 60, 1, explorer.MAX_STEPS, "steps"),
    url.int_field("racers", 2, 1, SLOTS, "optimizers racing"),
    url.int_field("inspect_step", 0, 0, explorer.MAX_STEPS - 1, "inspect step"),
    url.bool_field("tune", False, "tune each racer's learning rate"),
    *(f for slot in range(1, SLOTS + 1) for f in controls.slot_fields(slot)),
]


def defaults_for(name: str, surface: str | None = None) -> dict:
    """Optimizer ``name``'s settings on ``surface`` (default: the current one)."""
    return surface_picker.racer_defaults(name, surface or url.current("surface"), url.current("kappa", 50.0),
                                         url.current("rotation", 0.0))


page = open_page("explorer", FIELDS, scenarios=explorer.SCENARIOS, default="ravine",
                 adapt=lambda d, q: surface_picker.link_defaults(d, q, SURFACES, defaults_for),
                 expand=lambda s: controls.expand(s, explorer.SPARE_RACERS, SLOTS,
                                                  lambda n: defaults_for(n, s["surface"])))
page.lesson(
    "Each optimizer starts at the same point and follows its own update rule downhill. The contour map "
    "(left) is the surface seen from above, the 3-D view (right) the same surface in relief. Press "
    "**Play** or drag the step slider under the map to replay the race in your browser, and the "
    "**learning rates** slider under it to see every racer at other rates, computed in advance; click on the "
    "map to move the start. Every setting is in the page's address: copy it to share this exact picture.")

page.scenario_picker()
choice = surface_picker.surface_picker("explorer", SURFACES, draw_start=False, on_switch=lambda old, new: {
    key: defaults_for(controls.lr_key_optimizer(key), new)["lr"]
    for key in controls.slot_lr_keys(SLOTS).values()})
fields = {f.key: f for f in FIELDS}
# The start and the steps, in their places in the sidebar, are drawn by race_section (a fragment).
start_slot, steps_slot = st.sidebar.container(), st.sidebar.container()
with st.sidebar:
    racers = int(widgets.slider(fields["racers"]))
    drawn = tuple(controls.optimizer_slot(slot, int(url.current("steps", fields["steps"].default)), st,
                                          defaults_for) for slot in range(1, racers + 1))
    tune = widgets.checkbox(fields["tune"], help="A fair race: sweep each racer's rate over 64 values (one "
                            "vectorized run each) and race every one at its best: the lowest loss after "
                            "the steps.")
active = choice.active_keys | {"steps", "racers", "inspect_step", "tune"} | {
    k for slot in range(1, racers + 1) for k in controls.active_keys(slot)}
page.write_link(active)
page.scenario_note(active, ignore=("inspect_step",))


@st.fragment
def race_section() -> None:
    """The start, the steps and everything they set (the race, its figures, the inspector, the exports):
    moving the start (a click on the map, or its inputs), the steps or the inspected step reruns this part
    only, not the sidebar's surface picker and optimizer slots."""
    start = surface_picker.start_inputs(start_slot, SURFACES, clicks="contour_chart")  # a click moves it
    steps = int(widgets.slider(fields["steps"], steps_slot))
    page.part_link(active)
    settings = tuple(controls.for_steps(slot, s, steps) for slot, s in enumerate(drawn, start=1))
    surface, xs, ys, Z, minima, settings, sweeps, entries, frames = page.computed(
        lambda: cache.explorer_race(choice.key, settings, start, steps, tune))

    choice.describe(surface)
    view_key = repr(choice.key)
    inspected = min(int(st.session_state.get("inspect_step", 0)), steps - 1)
    st.session_state["inspect_step"] = inspected
    contour = figures.contour(xs, ys, Z, surface, entries, minima, start, inspected, view_key)
    left, right = st.columns(2)
    page.chart(figures.with_lr_scrubber(contour, entries, frames), "contour_chart", left, clickable=True,
               main=True)
    relief = figures.surface3d(xs, ys, Z, surface, entries, minima, view_key)
    page.chart(relief, "surface_chart", right)
    for e in entries:
        (st.success if e.ok else st.warning)(f"**{e.label}**: {e.verdict}")
    if tune:
        page.chart(tuning := figures.tuning_curves(sweeps, entries, minima), "tuning_curve")
        st.caption("Each racer's final loss against its learning rate (64 rates, one vectorized run per "
                   "racer); the star is the rate it races at. A wide valley forgives a rough guess; "
                   "a narrow one does not.")
    c1, c2 = st.columns(2)
    page.chart(loss := figures.loss_curves(entries, minima), "loss_curve", c1)
    if len(minima.points):
        page.chart(distance := figures.distance_curves(entries, minima), "distance_curve", c2)
    else:
        c2.info("No minimum was found in the view, so there is no distance to plot." if minima.found
                else "This surface has no minimum, so there is no distance to plot.")

    st.subheader("Step inspector")
    if steps > 1:  # a slider needs two ends; a one-step race has only step 0 to inspect
        st.slider("inspect step", 0, steps - 1, key="inspect_step",
                  help="The arrows on the map show this step: dark grey, the negative gradient (scaled to "
                  "fit); in the optimizer's colour, the update it actually made.")
    st.caption("On the map: the dark grey arrow is −∇f at this step (scaled to fit), the coloured arrow the "
               "update each optimizer made. They differ wherever momentum or per-coordinate scaling acts.")
    for e in entries:
        title = f"{e.label}: update {inspected + 1} (step {inspected})"
        with st.expander(title, expanded=True), shown_errors():
            st.latex(figures.inspector_latex(e, inspected))

    st.subheader("Export")
    c1, c2 = st.columns(2)
    export.csv_button("Trajectories (CSV)", lambda: {e.label: e.trajectory.to_frame().drop(columns="run")
                      for e in entries}, "lossviz_trajectories.csv", c1, label="optimizer")
    export.html_button("Contour figure (HTML)", contour, "lossviz_contour.html", c2)
    export.animation_button(lambda: plot.animation(surface, entries, minima=minima), "lossviz_race", entries,
                            c2)
    export.image_buttons({"Contour map": contour, "3-D surface": relief, "Loss curves": loss,
                          "Distance curves": distance if len(minima.points) else None,
                          "Learning-rate tuning": tuning if tune else None}, "lossviz_explorer")
    with shown_errors():
        export.code_block(export.torch_scripts([(e.label, e.optimizer, e.schedule) for e in entries],
                                               steps=steps, x0=start,
                                               objective_expr=surface.torch_expr or None))


race_section()
