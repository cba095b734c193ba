"""Learning rate & decay: why a rate just above 2/λ_max diverges, which rate is best, what decay does."""
import streamlit as st

from lossviz import surfaces
from lossviz.lessons import learning_rate as lesson
from lossviz.ui import budget, cache, export, surface_picker, text, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.ui.progress_cache import cached
from lossviz.viz import learning_rate as figures

SURFACES = [*(n for n in surfaces.names() if len(surfaces.get(n).minima)), "custom"]
OWN = [
    url.int_field("steps", 80, 8, 2000, "steps"),
    url.list_field("lrs", lesson.LR_SCENARIOS["four_rates"].settings["lrs"], lesson.LR_CHOICES,
                   "rates to race (× 2/λ_max)", max_items=6),
    url.int_field("n_lrs", 300, 200, 1000, "learning rates in the sweep"),
    url.choice_field("axis", "linear", ["linear", "log"], "sweep spacing"),
    url.float_field("base", 0.95, 0.01, 1.5, "peak lr (× 2/λ_max)"),
    url.int_field("warmup", 0, 0, 500, "linear warm-up steps"),
    url.list_field("schedules", lesson.SCHEDULE_ORDER, lesson.SCHEDULE_ORDER, "schedules"),
]
FIELDS = [*surface_picker.surface_fields(SURFACES, kappa=10.0, rotation=30.0, start=(-2.5, 2.0)), *OWN]
field = {f.key: f for f in OWN}

page = open_page("learning_rate", FIELDS, scenarios=lesson.LR_SCENARIOS, default="four_rates")
page.lesson(
    "Near a minimum every loss is a bowl, and gradient descent multiplies the error along each curvature "
    "direction λ by (1 − lr·λ) per step. Along the sharpest direction λ_max that factor leaves [−1, 1] as "
    "soon as **lr > 2/λ_max**: each step overshoots more than the last, and the run diverges. Below the line "
    "the flattest direction λ_min sets the pace, so the best constant rate is **2/(λ_max + λ_min)**, and an "
    "ill-conditioned bowl (large κ = λ_max/λ_min) stays slow whatever you choose. Each raced rate has its "
    "own map, so no path hides another: the **learning rates** slider under them scales every rate "
    "(computed in advance); watch the one that crosses 2/λ_max start to bounce outwards. Below: 200+ rates "
    "swept in one run with the closed form on top, every decay schedule beside its path, the range test.")
page.scenario_picker()
choice = surface_picker.surface_picker("learning_rate", SURFACES)
with st.sidebar:
    st.header("Learning rates")
    steps = int(widgets.slider(field["steps"]))
    chosen = widgets.multiselect(field["lrs"], format_func=lesson.choice_label)
active = choice.active_keys | set(field)
page.write_link(active)
page.scenario_note(active)


def work(rates: int, swept: int, picked: int) -> list[budget.Estimate]:
    """The cost of the race and the range test, of the schedules with their frames, and of the sweep."""
    parts = [(rates * factors.size, ("rates to race", rates), 2), (16 * picked, ("schedules", picked), 1),
             (swept, ("learning rates in the sweep", swept, 200), 1 + swept * steps // 10**6)]
    return [budget.runs(surface, steps + 20, n, ("steps", steps, 8), knob, calls=c) for n, knob, c in parts]


surface = page.computed(lambda: cache.build_surface(choice.key))
factors = lesson.scrub_factors(max(len(chosen), 1), steps)
xs, ys, Z, curvature = page.computed(lambda: (*cache.surface_grid(choice.key, 81), cache.curvature(
    choice.key, choice.start)), work(len(chosen), url.current("n_lrs"), len(url.current("schedules"))))
stars, floor = cache.reference_minimum(choice.key, choice.start)
start, limit, lines = choice.start, curvature.max_stable_lr, figures.theory_lines(curvature)
where, maps = (choice.key, start), {"minima": stars, "log_scale": surface.log_scale}
code = {"steps": steps, "x0": start, "objective_expr": surface.torch_expr or None}
st.caption(lesson.curvature_summary(surface.title, curvature))

st.subheader("Several learning rates at once")
if not chosen:
    st.info("Pick at least one rate to race in the sidebar.")
with shown_errors():
    if chosen:
        race = cached("lr_race", (*where, tuple(chosen), steps, factors.size), lambda: (
            lesson.compare_learning_rates(surface, start, chosen, steps, curvature, factors)))
        left, right = st.columns([3, 2])
        page.chart(figures.race(xs, ys, Z, race, floor=floor, min_value=floor, start=start,
                                view_key=repr(choice.key), **maps), "race_map", left, main=True)
        page.chart(figures.race_curves(race, floor), "race_curves", right)
        export.csv_button("Trajectories (CSV)", race.to_frame, "lossviz_lr_trajectories.csv", right)
        export.code_block(export.torch_scripts(race.runs(), **code), title="PyTorch code: every raced rate")


@st.fragment
def sweep_section() -> None:
    with st.sidebar:
        st.header("Sweep")
        n_lrs, spacing = int(widgets.slider(field["n_lrs"], step=50)), widgets.radio(field["axis"])
    page.write_link(active)
    st.subheader("Final loss against the learning rate")
    with shown_errors():
        if budget.affordable(work(0, n_lrs, 0)[2]):
            result = cached("lr_sweep", (*where, steps, n_lrs, spacing), lambda: lesson.learning_rate_sweep(
                surface, start, steps, n_lrs=n_lrs, spacing=spacing, curvature=curvature))
            page.chart(figures.sweep(result, floor, lines, spacing == "log"), "sweep_chart")
            st.caption(lesson.sweep_summary(result))
            export.csv_button("Sweep (CSV)", result.to_frame, "lossviz_lr_sweep.csv")


@st.fragment
def schedule_section() -> None:
    with st.sidebar:
        st.header("Schedules")
        base, warmup = float(widgets.slider(field["base"], step=0.01)), int(widgets.number(field["warmup"]))
        picked = widgets.multiselect(field["schedules"], format_func=lambda n: n.replace("_", " "))
    page.write_link(active)
    st.subheader("Schedules: the rate of every step, and the path it produces")
    if not picked:
        st.info("Pick at least one schedule in the sidebar.")
    if picked and (refused := lesson.warmup_too_long(warmup, steps, field["warmup"].title)):
        text.notice(refused, "error")  # named as the sidebar names it; the last picture stays, greyed
        page.stale_chart("schedule_chart")
        return
    with shown_errors():
        if picked and budget.affordable(work(0, 0, len(picked))[1]):
            runs = cached("lr_schedules", (*where, tuple(picked), base, steps, warmup), lambda: (
                lesson.compare_schedules(surface, start, picked, base * limit, steps, warmup,
                                         lesson.scrub_factors(len(picked), steps, most=15))))
            page.chart(figures.schedules(xs, ys, Z, runs, limit=limit, floor=floor, **maps), "schedule_chart")
            st.caption(lesson.schedule_summary(base, limit, warmup))
            export.csv_button("Schedule trajectories (CSV)", runs.to_frame, "lossviz_lr_schedules.csv")
            export.code_block(export.torch_scripts(runs.runs(), **code), title="PyTorch code: every schedule")


sweep_section()
schedule_section()

st.subheader("The learning-rate range test")
with shown_errors():
    test = cached("lr_range", (*where, steps), lambda: (
        lesson.range_test(surface, start, max(steps, 50), curvature)))
    page.chart(figures.range_test(test, floor, lines[:1]), "range_chart")
    st.caption(lesson.range_test_summary(test, limit))
page.slides("lossviz_learning_rate")
