"""One battle clicked through in a real headless Chromium (Debian's chromium + chromedriver, driven by
Selenium): nothing the browser receives or shows before the vote names either variant on screen, and the
screenshot shows the battle.

Everything the page's scripts receive is recorded in the page itself: a script installed before Gradio's
wraps ``fetch`` (the queue's event stream, joins, uploads), ``WebSocket`` and ``EventSource`` and keeps every
response's text. The text on screen (and in every text box) is read at each poll while the replies stream.
Which two variants were drawn is read from the store after the vote; both are then looked for in all of it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from tests.arena.conftest import assert_never_shown, shows

CAPTURE = r"""
(() => {
  const seen = (window.__personaLabSeen = []);
  const keep = (where) => { const entry = {where, text: ""}; seen.push(entry); return entry; };
  const realFetch = window.fetch.bind(window);
  window.fetch = async (...args) => {
    const response = await realFetch(...args);
    const entry = keep("fetch " + String((args[0] && args[0].url) || args[0]));
    const copy = response.clone();
    (async () => {
      if (!copy.body) { entry.text += await copy.text(); return; }
      const reader = copy.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        entry.text += decoder.decode(value, {stream: true});
      }
    })().catch((error) => { entry.text += " [capture error: " + error + "]"; });
    return response;
  };
  for (const name of ["WebSocket", "EventSource"]) {
    const Real = window[name];
    if (!Real) continue;
    const Wrapped = function (...args) {
      const socket = new Real(...args);
      const entry = keep(name + " " + args[0]);
      socket.addEventListener("message", (event) => { entry.text += String(event.data) + "\n"; });
      return socket;
    };
    Wrapped.prototype = Real.prototype;
    Object.assign(Wrapped, Real);
    window[name] = Wrapped;
  }
})();
"""

SCREEN = """
const boxes = [...document.querySelectorAll("textarea, input")].map((e) => e.value).join("\\n");
return document.body.innerText + "\\n" + document.body.textContent + "\\n" + boxes;
"""


def wait_for(predicate, timeout: float = 300.0, step: float = 0.2):
    """Poll until ``predicate`` is true; the timeout only stops a hung page (no speed is asserted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("the page never got there")


def headless_chrome(binary: str, driver_path: str, tmp_path: Path):
    """A headless Chromium driven by chromedriver, its profile and log in ``tmp_path``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path, log_output=str(tmp_path / "chromedriver.log")),
                            options=options)


def test_one_battle_in_a_real_browser(chromium, arena_app, tmp_path):  # chromium first: a skip costs nothing
    from selenium.webdriver.common.by import By

    binary, driver_path = chromium
    demo, store = arena_app
    driver = headless_chrome(binary, driver_path, tmp_path)
    screens: list[tuple[str, str]] = []

    def screen(when: str) -> str:
        text = driver.execute_script(SCREEN)
        screens.append((f"the screen {when}", text))
        return text

    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE})
        driver.get(demo.local_url)
        box = wait_for(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, "textarea")
                                if "Say something" in (e.get_attribute("placeholder") or "")])[0]
        screen("on load")
        box.send_keys("周末打球吗")
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Send").click()
        wait_for(lambda: "Vote when you are ready" in screen("while the replies stream"))
        received = [(f"a response to {e['where']}", e["text"])
                    for e in driver.execute_script("return window.__personaLabSeen")]
        assert any("queue/data" in where and "process_completed" in text for where, text in received), \
            "the capture missed the queue's event stream"
        shot = tmp_path / "arena_battle.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get("PERSONA_LAB_SCREENSHOT_DIR"):
            shutil.copy(shot, Path(os.environ["PERSONA_LAB_SCREENSHOT_DIR"]) / shot.name)

        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "A sounds more like me").click()
        revealed = wait_for(lambda: "Vote recorded" in screen("after the vote") and screens[-1][1])
        (vote,) = store.votes()
        drawn = {vote["variant_a"], vote["variant_b"]}
        assert vote["winner"] == "model_a" and len(drawn) == 2
        assert all(shows(name, revealed) for name in drawn)  # the check sees the names once they are shown
        streamed_after = "".join(e["text"] for e in driver.execute_script("return window.__personaLabSeen"))
        assert all(shows(name, streamed_after) for name in drawn)  # ...and in the captured stream
        assert_never_shown(drawn, received + screens[:-1])
    finally:
        driver.quit()
