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


def test_every_page_draws_the_shared_navigation():
    """Streamlit's automatic page list is off (config.toml), so a page without nav.sidebar() strands its users."""
    for page in PAGES:
        if page.exists:
            assert "nav.sidebar()" in (ROOT / page.path).read_text(), page.path
    assert "nav.sidebar()" in (ROOT / "app.py").read_text()
