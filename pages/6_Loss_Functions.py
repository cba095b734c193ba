"""Loss functions: regression losses against the residual, classification losses against the margin."""
import streamlit as st

from lossviz.lessons import loss_functions as lesson
from lossviz.lessons.loss_functions import CLASSIFICATION, INFO, REGRESSION
from lossviz.ui import export, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.viz import loss_functions as figures

FIELDS = [
    url.list_field("reg", REGRESSION, REGRESSION, "regression losses"),
    url.list_field("cls", CLASSIFICATION, CLASSIFICATION, "classification losses"),
    url.float_field("delta", 1.0, *lesson.DELTA_RANGE, "Huber δ"),
    url.float_field("span", 3.0, *lesson.SPAN_RANGE, "range of r and m (±)"),
    url.text_field("ex_y", lesson.EXAMPLE_Y, url.MAX_VALUE_LENGTH, "targets y"),  # as long as a link carries
    url.text_field("ex_yhat", lesson.EXAMPLE_Y_PRED, url.MAX_VALUE_LENGTH, "predictions ŷ"),
]
fields = {f.key: f for f in FIELDS}
page = open_page("loss_functions", FIELDS, scenarios=lesson.SCENARIOS, default="classic")
page.lesson(
    "A loss turns each prediction's error into a number to minimize, and its **gradient** is the push "
    "that training gives each sample. For regression the error is the **residual** r = ŷ − y: squared "
    "error punishes large residuals quadratically and pushes hardest on them, absolute error pushes every "
    "sample equally, Huber and log-cosh do one near zero and the other far out. For classification what "
    "matters is the **margin** m = y·s (label ±1 times score): positive on the right side of the boundary. "
    "The 0-1 loss counts mistakes but has no slope to follow; hinge and logistic losses are the smooth "
    "stand-ins that training uses. Drag the **Huber δ** slider under the regression curves to move the kink "
    "in your browser. Every setting is in the page's address: copy it to share this view."
)
page.scenario_picker()
with st.sidebar:
    st.header("Curves")
    regression = widgets.multiselect(fields["reg"], format_func=lambda k: INFO[k].title)
    classification = widgets.multiselect(fields["cls"], format_func=lambda k: INFO[k].title)
    delta_slot = st.container()  # the Huber δ slider, drawn by huber_parts (a fragment)
    span = float(widgets.slider(fields["span"], step=0.5))
page.scenario_note()

# What Huber's δ moves (the regression curves, the formulas' code, the worked example) is drawn by
# huber_parts into these places, so that moving δ reruns them alone, not the classification curves.
st.subheader("Regression losses, as functions of the residual")
regression_box = st.container()
st.subheader("Classification losses, as functions of the margin")
margins = page.computed(lambda: lesson.curves((), classification, span=span)).classification
with st.container():
    if classification:
        page.chart(figures.curves_spec(margins, classification,
                                       y_ranges=((-0.1 * span - 0.15, span + 1.5), (-2.2, 0.4))), "cls_chart")
        st.caption(
            "Margin m > 0: right side of the boundary; m < 0: a mistake. The 0-1 loss is flat on both sides "
            "(gradient 0, undefined at m = 0). Hinge is exactly 0 beyond m = 1; logistic and cross-entropy "
            "are the same curve, log(1 + e^(−m)), and never quite reach 0. Steeper curves leave the plot.")
    else:
        st.info("Choose at least one classification loss in the sidebar to draw its curve.")

st.subheader("The formulas")
formulas_box = st.container()  # one element whatever is chosen: the worked example below keeps its place
st.caption("r = ŷ − y; m = y·s with y = ±1 and s the score; σ(s) = 1/(1 + e^(−s)). Cross-entropy "
           "−[t log σ(s) + (1 − t) log(1 − σ(s))] with the 0/1 label t = (1 + y)/2 is −log σ(m). Every loss "
           "is averaged over the samples: L = (1/n) Σ ℓ, so the gradient of L carries a 1/n.")
c1, c2 = st.columns(2)
export.csv_button("Classification curves (CSV)", lambda: margins, "lossviz_classification_losses.csv", c2)


@st.fragment
def huber_parts() -> None:
    """Huber's δ and what it moves: moving it reruns this part only."""
    delta = float(widgets.slider(fields["delta"], delta_slot, step=0.05,
                                 help="Where Huber switches from squared (inside) to absolute (outside)."))
    page.part_link()
    curves = page.computed(lambda: lesson.curves(regression, (), delta, span))
    with regression_box:
        if regression:
            spec = figures.curves_spec(curves.regression, regression, delta=delta,
                                       height=380 - 80 * page.present)
            page.chart(figures.with_delta_scrubber(spec, curves), "reg_chart", main=True)
            st.caption(lesson.regression_caption(curves.regression, regression, span))
        else:
            st.info("Choose at least one regression loss in the sidebar to draw its curve.")
    with formulas_box:
        if chosen := [*regression, *classification]:
            # One formula table and one code block: a press redraws two elements, not nine per loss.
            st.latex(lesson.formulas_latex(chosen))
            st.code(lesson.formulas_code(chosen, delta), language="python")
    export.csv_button("Regression curves (CSV)", lambda: curves.regression, "lossviz_regression_losses.csv",
                      c1)
    worked_example(delta)


@st.fragment
def worked_example(delta: float) -> None:
    """The editable example: typing reruns this part only."""
    st.subheader("Worked example")
    st.markdown("Edit the targets and the predictions (numbers separated by commas): every loss follows.")
    c1, c2 = st.columns(2)
    y_text, yhat_text = widgets.text_input(fields["ex_y"], c1), widgets.text_input(fields["ex_yhat"], c2)
    page.part_link()
    top, (left, right) = st.container(), st.columns([7, 3])  # the chart keeps its place on an error
    example = None
    with shown_errors(container=top):
        y, y_pred = (lesson.parse_numbers(t, f.title) for t, f in ((y_text, fields["ex_y"]),
                                                                   (yhat_text, fields["ex_yhat"])))
        example = (*lesson.worked_example(y, y_pred, delta), lesson.worked_latex(y, y_pred, delta))
    if example is None:
        page.stale_chart("example_chart", right)
        return
    per_sample, totals, formulas = example
    for column, (key, value) in zip(top.columns(len(totals)), totals.items()):
        column.metric(INFO[key].title if key != "huber" else f"Huber (δ = {delta:g})", f"{value:.4g}")
    for key in REGRESSION:
        left.latex(formulas[key])
    page.chart(figures.example_spec(per_sample), "example_chart", right)
    table = per_sample.rename(columns={"y_pred": "ŷ", "residual": "r = ŷ − y", "squared": "r²",
                                       "absolute": "|r|", "huber": "Huber", "log_cosh": "log cosh r"})
    # Four significant digits in every column: a target of 1e-300 is not three hundred zeros wide.
    st.dataframe(table, width="stretch", hide_index=True,
                 column_config={name: st.column_config.NumberColumn(format="%.4g") for name in table.columns})
    if per_sample["absolute"].sum() > 0:
        st.caption("Sample {} carries {:.0%} of the MSE and {:.0%} of the MAE.".format(
            *lesson.worst_sample(per_sample)))
    else:
        st.caption("Every prediction equals its target: every loss is 0.")
    export.csv_button("Worked example (CSV)", per_sample, "lossviz_worked_example.csv")
    export.code_block(lesson.torch_example_code(y, y_pred, delta),
                      "Prints the five losses of the example; they equal the numbers above.")


huber_parts()
page.slides("lossviz_loss_functions")  # every chart as a PNG and an SVG for slides
