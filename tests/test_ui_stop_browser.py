"""A real headless Chromium on the app with a chat model that writes slowly: the draft shows as a draft, and Stop
ends the answer, keeping nothing of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_ui_browser import CHROMIUM_ARGS, QUESTION, ROOT, WAIT_MS, _chromium, _free_port, _wait_idle, serve_app

pytestmark = pytest.mark.browser
PIECE_SECONDS = 0.5  # the stub model waits this long before each piece of its answer: about 10 s in all


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    """The OpenAI-compatible stub on a free port of 127.0.0.1, streaming slowly; yields its base URL."""
    folder = tmp_path_factory.mktemp("slow-model")
    port = _free_port()
    stub = Path(__file__).with_name("openai_stub_server.py")
    command = [sys.executable, str(stub), str(port), str(folder / "requests.jsonl"), str(PIECE_SECONDS)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        yield f"http://127.0.0.1:{port}/v1", folder / "requests.jsonl"
    finally:
        server.terminate()
        server.wait(timeout=15)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, slow_model):
    _chromium()
    work = tmp_path_factory.mktemp("ui-stop")
    settings = {"ASSISTANT_CHAT_MODEL": "stub-model", "ASSISTANT_CHAT_BASE_URL": slow_model[0]}
    with serve_app(work, ASSISTANT_INDEX_PATH=".chroma", ASSISTANT_UI_SEEDS=str(ROOT / "seeds"), **settings) as url:
        yield url


def test_stop_ends_a_chat_model_answer_and_keeps_nothing_of_it(app_url, slow_model):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app_url)
            page.wait_for_selector('[data-testid="stChatInput"] textarea:not([disabled])', timeout=WAIT_MS)
            _wait_idle(page)
            box = page.locator('[data-testid="stChatInput"] textarea')
            box.fill(QUESTION)
            box.press("Enter")
            draft = page.locator(".qa-draft")
            draft.wait_for(timeout=WAIT_MS)
            assert "Draft · checking the quotes…" in draft.inner_text(), "the model's words show as a draft"
            assert page.locator("mark.qa-quote").count() == 0, "nothing is quoted before it is verified"
            page.locator(".st-key-stop-0 button").click()
            page.get_by_text("Stopped: the chat model's answer was not finished").wait_for(timeout=WAIT_MS)
            page.wait_for_function("() => !document.querySelector('.qa-draft')", timeout=30_000)  # the draft goes
            _wait_idle(page)
            assert page.locator('[data-testid="stChatMessage"]').count() == 0, "the stopped question is not kept"
        finally:
            browser.close()
    assert '"stream": true' in slow_model[1].read_text(), "the model was asked, streaming"
