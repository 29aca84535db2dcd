"""The demo page in a real browser (Debian chromium driven by Playwright) against a live server."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from service.main import create_app
from service.settings import Settings
from tests.service.helpers import conll_random, ud_random
from tests.service.serving import free_port

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TEXT = "The Apple is a great company! Angela Merkel met Emmanuel Macron in Paris on Monday."
SCREENSHOT = Path("/tmp/tagger-demo.png")


class ThreadedServer:
    """uvicorn serving an app on a free port from a background thread."""

    def __init__(self, **settings: Any) -> None:
        app = create_app(Settings(**settings), taggers=[conll_random(), ud_random()])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def test_demo_highlights_entities_and_shows_tags_on_hover(browser: Any) -> None:
    with ThreadedServer() as server:
        every_task = ["pos", "chunk", "ner", "upos", "xpos"]  # what the page's boxes ask for
        expected = httpx.post(server.url + "/v1/tag", json={"text": TEXT, "tasks": every_task})
        expected = expected.json()
        [doc] = expected["documents"]
        tokens = [t for s in doc["sentences"] for t in s["tokens"]]
        assert doc["entities"], "the random model should find some entities in TEXT"

        page = browser.new_page(viewport={"width": 1100, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/")
        page.wait_for_selector("#tasks input[value=upos]")  # tasks of both models listed
        assert page.locator("#tasks input").count() == 5
        page.fill("#text", TEXT)
        page.click("#tag-button")
        page.wait_for_selector(".doc .token")

        marks = page.locator("mark.entity")
        assert marks.count() == len(doc["entities"])
        for i, entity in enumerate(doc["entities"]):
            mark = marks.nth(i)
            assert mark.get_attribute("data-label") == entity["label"]
            assert mark.locator(".entity-label").inner_text().upper() == entity["label"]
            colour = mark.evaluate("m => getComputedStyle(m).backgroundColor")
            assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
        spans = page.locator(".doc .token")
        assert spans.count() == len(tokens)
        for i, token in enumerate(tokens):
            title = spans.nth(i).get_attribute("title")
            assert title.startswith(token["text"])
            assert f"POS: {token['pos']} " in title
            assert f"UPOS: {token['upos']} " in title
            assert f"NER: {token['ner']} " in title
        # The text reads as the original (entity labels aside).
        shown = page.locator(".doc").evaluate(
            "d => [...d.childNodes].map(n => n.nodeType === 3 ? n.textContent : "
            "[...n.querySelectorAll('.token')].map(t => t.textContent).join(' ') || "
            "n.textContent).join('')"
        )
        assert shown.split() == TEXT.split()
        spans.nth(1).hover()
        assert "tokens" in page.locator("#status").inner_text()
        assert page.locator(".legend .swatch").count() == len({e["label"] for e in doc["entities"]})
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert not errors
        page.close()


def test_demo_sends_the_api_key_typed_by_the_user(browser: Any) -> None:
    with ThreadedServer(api_keys=["demo-key"]) as server:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.fill("#text", "Apple is a company.")
        page.click("#tag-button")
        page.wait_for_selector("#status.error")
        assert "401" in page.locator("#status").inner_text()
        page.fill("#api-key", "demo-key")
        page.locator("#api-key").dispatch_event("change")
        page.click("#tag-button")
        page.wait_for_selector(".doc .token")
        assert page.locator(".doc .token").count() == 5
        assert page.evaluate("localStorage.getItem('tagger-demo-api-key')") == "demo-key"
        page.close()
