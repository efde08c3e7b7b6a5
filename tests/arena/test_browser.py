"""One battle clicked through in a real headless Chromium (Debian's chromium + chromedriver, driven by
Selenium): the page never shows a variant name before the vote, and the screenshot shows the battle."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HIDDEN = ("chat72", "chat55", "chat91", "prompted")

pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
                                reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")


def wait_for(predicate, timeout: float = 60.0, step: float = 0.3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting for the page")


def test_one_battle_in_a_real_browser(arena_app, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    demo, store = arena_app
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900", f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(demo.local_url)
        box = wait_for(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, "textarea")
                                if "Say something" in (e.get_attribute("placeholder") or "")])[0]
        assert not any(name in driver.page_source for name in HIDDEN)
        box.send_keys("周末打球吗")
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Send").click()
        wait_for(lambda: "Vote when you are ready" in driver.page_source)
        assert not any(name in driver.page_source for name in HIDDEN)
        shot = tmp_path / "arena_battle.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get("PERSONA_LAB_SCREENSHOT_DIR"):
            shutil.copy(shot, Path(os.environ["PERSONA_LAB_SCREENSHOT_DIR"]) / shot.name)
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "A sounds more like me").click()
        wait_for(lambda: "Vote recorded" in driver.page_source)
        assert len(store.votes()) == 1
    finally:
        driver.quit()
