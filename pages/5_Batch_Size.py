"""Batch size & noise: mini-batch paths, the gradient cloud, and the noise ball SGD leaves at the minimum."""
import streamlit as st

from lossviz.lessons import batch_size as lesson
from lossviz.ui import budget, cache, export, text, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.viz import batch_size as figures

FIELDS = [
    url.choice_field("problem", "diabetes_bmi", list(lesson.PROBLEMS), "problem"),
    url.choice_field("sampling", "independent", lesson.SAMPLINGS, "how batches are drawn"),
    url.float_field("lr", 0.05, 1e-4, 10.0, "learning rate"),
    url.list_field("batches", [1, 8, 64], lesson.BATCH_OPTIONS, "batch sizes", min_items=1,
                   max_items=lesson.MAX_BATCH_SIZES, convert=int),
    url.int_field("steps", 200, 10, 2000, "steps"),
    url.int_field("seed", 0, 0, 10_000, "seed (batch order)"),
    url.float_field("x0", -1.0, -10.0, 10.0, "start slope"),
    url.float_field("y0", 1.5, -10.0, 10.0, "start intercept"),
    url.choice_field("cloud_at", "start", ["start", "minimum"], "gradient cloud at"),
]
FIELD = {f.key: f for f in FIELDS}
PROBLEMS = lesson.PROBLEMS

page = open_page("batch_size", FIELDS, scenarios=lesson.SCENARIOS, default=lesson.DEFAULT_SCENARIO)
page.lesson(
    "A mini-batch gradient is an average over **B** random samples instead of all of them: cheaper, but "
    "noisy. It scatters around the full gradient with a covariance that shrinks like **1/B**. Far from "
    "the minimum the full gradient dominates and every batch size heads the same way; near the minimum "
    "the full gradient vanishes and only the noise is left, so SGD never settles: it jitters in a **noise "
    "ball** whose size grows with the learning rate and shrinks with the batch size, roughly like "
    "**lr / B**. Below: the paths (drag the **batch size** slider under the map to replay the path at every "
    "batch size, computed in advance), the cloud of gradients at one point, and the ball, measured and "
    "predicted.")
page.scenario_picker()
with st.sidebar:
    st.header("Model and data")
    problem = widgets.select(FIELD["problem"], format_func=lambda n: PROBLEMS[n].title,  # with its own start
                             on_change=lambda: url.apply_values(PROBLEMS[url.current("problem")].settings))
    st.header("SGD")
    sampling = widgets.radio(FIELD["sampling"], format_func=lesson.SAMPLING_TITLES.get, horizontal=False)
    lr = float(widgets.number(FIELD["lr"], step=0.01, format="%.4g"))
    batches = widgets.multiselect(FIELD["batches"], help=f"Up to {lesson.MAX_BATCH_SIZES} at once.")
    steps_slot = st.container()  # the steps slider, drawn by paths_section (a fragment)
    seed = int(widgets.number(FIELD["seed"]))
    start = tuple(float(widgets.number(FIELD[k], c, step=0.1, notes=st.sidebar))
                  for k, c in zip(("x0", "y0"), st.columns(2)))
page.write_link()
page.scenario_note(ignore=("cloud_at",))


if not batches:
    text.notice("batch sizes: choose at least one", "error")
    page.stale_picture()
sizes = tuple(sorted(batches))
colors = figures.batch_colors(sizes)


def work(steps: int) -> budget.Estimate:
    """The cost of the paths at ``steps`` and the noise balls."""
    return budget.Estimate(lesson.work_seconds(problem, steps, len(sizes)), knobs=(
        budget.Knob("batch sizes", len(sizes)), budget.Knob("steps", steps, FIELD["steps"].low)))


# The problem and its noise balls (both warmed at server start for the default scenario).
objective, data, w_star, f_star, found = page.computed(lambda: (
    *cache.batch_problem(problem), cache.batch_balls(problem, sampling, lr, sizes, seed)),
    work(int(url.current("steps"))))
names = tuple(text.plotly_label(n) for n in objective.param_names)
st.caption(f"**{PROBLEMS[problem].title}.** {PROBLEMS[problem].description}")


@st.fragment
def paths_section() -> None:
    """The steps slider and what it changes (the paths, their losses, their file and code), not the cloud
    or the noise balls below: moving it reruns this part only."""
    steps = int(widgets.slider(FIELD["steps"], steps_slot))
    page.part_link()
    st.subheader("Paths: same start, same learning rate, same seed")
    view = None
    with shown_errors():
        if budget.affordable(work(steps)):
            view = cache.batch_paths(problem, sampling, lr, steps, seed, start)
    left, right = st.columns(2)
    if view is None:  # the last good paths, greyed out, until the settings are fixed
        page.stale_chart("paths", left)
        page.stale_chart("losses", right)
        return
    page.chart(figures.paths_map(view, sizes, colors, minimum=w_star, names=names, f_star=f_star), "paths",
               left, main=True)
    page.chart(figures.loss_curves(view, sizes, colors, f_star=f_star), "losses", right)
    st.caption(lesson.paths_caption({lesson.label(b): view.path(b) for b in [*sizes, None]}, f_star))
    c1, c2 = st.columns([1, 3])
    export.csv_button("Paths (CSV)", lambda: lesson.paths_table(view, sizes), "lossviz_batch_paths.csv", c1)
    with c2, shown_errors():
        export.code_block(lesson.torch_script(problem, lr, [*sizes, None], steps=steps, x0=start, seed=seed,
                                              sampling=sampling))


paths_section()


@st.fragment
def cloud_section() -> None:
    """The gradient cloud and where it is drawn: moving that reruns this section only."""
    st.subheader("The gradient cloud")
    where = widgets.radio(FIELD["cloud_at"])
    page.write_link()
    point = start if where == "start" else tuple(float(v) for v in w_star)
    with shown_errors():
        clouds = cache.batch_clouds(problem, sampling, sizes, point, seed)
        left, right = st.columns([3, 2])
        page.chart(figures.cloud_chart(clouds, colors, names), "cloud", left)
        right.markdown(lesson.cloud_caption(where, point, sampling))
        table = lesson.clouds_frame(clouds).style.format("{:.3g}", subset=list(lesson.CLOUD_HEADERS)[1:])
        right.dataframe(table, hide_index=True, width="stretch", column_config=lesson.CLOUD_HEADERS)
        export.csv_button("Gradient clouds (CSV)", lambda: lesson.clouds_table(clouds, objective.param_names),
                          "lossviz_gradient_clouds.csv", right)


cloud_section()
st.subheader("The noise ball")
left, right = st.columns(2)
page.chart(figures.ball_map(found.xs, found.ys, found.Z, found.at_lr, colors, minimum=w_star, names=names),
           "ball", left)
page.chart(figures.scaling_chart(lesson.balls_frame(found.balls), colors), "scaling", right)
st.caption(lesson.balls_caption(found.at_lr, lr, sampling))

export.csv_button("Noise balls (CSV)", lambda: lesson.balls_frame(found.balls), "lossviz_noise_balls.csv")
page.slides("lossviz_batch_size")
