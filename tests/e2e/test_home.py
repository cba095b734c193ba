"""The home page in a real browser: it loads, lists every page, and has no error on it."""
from lossviz.ui.catalog import PAGES
from tests.e2e.conftest import save_screenshot, wait_for_app


def test_home_page_renders_every_catalogue_entry(app_url, page):
    page.goto(app_url)
    wait_for_app(page)
    assert page.locator("h1").first.inner_text().startswith("lossviz")
    body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    for entry in PAGES:
        assert entry.title in body
    assert page.locator('[data-testid="stException"]').count() == 0
    shot = save_screenshot(page, "home")
    assert shot.stat().st_size > 10_000


def test_a_shared_link_to_a_page_shows_the_same_navigation(app_url, page):
    page.goto(f"{app_url}/Surface_Explorer")
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Home" in sidebar and "Surface Explorer" in sidebar
    assert "\napp\n" not in f"\n{sidebar}\n"
    page.get_by_role("link", name="Home").click()
    wait_for_app(page)
    assert page.locator("h1").first.inner_text().startswith("lossviz")
