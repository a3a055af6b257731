"""Shared fixtures: one seeded generator per test, never the global RNG."""

import numpy as np
import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: drives a real Chromium with Playwright; skipped when no browser is installed, "
        "a failure instead when GRADKIT_REQUIRE_BROWSER=1",
    )


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


@pytest.fixture(scope="module")
def browser():
    """Headless system Chromium for the browser tests (skips or fails as _browser says)."""
    from _browser import launch_chromium, require_browser

    sync_playwright = require_browser()
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
