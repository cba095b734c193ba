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
