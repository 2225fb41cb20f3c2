"""A real headless Chromium on `streamlit run ui/app.py`: ask, open a citation, check document markup never runs.

Screenshots go to $UI_SCREENSHOTS (e.g. docs/screenshots) or to the test's temporary folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.cli_ui import ui_command
from assistant.settings import Settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Where did the NATO foreign ministers meet?"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAYLOAD_SENTENCE = (
    "The garden club held its annual picnic in Lisbon "
    "<script>window.__pwned = 1; document.title = 'pwned'</script> near the old lighthouse "
    "<img src=x onerror=\"window.__pwned = 1; document.title = 'pwned'\"> on a sunny Tuesday."
)
WAIT_MS = 120_000


def _chromium() -> str:
    """Chromium's path; without it (or Playwright) the test skips, except under CI=true where it fails."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    missing = "" if found else "Chromium (set CHROMIUM to its path)"
    if importlib.util.find_spec("playwright") is None:
        missing = "the playwright package"
    if missing:
        if os.environ.get("CI") != "true":
            pytest.skip(f"{missing} is not installed; the browser test requires it when CI=true")
        pytest.fail(f"the browser test needs {missing} under CI=true")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not start in {seconds}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run ui/app.py` on a free port of 127.0.0.1, an empty index, seeds/ indexed on the first run, started
    from a folder that holds a user's own index.py and ui.py."""
    _chromium()
    work = tmp_path_factory.mktemp("ui-browser")
    for name in ("index.py", "ui.py"):  # a user's own modules in the folder the app starts from are never imported
        (work / name).write_text(f"raise SystemExit('the user\\'s own {name} was imported')\n")
    with serve_app(work, ASSISTANT_INDEX_PATH=".chroma", ASSISTANT_UI_SEEDS=str(ROOT / "seeds")) as url:  # in `work`
        yield url, work


@contextlib.contextmanager
def serve_app(work: Path, **settings: str) -> Iterator[str]:
    """The app run as `assistant ui` runs it, from `work`, on a free port of 127.0.0.1, with these ASSISTANT_*
    settings only; yields its URL once healthy, and stops it by PID."""
    port = _free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    environment.update(settings)
    command = ui_command(Settings(), "127.0.0.1", port)  # the very command `assistant ui` runs
    log = work / "streamlit.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=work, env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server):
    url, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    _wait_ready(page)
    yield page
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("UI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait_ready(page) -> None:
    """The first page load also loads the model and indexes seeds/: wait for an enabled chat box."""
    page.wait_for_selector('[data-testid="stChatInput"] textarea:not([disabled])', timeout=WAIT_MS)


def _wait_idle(page) -> None:
    """Wait until the app has finished running: input given during a rerun, under load, was lost once in CI."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)


def _ask(page, question: str) -> None:
    """Type the question and send it, then wait until it shows in the conversation as the newest message."""
    _wait_idle(page)
    messages = page.locator('[data-testid="stChatMessage"]')
    before = messages.count()
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.fill(question)
    page.wait_for_function("([box, text]) => box.value === text", arg=[box.element_handle(), question])
    box.press("Enter")
    try:
        page.wait_for_function(
            "([before, text]) => { const shown = document.querySelectorAll('[data-testid=\"stChatMessage\"]');"
            " return shown.length > before && [...shown].some((m) => m.innerText.includes(text)); }",
            arg=[before, question],
            timeout=WAIT_MS,
        )
    except Exception as error:
        raise AssertionError(f"the question was not sent; the page shows:\n{_chat_text(page)}") from error


def _chat_text(page) -> str:
    return "\n---\n".join(page.locator('[data-testid="stChatMessage"]').all_inner_texts())


def _wait_for_text(page, text: str) -> None:
    """Wait for `text` on the page; when it never shows, fail with what the conversation says instead."""
    try:
        page.get_by_text(text).wait_for(timeout=WAIT_MS)
    except Exception as error:
        raise AssertionError(f"{text!r} did not show; the conversation reads:\n{_chat_text(page)}") from error


def _no_payload_ran(page) -> None:
    for frame in page.frames:
        assert frame.evaluate("() => window.__pwned === undefined"), f"payload ran in {frame.url}"
    assert page.title() != "pwned"


def _quote_on_screen(page):
    """The highlighted quote in the viewer, after checking it was scrolled into the visible part of the document."""
    mark = page.locator("mark#quote")
    mark.wait_for(timeout=30_000)
    page.wait_for_function(
        """() => {
            const mark = document.getElementById('quote');
            const box = mark.closest('.qa-doc').getBoundingClientRect();
            const spot = mark.getBoundingClientRect();
            return spot.top >= box.top - 1 && spot.top < box.bottom && spot.top >= 0 && spot.top < innerHeight;
        }""",
        timeout=10_000,
    )
    return mark


def test_ask_and_open_a_citation(page, shots):
    _ask(page, QUESTION)
    opener = page.get_by_role("button", name="Open [1] in the document")
    opener.wait_for(timeout=WAIT_MS)
    answer = page.locator('[data-testid="stChatMessage"] .qa-text').last
    assert "informal meeting of NATO foreign ministers in Prague" in answer.inner_text()
    card_quote = page.locator("mark.qa-quote").first.inner_text()
    assert "informal meeting of NATO foreign ministers in Prague" in card_quote
    page.locator('[data-testid="stToast"]').first.wait_for(state="detached", timeout=20_000)
    assert page.locator('[data-testid="stAppDeployButton"], [data-testid="stMainMenu"]').count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0
    page.screenshot(path=str(shots / "chat.png"))

    opener.click()
    mark = _quote_on_screen(page)
    assert mark.inner_text() == card_quote
    assert mark.evaluate("element => getComputedStyle(element).backgroundColor") not in ("rgba(0, 0, 0, 0)", "")
    document = page.locator(".qa-doc").inner_text()
    assert document.startswith("NATO Secretary General Jens Stoltenberg") and "Stoltenberg said." in document
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "citation.png"))


def test_markup_in_a_document_is_shown_as_text_and_never_runs(page, server, tmp_path):
    _, work = server
    filler = "\n\n".join(
        f"Paragraph {number}: the committee reviewed budgets, schedules and the minutes of earlier sessions."
        for number in range(60)
    )
    notes = tmp_path / "club-notes.txt"
    notes.write_text(f"{filler}\n\n{PAYLOAD_SENTENCE}\n\nThe treasurer reported a small surplus.\n")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(notes))
    page.get_by_text("club-notes.txt").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Index uploaded files").click()
    page.get_by_text("club-notes.txt: added").wait_for(timeout=WAIT_MS)
    assert (work / ".chroma-uploads" / "documents" / "club-notes.txt").is_file()  # beside the index

    _ask(page, "Where did the garden club hold its annual picnic?")
    page.get_by_role("button", name="Open [1] in the document").wait_for(timeout=WAIT_MS)
    answer = page.locator('[data-testid="stChatMessage"] .qa-text').last.inner_text()
    assert "<script>window.__pwned = 1; document.title = 'pwned'</script>" in answer
    assert "<img src=x onerror=" in page.locator("mark.qa-quote").first.inner_text()
    _no_payload_ran(page)

    page.get_by_role("button", name="Open [1] in the document").click()
    mark = _quote_on_screen(page)  # the quote is near the end of a long document: it was scrolled to
    assert mark.inner_text() == PAYLOAD_SENTENCE
    assert page.locator(".qa-doc img, .qa-doc script").count() == 0
    page.wait_for_timeout(500)
    _no_payload_ran(page)
    page.screenshot(path=str(tmp_path / "markup.png"))


def _choose_within(page, name: str, then_asking: str) -> None:
    """Pick `name` in the sidebar's "Ask within" list, as a person does: click the list, type, click the option; then
    wait for the question box to say `then_asking` (the app has run with the choice).

    Under a heavy load (CI with both test workers busy) a choice the browser showed as made was twice never run by
    the app; as a person would, the test then takes the choice away and makes it again, once, with a warning that
    says what the page showed."""
    asking = page.locator(f'[data-testid="stChatInput"] textarea[placeholder="{then_asking}"]')
    within = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Ask within")
    tag = within.get_by_role("button", name=f"Remove {name}")
    for attempt in (1, 2):
        _wait_idle(page)
        if tag.count():
            tag.click()
            _wait_idle(page)
        search = within.locator("input")
        search.click()
        search.press_sequentially(name)  # typed into the list's own box, even if focus came late under load
        page.get_by_role("option", name=name).click(timeout=30_000)
        search.press("Escape")
        try:
            tag.wait_for(timeout=30_000)  # the chosen document's tag
            asking.wait_for(timeout=WAIT_MS // 2)
            return
        except Exception as error:
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            placeholder = page.locator('[data-testid="stChatInput"] textarea').get_attribute("placeholder")
            seen = f"the question box says {placeholder!r}; the sidebar reads:\n{sidebar}"
            if attempt == 2:
                raise AssertionError(f"choosing {name} never reached the app: {seen}") from error
            warnings.warn(f"choosing {name} did not reach the app at first, chosen again: {seen}", stacklevel=2)


def test_ask_within_a_chosen_document(page, tmp_path, shots):
    notes = tmp_path / "ferry-notes.txt"
    notes.write_text("The ferry to Vela leaves at seven in the morning from the old harbour.\n", encoding="utf-8")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(notes))
    page.get_by_text("ferry-notes.txt").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Index uploaded files").click()
    page.get_by_text("ferry-notes.txt: added").wait_for(timeout=WAIT_MS)

    _choose_within(page, "nato-stoltenberg-prague.txt", "Ask within nato-stoltenberg-prague.txt")
    _ask(page, "When does the ferry to Vela leave?")
    _wait_for_text(page, "Asked within: nato-stoltenberg-prague.txt")
    answer = page.locator('[data-testid="stChatMessage"] .qa-text').last.inner_text()
    assert "do not contain an answer" in answer, "the ferry is only in the document not chosen"
    assert page.locator("mark.qa-quote").count() == 0

    both = "Ask within ferry-notes.txt, nato-stoltenberg-prague.txt"
    _choose_within(page, "ferry-notes.txt", both)  # the first choice is kept: now both documents
    _ask(page, "When does the ferry to Vela leave?")
    _wait_for_text(page, "Asked within: ferry-notes.txt, nato-stoltenberg-prague.txt")
    page.get_by_role("button", name="Open [1] in the document").wait_for(timeout=WAIT_MS)
    assert "seven in the morning" in page.locator("mark.qa-quote").last.inner_text()
    page.screenshot(path=str(shots / "ask-within.png"))
