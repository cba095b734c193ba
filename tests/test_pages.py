"""Every page run headless through Streamlit's AppTest: it renders, and no exception reaches the user."""
from streamlit.testing.v1 import AppTest

from lossviz.ui.catalog import PAGES, ROOT


def test_home_lists_every_page_and_links_only_the_ones_that_exist():
    at = AppTest.from_file(str(ROOT / "app.py")).run(timeout=30)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)
    for page in PAGES:
        assert page.teaches in text
        in_preparation = f"**{page.title}** · *in preparation*"
        assert (in_preparation in text) != page.exists, page.title


def test_every_page_opens_through_the_kit_and_the_entry_point_builds_the_navigation():
    """The navigation is st.navigation, built once in app.py from the catalogue; every page opens with the
    kit's open_page (configuration, the link's notices, its sidebar head), so none strands its users."""
    for page in PAGES:
        if page.exists:
            assert "open_page(" in (ROOT / page.path).read_text(), page.path
    assert "nav.navigation(" in (ROOT / "app.py").read_text()



def test_every_page_offers_each_chart_for_slides_and_its_play_figure_as_an_animation():
    """Issue 18: every figure as a PNG at projector size and an SVG; a page with a Play button also hands
    out the played figure as a GIF and an MP4 (the files are opened in tests/e2e/test_slides.py)."""
    from tests.pagetest import errors, figures

    for page in PAGES:
        if not page.exists:
            continue
        at = AppTest.from_file(str(ROOT / page.path), default_timeout=180).run()
        assert not at.exception, page.path
        slides = [key for key in at.session_state.keys() if str(key).startswith("slides::")]
        assert len(slides) == 1, (page.path, slides)  # the images' expander, closed: no button drawn yet
        assert not {"PNG", "SVG"} & {b.proto.label for b in at.get("download_button")}, page.path
        at.session_state[slides[0]] = True  # opened
        at.run()
        labels = [b.proto.label for b in at.get("download_button")]
        drawn = figures(at)
        assert labels.count("PNG") == labels.count("SVG") == len(drawn), page.path
        # Each image is named in words, not after its key with the page's own prefix ("Nn training").
        prefix = slides[0].removeprefix("slides::lossviz_").replace("_", " ")
        names = [m.value for m in at.markdown if m.value.lower().startswith(prefix + " ")]
        assert not names, (page.path, names)
        switches = [t for t in at.toggle if t.label == "Animation for slides (GIF and MP4)"]
        assert len(switches) == (1 if any(s.get("frames") for s in drawn) else 0), page.path
        if page.id == "regularization":  # drawing one takes seconds: one page's here, each in the browser
            switches[0].set_value(True).run()
            labels = [b.proto.label for b in at.get("download_button")]
            assert {"Download animation (GIF)", "Download animation (MP4)"} <= set(labels), errors(at)


def test_every_page_names_one_main_figure_which_projector_mode_puts_first():
    """Issue 16: a rerun paints the page's main figure before its other charts (the live chart's ``main``
    argument), and projector mode puts that figure first, under the title. Every page has exactly one,
    in both modes; Models on data and the Neural net page, whose main figure stood unmarked in a part of
    the page drawn under the title, had none, so their other charts held its paint up on every press."""
    import json

    from lossviz.ui.live_plotly import COMPONENT_NAME

    for page in PAGES:
        if not page.exists:
            continue
        for query in ({}, {"present": "1"}):
            at = AppTest.from_file(str(ROOT / page.path), default_timeout=180)
            for key, value in query.items():
                at.query_params[key] = value
            at.run()
            assert not at.exception, (page.path, query)
            charts = [(element.key, json.loads(element.proto.json_args).get("main"))
                      for element in at.get("component_instance")
                      if element.proto.component_name.endswith(COMPONENT_NAME)]
            assert [key for key, main in charts if main] != [], (page.path, query, charts)
            assert len([key for key, main in charts if main]) == 1, (page.path, query, charts)
            if query:
                assert charts[0][1], (page.path, charts)
            # The scenario box names the scenario whose text a fresh visit shows, not "—".
            shown = at.session_state[f"_scenario_note::{page.id}"]
            assert at.selectbox(key=f"{page.id}_scenario_pick").value == shown, (page.path, query)


def test_a_link_with_its_own_settings_opens_on_no_scenario_and_loading_the_shown_one_reloads_it():
    at = AppTest.from_file(str(ROOT / "pages/3_Momentum.py"), default_timeout=120)
    at.query_params["steps"] = "40"
    at.run()
    assert not at.exception and at.selectbox(key="momentum_scenario_pick").value == "—"
    assert at.button(key="momentum_load").disabled
    fresh = AppTest.from_file(str(ROOT / "pages/3_Momentum.py"), default_timeout=120).run()
    fresh.session_state["steps"] = 40  # moved away from the scenario, then loaded again from the box
    fresh.run()
    assert any("then changed" in c.value for c in fresh.caption)
    fresh.button(key="momentum_load").click().run()
    assert not fresh.exception and fresh.session_state["steps"] != 40
    assert not any("then changed" in c.value for c in fresh.caption)


def test_a_link_saying_present_true_opens_projector_mode_as_present_1_does():
    """A teacher types ?present=true (or yes, on) into the address bar: projector mode, no refusal, and
    the link is written back as present=1. Before, it was refused ("must be 0 or 1") and the page opened
    in normal type."""
    from tests.pagetest import warnings

    page = str(ROOT / "pages/4_Regularization.py")
    for value in ("true", "Yes", "on"):
        at = AppTest.from_file(page, default_timeout=180)
        at.query_params["present"] = value
        at.run()
        assert not at.exception and not warnings(at), value
        assert at.session_state["present"] is True, value
        assert at.query_params["present"] in ("1", ["1"]), value
