"""Regularization & weight decay: L1's exact zeros against L2's shrinkage, and Adam + L2 against AdamW."""
import streamlit as st

from lossviz import datasets
from lossviz.lessons import regularization as lesson
from lossviz.ui import budget, cache, export, text, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.viz import regularization as figures

FEATURES = list(datasets.get(lesson.DATASET).feature_names)
FIELDS = [
    url.choice_field("f1", "bmi", FEATURES, "first weight"),
    url.choice_field("f2", "bp", FEATURES, "second weight"),
    url.choice_field("penalty", "l1", lesson.PENALTIES, "penalty"),
    url.float_field("strength", 0.8, 0.0, 5.0, "strength λ"),
    url.float_field("l1_ratio", 0.5, 0.0, 1.0, "elastic-net mix ρ (share of L1)"),
    url.float_field("decay", 4.0, 0.0, 20.0, "weight decay λ (all three optimizers)"),
    url.float_field("lr", 0.01, 1e-5, 1.0, "learning rate (Adam, AdamW, SGD)"),
    url.int_field("steps", 1500, 10, 5000, "steps"),
    url.float_field("w0x", -1.0, -5.0, 5.0, "start, first weight"),
    url.float_field("w0y", 1.0, -5.0, 5.0, "start, second weight"),
]
FIELD = {f.key: f for f in FIELDS}

page = open_page("regularization", FIELDS, scenarios=lesson.SCENARIOS, default=lesson.DEFAULT_SCENARIO)
page.lesson(
    "A penalty on the weights trades a little fit for smaller weights. Which weights, and how, depends on "
    "the penalty's **shape**: the regularized minimizer is where a level set of the data loss (the ellipses) "
    "first touches a level set of the penalty. L2's level sets are circles, which touch anywhere, so "
    "weights shrink but never reach zero; L1's are diamonds, whose corners sit on the axes, so the touch "
    "is often at a corner, where one weight is **exactly zero**. Below, linear regression with two weights "
    "on the diabetes data (standardized, so no intercept is needed); drag the **strength λ** slider under "
    "the map to replay the touch at other strengths in your browser. Last, weight decay in Adam: added to "
    "the gradient (L2) or applied on its own (AdamW), which is not the same thing.")
page.scenario_picker()


def second_weight(picked: bool = False) -> None:  # two weights need two features: never one twice
    first, second = url.current("f1"), url.current("f2")
    if (other := lesson.second_feature(first, second)) != second:
        st.session_state["f2"] = other
        text.notice(said := f"“{FIELD['f2'].title}” = {text.quote(second)} must differ from the first weight "
                            f"({text.quote(first)}): using {text.quote(other)}.", "warning")
        page.notices.extend([] if picked else [said])  # a link's choice: kept with the link's notices


second_weight()
with st.sidebar:
    st.header("Data: two features")
    c1, c2 = st.columns(2)
    first = widgets.select(FIELD["f1"], c1, on_change=second_weight, args=(True,))
    features = (first, widgets.select(FIELD["f2"], c2, options=[f for f in FEATURES if f != first]))
    st.header("Penalty")
    penalty = widgets.radio(FIELD["penalty"], format_func=lesson.PENALTY_TITLES.get)
    l1_ratio = float(widgets.slider(FIELD["l1_ratio"], step=0.05, disabled=penalty != "elastic_net"))
    strength_slot = st.container()  # the strength slider, drawn by penalty_section (a fragment)
page.write_link()
page.scenario_note()


land = page.computed(lambda: cache.regularization_landscape(features, l1_ratio))  # warmed at server start
names = tuple(text.plotly_label(n) for n in features)


@st.fragment
def penalty_section() -> None:
    """λ and what it moves: moving it reruns this part only, not the weight-decay race below."""
    strength = float(widgets.slider(FIELD["strength"], strength_slot, step=0.01))
    page.part_link()
    view = page.computed(lambda: cache.regularization_view(features, l1_ratio, penalty, strength))
    left, right = st.columns([3, 2])
    left.subheader("Where the penalty meets the data")
    page.chart(figures.geometry(view, penalty=penalty, names=names), "geometry_chart", left, main=True)
    right.subheader(f"The regularized loss: data + {lesson.PENALTY_TITLES[penalty]}")
    page.chart(figures.regularized(view, penalty=penalty, names=names), "total_chart", right)
    st.caption(lesson.minimizer_caption(view, features, penalty, strength)
               + lesson.sklearn_caption(penalty, strength, len(land.y), l1_ratio=l1_ratio))
    st.subheader("The regularization path: from least squares (λ → 0) to nothing (λ large)")
    page.chart(figures.path_chart(list(view.paths.values()), strength=strength, names=names), "path_chart")
    st.caption(lesson.knots_caption(view.paths, features))
    c1, c2 = st.columns([1, 3])
    export.csv_button("Regularization paths (CSV)", lambda: lesson.paths_table(view.paths, features),
                      "lossviz_regularization_paths.csv", c1)
    with c2:
        export.code_block(lesson.sklearn_script(land.X, land.y, features, penalty, strength,
                                                l1_ratio=l1_ratio), title="Equivalent scikit-learn code")


penalty_section()
st.subheader("Adam + L2 is not AdamW")
st.markdown(
    "All three runs use the same λ. **SGD** adds λw to the gradient, which is the gradient of (λ/2)‖w‖²: "
    "L2 regularization and weight decay are the same thing, and it ends at the ridge minimizer. **Adam + "
    "L2** (`torch.optim.Adam(weight_decay=λ)`) adds λw too, and also ends there, but on the way the decay is "
    "divided by √v̂ like the rest of the gradient. **AdamW** shrinks the weights by lr·λ·w outside Adam's "
    "scaling: no penalty has that gradient, and it ends somewhere else: as the learning rate goes to 0, at "
    "the best fit inside the box |w_j| ≤ 1/λ (Xie & Li, 2024).")


@st.fragment
def weight_decay_section() -> None:
    """The race's own controls: moving one reruns this section only."""
    c = st.columns(5)
    decay = float(widgets.slider(FIELD["decay"], c[0], step=0.1))
    lr = float(widgets.number(FIELD["lr"], c[1], step=0.001, format="%.4g"))
    steps = int(widgets.slider(FIELD["steps"], c[2]))
    start = tuple(float(widgets.number(FIELD[key], c[i], step=0.1)) for i, key in ((3, "w0x"), (4, "w0y")))
    page.part_link()
    race, work = None, budget.Estimate(lesson.decay_seconds(steps), knobs=(budget.Knob("steps", steps, 10),))
    with shown_errors():
        if budget.affordable(work):
            race = cache.regularization_decay(features, decay, lr, steps, start)
    if race is None:
        return
    result, (xs, ys, Z) = race
    left, right = st.columns([3, 2])
    page.chart(figures.decay_map(xs, ys, Z, result, weight_decay=decay, names=names), "decay_chart", left)
    page.chart(figures.decay_distances(result), "decay_distance_chart", right)
    st.caption(lesson.decay_caption(result))
    c1, c2 = st.columns([1, 3])
    export.csv_button("SGD / Adam / AdamW runs (CSV)", lambda: {
        label: t.to_frame().drop(columns="run") for label, t in zip(result.labels, result.trajectories)},
        "lossviz_weight_decay_runs.csv", c1, label="optimizer")
    with c2:
        export.code_block(lesson.torch_script(land.X, land.y, features, result, steps=steps))


weight_decay_section()
page.slides("lossviz_regularization")
