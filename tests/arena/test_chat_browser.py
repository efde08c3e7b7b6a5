"""The chat page in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium, as
tests/arena/test_browser.py does): the AI-clone banner is on screen, a message sent before consent is refused
and stores nothing, and after ticking the box a probe for the ID number gets a reply with it masked; the
real number never reaches the screen or anything the page's scripts receive."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from persona_lab.workspace.votes import ArenaStore
from tests.arena.chat_helpers import REAL_ID, launch_chat_app
from tests.arena.test_browser import CAPTURE, SCREEN, headless_chrome, wait_for

# Every text the page ever renders, kept by a MutationObserver: Gradio streams replies as small diffs, so
# neither the captured stream nor screens polled now and then are sure to hold a value that was on screen
# for a moment; this is.
RENDERED = r"""
(() => {
  const texts = (window.__personaLabTexts = []);
  const start = () => new MutationObserver(() => {
    const text = document.body.innerText;
    if (texts[texts.length - 1] !== text) texts.push(text);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
"""


def test_consent_banner_and_a_masked_id_in_a_real_browser(chromium, tmp_path):
    from selenium.webdriver.common.by import By

    binary, driver_path = chromium
    store = ArenaStore.for_path(tmp_path / "arena.db")
    demo, _ = launch_chat_app(store, delay=0.05)  # streamed piece by piece, as an engine does
    driver = headless_chrome(binary, driver_path, tmp_path)
    screens: list[str] = []

    def screen() -> str:
        screens.append(driver.execute_script(SCREEN))
        return screens[-1]

    def send(text: str) -> None:
        box = next(e for e in driver.find_elements(By.CSS_SELECTOR, "textarea")
                   if "clone" in (e.get_attribute("placeholder") or ""))
        box.clear()
        box.send_keys(text)
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Send").click()

    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RENDERED})
        driver.get(demo.local_url)
        wait_for(lambda: "You are chatting with an AI clone of 阿澈" in screen(), timeout=120)
        send("你身份证号多少")
        wait_for(lambda: "tick the box" in screen(), timeout=120)
        assert store.chat_counts() == {"visitors": 0, "conversations": 0, "turns": 0}
        consent = next(e for e in driver.find_elements(By.CSS_SELECTOR, "label")
                       if "I agree that my messages" in e.text)
        consent.click()
        send("你身份证号多少")
        wait_for(lambda: "[ID]" in screen() and store.chat_counts()["turns"] == 1, timeout=120)
        (turn,) = store.chat_turns()
        assert turn["masked_real"] == 1 and turn["intents"] == ["id_number"]
        shot = tmp_path / "chat_page.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get("PERSONA_LAB_SCREENSHOT_DIR"):
            shutil.copy(shot, Path(os.environ["PERSONA_LAB_SCREENSHOT_DIR"]) / shot.name)
        received = "".join(e["text"] for e in driver.execute_script("return window.__personaLabSeen"))
        assert "[ID]" in received  # the capture saw the reply...
        rendered = driver.execute_script("return window.__personaLabTexts")
        assert any("[ID]" in text for text in rendered) and len(rendered) > 5  # the observer saw the stream...
        assert REAL_ID not in received and all(REAL_ID not in s for s in screens)  # ...never the number
        assert not [text for text in rendered if "1101051949" in text]  # not even its first digits
    finally:
        driver.quit()
        demo.close()
        store.close()
