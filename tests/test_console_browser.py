"""The web console in a real browser (Debian's Chromium driven by Playwright) against a real
`aiport serve` with the embedded models: sign in, every playground tab, keys, usage, health.

Every page's screenshot goes to tests/artifacts/console/ (not committed). Every page is also
watched for what must never happen: a request to another origin (a CDN, a font), a
Content-Security-Policy violation, a script error, or the key in a URL.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from playwright.sync_api import expect

from tests.support.fake_upstream import FakeUpstream
from tests.support.faulty_upstream import FaultyUpstream, status
from tests.support.server import MASTER_KEY, AiportProcess, raw_request

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, as root, offline: no sandbox (root), nothing fetched on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A microphone for the recording test: a fake device (a beep), permission granted.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
ARTIFACTS = Path(__file__).parent / "artifacts" / "console"


@dataclass
class Watched:
    """A page and what it did: requests, console messages, uncaught errors."""

    page: Any
    origin: str
    requests: list[Any] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check_clean(self, secrets: tuple[str, ...] = (MASTER_KEY,)) -> None:
        foreign = [
            r.url for r in self.requests if not r.url.startswith((self.origin, "data:", "blob:"))
        ]
        assert not foreign, f"requests to other origins: {foreign}"
        assert not [m for m in self.messages if "Content Security Policy" in m], self.messages
        assert not self.errors, self.errors
        for request in self.requests:
            assert not any(s in request.url for s in secrets), request.url


# Beside the embedded models, a model group as the README's "Routing" configures one: two
# deployments of a priced upstream model, one of them on an upstream that answers 503
# (first in line until its breaker opens), and a fallback to an embedded model. The price
# makes one request cost $0.02765352, so the console's dollars can be held to the CLI's.
TEAM_MODEL = "team-gpt"
PRICE = {"input": 1234.5, "output": 2345.67}  # USD per 1M tokens; the fake answers 11 + 6


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AiportProcess]:
    good, down = FakeUpstream().start(), FaultyUpstream(default=status(503)).start()
    config = {
        "providers": {
            "good": {"base_url": good.url, "api_key": "sk-good-upstream-secret"},
            "down": {"base_url": down.url, "api_key": "sk-down-upstream-secret"},
        },
        "models": {
            TEAM_MODEL: {
                "deployments": [
                    {"provider": "down", "model": "acme-large"},
                    {"provider": "good", "model": "acme-large", "priority": 1},
                ],
                "fallbacks": ["gpt-4o-mini"],
            },
            # The playground's error paths: refused at once, and broken off mid-answer.
            "refused": {"provider": "good", "model": "error-400"},
            "broken-stream": {"provider": "good", "model": "break-stream"},
        },
        "prices": {"acme-large": PRICE},
        "router": {"breaker": {"cooldown": 600}},  # stays open while the tests look
    }
    workdir = tmp_path_factory.mktemp("console")
    process = AiportProcess(workdir, config=config).start(timeout=180)
    yield process
    process.stop()
    good.stop()
    down.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: `make test` installs it", pytrace=False)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_console(browser: Any, server: AiportProcess) -> Iterator[Callable[..., Watched]]:
    """`open_console(key=None, width=1280)`: a fresh browser tab on /console, signed in with
    `key` when given. Each tab is checked for foreign requests and errors afterwards."""
    contexts: list[Any] = []
    opened: list[Watched] = []

    def open_(key: str | None = None, width: int = 1280, height: int = 900) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        watched = Watched(page, server.base_url + "/")
        page.on("request", lambda r: watched.requests.append(r))
        page.on("console", lambda m: watched.messages.append(m.text))
        page.on("pageerror", lambda e: watched.errors.append(str(e)))
        opened.append(watched)
        page.goto(server.base_url + "/console")
        if key is not None:
            sign_in(page, key)
            page.get_by_role("button", name="Sign out").wait_for()
        return watched

    yield open_
    for context in contexts:
        context.close()
    for watched in opened:
        watched.check_clean()


def sign_in(page: Any, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def go(page: Any, route: str) -> None:
    page.evaluate("route => { location.hash = route }", route)


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return answer


def test_a_wrong_key_gets_a_clear_message(open_console: Callable[..., Watched]) -> None:
    page = open_console().page
    shot(page, "01-sign-in")
    # A new operator learns where the master key is.
    help_text = page.locator("#signin-help").inner_text()
    assert "AIPORT_MASTER_KEY" in help_text and "master_key" in help_text
    sign_in(page, "sk-aiport-" + "x" * 43)
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "This key was not accepted" in alert.inner_text()
    assert "Incorrect API key" in alert.inner_text()
    assert page.evaluate("sessionStorage.length") == 0
    shot(page, "02-sign-in-wrong-key")


def test_the_key_stays_in_session_storage_and_headers(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    watched = open_console(MASTER_KEY)
    page = watched.page
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("Object.values(sessionStorage)") == [MASTER_KEY]
    me = next(r for r in watched.requests if r.url.endswith("/me"))
    assert me.headers["authorization"] == f"Bearer {MASTER_KEY}"
    page.reload()  # still signed in: the tab keeps its session storage
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API key").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    assert MASTER_KEY not in server.log()


def test_chat_streams_and_stop_really_cancels(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    page = open_console(MASTER_KEY).page
    chat = page.locator("#pg-panel-chat")
    chat.get_by_label("Max tokens").fill("1500")
    # At temperature 0 the embedded model tells this story for hundreds of tokens.
    chat.get_by_label("Temperature").evaluate(
        "input => { input.value = '0'; input.dispatchEvent(new Event('input', {bubbles: true})) }"
    )
    chat.get_by_label("Message").fill("Write a long story about a dragon.")
    page.get_by_role("button", name="Send").click()
    streaming = page.get_by_test_id("streaming")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=streaming]')?.textContent ?? '').length > 20"
    )
    assert streaming.is_visible()
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("(stopped)").wait_for()
    assert "Stopped by you" in page.get_by_role("status").first.inner_text()

    # The server really stopped: the chat engine is idle long before 1500 tokens (~25 s),
    # and the request is recorded as abandoned (499) with the tokens sent so far.
    def chat_idle() -> bool:
        health = raw_request(server.base_url + "/health").json()
        return health["backends"]["local-chat"]["busy"] == 0

    eventually(chat_idle, timeout=10)

    def abandoned_row() -> Any:
        with sqlite3.connect(server.workdir / "data" / "aiport.db") as db:
            return db.execute(
                "SELECT status, completion_tokens FROM usage_records"
                " WHERE endpoint = '/v1/chat/completions' ORDER BY created_at DESC LIMIT 1"
            ).fetchone()

    status, completion_tokens = eventually(abandoned_row, timeout=10)
    assert status == 499 and 0 < completion_tokens < 1500

    chat.get_by_label("Max tokens").fill("8")
    chat.get_by_label("Message").fill("Hi!")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Finished: length").wait_for()
    snippet = page.locator(".snippets pre").inner_text()
    assert f"curl -N {server.base_url}/chat/completions" in snippet
    assert "$AIPORT_API_KEY" in snippet and MASTER_KEY not in snippet
    page.get_by_role("tab", name="Python").click()
    assert f'base_url="{server.base_url}/v1"' in page.locator(".snippets pre").inner_text()
    shot(page, "03-playground-chat")


def test_chat_sends_openai_messages_and_says_what_failed(
    open_console: Callable[..., Watched],
) -> None:
    watched = open_console(MASTER_KEY)
    page = watched.page
    chat = page.locator("#pg-panel-chat")
    chat.get_by_label("Model").select_option(TEAM_MODEL)  # the fake upstream answers at once
    chat.get_by_label("Message").fill("Hi!")
    page.get_by_role("button", name="Send").click()
    chat.get_by_text("Finished: stop").wait_for()

    # Refused before a word: an error, and the message back in the box, not in the history.
    chat.get_by_label("Model").select_option("refused")
    chat.get_by_label("Message").fill("And now?")
    page.get_by_role("button", name="Send").click()
    chat.get_by_role("alert").wait_for()
    assert "fake 400 (400)" in chat.get_by_role("alert").inner_text()
    expect(chat.get_by_label("Message")).to_have_value("And now?")
    assert chat.locator(".message").count() == 2

    # Broken off after a few words: the words stay, marked; the error is the server's, with no HTTP
    # status (the stream had answered 200).
    chat.get_by_label("Model").select_option("broken-stream")
    page.get_by_role("button", name="Send").click()
    chat.get_by_text("Failed", exact=False).wait_for()
    alert = chat.get_by_role("alert").inner_text()
    assert "broke off" in alert and "(" not in alert, alert
    chat.get_by_text("(broken off)").wait_for()
    sent = [r for r in watched.requests if r.url.endswith("/chat/completions")]
    messages = sent[-1].post_data_json["messages"]
    assert [sorted(m) for m in messages] == [["content", "role"]] * 4  # no `finish`
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    shot(page, "03b-playground-chat-errors")
    page.get_by_role("button", name="New conversation").click()
    expect(chat.locator(".message")).to_have_count(0)
    expect(chat.get_by_role("alert")).to_have_count(0)  # the old error goes with it


def test_an_image_appears_in_the_gallery(open_console: Callable[..., Watched]) -> None:
    page = open_console(MASTER_KEY).page
    go(page, "#/playground/images")
    images = page.locator("#pg-panel-images")
    images.get_by_label("Prompt").fill("three red balloons over a green hill")
    images.get_by_label("Model").select_option("dall-e-2")
    images.get_by_label("Size").select_option("256x256")
    page.get_by_role("button", name="Generate").click()
    image = page.locator(".gallery img").first
    image.wait_for()
    page.wait_for_function("() => document.querySelector('.gallery img')?.naturalWidth === 256")
    assert "three red balloons" in (image.get_attribute("alt") or "")
    shot(page, "04-playground-images")


def test_speech_plays_in_the_page(open_console: Callable[..., Watched]) -> None:
    page = open_console(MASTER_KEY).page
    go(page, "#/playground/speech")
    page.locator("#pg-panel-speech").get_by_label("Text").fill("Hello from the aiport console.")
    page.get_by_role("button", name="Speak").click()
    page.get_by_test_id("speech-audio").wait_for()
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=speech-audio]');"
        " return a && a.duration > 0.5 && (a.currentTime > 0 || a.ended); }"
    )
    shot(page, "05-playground-speech")


def test_an_uploaded_file_is_transcribed(
    open_console: Callable[..., Watched], server: AiportProcess, tmp_path: Path
) -> None:
    recording = tmp_path / "fox.wav"
    server.client().audio.speech.create(
        model="tts-1",
        voice="alloy",
        input="The quick brown fox jumps over the lazy dog.",
        response_format="wav",
    ).write_to_file(recording)
    page = open_console(MASTER_KEY).page
    go(page, "#/playground/transcription")
    page.locator("#pg-panel-transcription").get_by_label("Audio file").set_input_files(
        str(recording)
    )
    page.get_by_role("button", name="Transcribe").click()
    transcript = page.get_by_test_id("transcript")
    transcript.wait_for()
    text = transcript.inner_text().lower()
    assert "fox" in text and "dog" in text, text
    assert "-F file=@'fox.wav'" in page.locator(".snippets pre").inner_text()
    shot(page, "06-playground-transcription")


def test_a_microphone_recording_is_sent_for_transcription(
    open_console: Callable[..., Watched],
) -> None:
    page = open_console(MASTER_KEY).page
    go(page, "#/playground/transcription")
    panel = page.locator("#pg-panel-transcription")
    panel.get_by_role("button", name="Record from microphone").click()
    stop = panel.get_by_role("button", name="Stop recording")
    stop.wait_for()
    page.wait_for_timeout(1000)
    stop.click()
    panel.get_by_text("Ready: recording.webm").wait_for()
    panel.get_by_role("button", name="Transcribe").click()
    panel.get_by_test_id("transcript").wait_for()  # a beep: whatever whisper hears in it
    assert "-F file=@'recording.webm'" in panel.locator(".snippets pre").inner_text()


def test_embeddings_matrix_and_moderation_bars(open_console: Callable[..., Watched]) -> None:
    page = open_console(MASTER_KEY).page
    go(page, "#/playground/embeddings")
    page.get_by_role("button", name="Compare").click()
    rows = page.locator("table.matrix tbody tr")
    rows.first.wait_for()
    assert rows.count() == 4
    assert [rows.nth(i).locator("td").nth(i).inner_text() for i in range(4)] == ["1.00"] * 4
    shot(page, "07-playground-embeddings")
    go(page, "#/playground/moderation")
    page.get_by_role("button", name="Check").click()
    page.get_by_text("Not flagged").wait_for()
    assert page.locator("#pg-panel-moderation .bars li").count() == 13
    shot(page, "08-playground-moderation")


def test_the_playground_offers_the_models_the_key_may_use(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    models = ["gpt-4o-mini", "dall-e-2", "tts-1-hd", "text-embedding-3-large"]
    key = raw_request(server.base_url + "/admin/keys", {"name": "few-models", "models": models})
    page = open_console(key.json()["key"]).page

    def offered(tab: str) -> list[str]:
        go(page, f"#/playground/{tab}")
        select = page.locator(f"#pg-panel-{tab}").get_by_label("Model")
        expect(select.locator("option").first).to_have_text(re.compile(r"\w"))
        return select.locator("option").all_inner_texts()

    expect(page.locator("#pg-panel-chat").get_by_label("Model")).to_have_value("gpt-4o-mini")
    assert offered("images") == ["dall-e-2"]
    images = page.locator("#pg-panel-images")
    assert images.get_by_label("Size").locator("option").all_inner_texts()[0] == "256x256"
    assert offered("speech") == ["tts-1-hd"]
    assert offered("embeddings") == ["text-embedding-3-large"]
    page.get_by_role("button", name="Compare").click()
    page.locator("table.matrix").wait_for()  # the allowed model answers
    # None allowed: every candidate stays, and the server's refusal says why.
    assert offered("moderation") == ["omni-moderation-latest", "text-moderation-latest"]


def test_keyboard_moves_between_tabs(open_console: Callable[..., Watched]) -> None:
    page = open_console(MASTER_KEY).page
    page.get_by_role("tab", name="Chat").focus()
    page.keyboard.press("ArrowRight")
    images = page.get_by_role("tab", name="Images")
    # The page re-renders after the key press: wait for it (expect retries) instead of
    # reading the attribute at once.
    expect(images).to_have_attribute("aria-selected", "true")
    expect(images).to_be_focused()
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Moderation")).to_have_attribute("aria-selected", "true")

    # Enter sends a chat message, but not while an input method (Japanese, Chinese, …) is
    # composing a word: that Enter picks the word.
    go(page, "#/playground/chat")
    chat = page.locator("#pg-panel-chat")
    chat.get_by_label("Model").select_option(TEAM_MODEL)
    message = chat.get_by_label("Message")
    message.fill("日本")
    message.dispatch_event("keydown", {"key": "Enter", "isComposing": True})
    message.press("End")
    message.press_sequentially("語")
    message.press("Enter")
    chat.get_by_text("Finished: stop").wait_for()
    assert chat.locator(".message.user .content").all_inner_texts() == ["日本語"]

    # Another page from the menu: focus goes to its heading (a screen reader says where it
    # is, Tab goes on into the page), not left on the menu.
    page.get_by_role("link", name="Usage").focus()
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Usage")
    expect(heading).to_be_focused()


def test_a_key_is_created_used_seen_in_usage_edited_and_revoked(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    admin = open_console(MASTER_KEY).page
    go(admin, "#/keys")
    admin.get_by_label("Name").fill("console-e2e")
    admin.get_by_label("Requests per minute").first.fill("100")
    admin.get_by_role("button", name="Create key").click()
    key = admin.get_by_test_id("new-key").input_value()
    assert key.startswith("sk-aiport-")
    assert admin.get_by_role("button", name="Copy key").is_visible()
    shot(admin, "09-keys-created")

    client = server.client(key)
    client.embeddings.create(model="text-embedding-3-small", input="from the SDK")
    client.chat.completions.create(
        model="gpt-4o", max_tokens=4, messages=[{"role": "user", "content": "Hi"}]
    )

    admin.get_by_role("button", name="Edit limits of console-e2e").click()
    limits = admin.get_by_label("Limits of console-e2e")
    # The form puts the keyboard in its first field once shown: filling another field before
    # that typed into the first one on a loaded machine ("1005000 rpm").
    expect(limits.get_by_label("Requests per minute")).to_be_focused(timeout=30_000)
    limits.get_by_label("Tokens per minute").fill("5000")
    admin.get_by_role("button", name="Save limits").click()
    # (On failure, the whole key list is printed, with any error the edit showed.)
    expect(admin.locator('section[aria-labelledby="key-list"]')).to_contain_text(
        "100 rpm, 5000 tpm", timeout=30_000
    )

    # The requests appear in the usage chart (split by key) and its table.
    go(admin, "#/usage")

    def seen_in_usage() -> bool:
        admin.get_by_role("button", name="Refresh").click()
        admin.wait_for_function("() => !document.querySelector('.toolbar button[disabled]')")
        return admin.locator("table.totals tr", has_text="console-e2e").count() == 2

    eventually(seen_in_usage)
    legend = admin.locator(".chart .u-legend").first.inner_text()
    assert "console-e2e" in legend
    assert admin.locator(".chart canvas").count() == 5
    shot(admin, "10-usage")

    # The key itself signs in to a reduced console: playground, its own usage, API.
    caller = open_console(key)
    nav = caller.page.get_by_role("navigation", name="Pages").inner_text()
    assert "Playground" in nav and "Usage" in nav and "Keys" not in nav and "Health" not in nav
    go(caller.page, "#/usage")
    caller.page.locator("table.totals tr", has_text="text-embedding-3-small").wait_for()
    shot(caller.page, "11-usage-as-caller")

    go(admin, "#/keys")
    admin.get_by_role("button", name="Revoke console-e2e").click()
    admin.get_by_role("button", name="Yes, revoke").click()
    row = admin.locator("tr", has_text="console-e2e").first
    row.locator(".badge.revoked").wait_for()
    shot(admin, "12-keys-revoked")
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    caller.page.get_by_role("button", name="Refresh").click()
    notice = caller.page.get_by_text("You were signed out")
    notice.wait_for()
    assert "revoked" in notice.inner_text()
    caller.check_clean(secrets=(MASTER_KEY, key))


def test_usage_and_spend_show_the_dollars_aiport_usage_prints(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    created = raw_request(server.base_url + "/admin/keys", {"name": "priced"}).json()
    client = server.client(created["key"])
    for _ in range(3):
        client.chat.completions.create(
            model=TEAM_MODEL, messages=[{"role": "user", "content": "Hi"}]
        )
    page = open_console(MASTER_KEY).page
    go(page, "#/usage")

    def console_row() -> list[str] | None:
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_function("() => !document.querySelector('.toolbar button[disabled]')")
        row = page.locator("table.totals tr", has_text="priced (")
        return row.locator("th, td").all_inner_texts() if row.count() else None

    _, model, requests, errors, prompt, completion, cost, *_ = eventually(console_row)
    printed = cli(server, "usage", "--since", "24h", "--key", created["id"])
    cli_row = printed.splitlines()[1].split()  # KEY (PREFIX) MODEL REQUESTS ... USD ...
    assert [model, requests, errors, prompt, completion] == [TEAM_MODEL, "3", "0", "33", "18"]
    assert cli_row[2:7] == [TEAM_MODEL, "3", "0", "33", "18"]
    assert cli_row[7] == "0.082961"  # 3 x $0.02765352
    assert Decimal(cost.removeprefix("$")) == Decimal(cli_row[7])
    shot(page, "10b-usage-priced")

    go(page, "#/keys")
    spend = page.locator("tr", has_text="priced").first.locator("td").nth(4)
    assert spend.inner_text() == "$0.082961"


def cli(server: AiportProcess, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
    env |= {"AIPORT_DATA_DIR": str(server.workdir / "data"), "AIPORT_MASTER_KEY": MASTER_KEY}
    return subprocess.run(
        [sys.executable, "-m", "aiport", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_a_failing_deployment_shows_its_open_breaker(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    page = open_console(MASTER_KEY).page
    go(page, "#/health")
    deployments = page.get_by_role("region", name="Deployments", exact=True)
    down = deployments.locator(f"tr[data-name='{TEAM_MODEL} → down/acme-large']")
    down.wait_for()
    good = deployments.locator(f"tr[data-name='{TEAM_MODEL} → good/acme-large']")
    assert good.is_visible() and "gpt-4o-mini" in good.inner_text()  # the fallback
    # The embedded engines' own names are folded away, not mixed with the configured group.
    assert not deployments.locator("tr[data-name^='gpt-4o-mini']").count()
    client = server.client()
    for _ in range(6):  # the down deployment is first in line until 5 failures open it
        client.chat.completions.create(
            model=TEAM_MODEL, messages=[{"role": "user", "content": "Hi"}]
        )
    page.get_by_role("button", name="Refresh").click()
    expect(down.locator(".badge")).to_have_text("open")
    expect(good.locator(".badge")).to_have_text("closed")
    # /health says what the requests sent to an upstream told; its breakers name the state.
    upstreams = page.get_by_role("region", name="Engines and upstreams")
    expect(upstreams.locator("tr[data-name=down] .badge")).to_have_text("open")
    expect(upstreams.locator("tr[data-name=good] .badge")).to_have_text("up")
    shot(page, "13b-health-breaker-open")


def test_a_key_is_edited_and_revoked_from_the_keyboard(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    raw_request(server.base_url + "/admin/keys", {"name": "keyboard"})
    page = open_console(MASTER_KEY).page
    go(page, "#/keys")
    edit = page.get_by_role("button", name="Edit limits of keyboard")
    edit.focus()
    page.keyboard.press("Enter")
    form = page.get_by_label("Limits of keyboard")
    expect(form.get_by_label("Requests per minute")).to_be_focused()
    form.get_by_role("button", name="Cancel").focus()
    page.keyboard.press("Enter")
    expect(edit).to_be_focused()  # back where the keyboard was

    revoke = page.get_by_role("button", name="Revoke keyboard")
    revoke.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()  # the safe choice
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Yes, revoke")).to_be_focused()
    page.keyboard.press("Enter")
    row = page.locator("tr", has_text="keyboard").first
    row.locator(".badge.revoked").wait_for()
    expect(row.get_by_role("rowheader")).to_be_focused()  # not lost to the page's top


def test_a_budget_below_a_cent_is_shown_and_kept_when_editing(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    """The API takes any budget (`aiport keys create --max-budget 0.0075`); the console's
    form must not refuse to save a key because its budget is not whole cents."""
    raw_request(server.base_url + "/admin/keys", {"name": "sub-cent", "max_budget": 0.0075})
    page = open_console(MASTER_KEY).page
    go(page, "#/keys")
    row = page.locator("tr", has_text="sub-cent").first
    expect(row.locator("td").nth(4)).to_have_text("$0.00 / $0.0075")
    page.get_by_role("button", name="Edit limits of sub-cent").click()
    page.get_by_label("Limits of sub-cent").get_by_label("Requests per minute").fill("7")
    page.get_by_role("button", name="Save limits").click()
    expect(row.locator("td").nth(2)).to_have_text("7 rpm")
    keys = raw_request(server.base_url + "/admin/keys").json()["data"]
    assert next(k for k in keys if k["name"] == "sub-cent")["max_budget_usd"] == 0.0075


def test_a_keys_expiry_is_shown_when_editing_and_can_be_removed(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    raw_request(server.base_url + "/admin/keys", {"name": "expiring", "expires": "30d"})
    page = open_console(MASTER_KEY).page
    go(page, "#/keys")
    row = page.locator("tr", has_text="expiring").first
    page.get_by_role("button", name="Edit limits of expiring").click()
    form = page.get_by_label("Limits of expiring")
    expect(form.get_by_label("Requests per minute")).to_be_focused(timeout=30_000)  # as above
    expires = form.get_by_label("Expires")
    expect(expires).to_have_value(re.compile(r"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$"))
    expires.fill("")  # empty: never expires, as an empty limit means no limit
    page.get_by_role("button", name="Save limits").click()
    expect(row.locator("td").nth(6)).to_have_text("never")
    keys = raw_request(server.base_url + "/admin/keys").json()["data"]
    assert next(k for k in keys if k["name"] == "expiring")["expires_at"] is None


def test_health_shows_the_engines(open_console: Callable[..., Watched]) -> None:
    page = open_console(MASTER_KEY).page
    go(page, "#/health")
    chat = page.locator("table.health tr[data-name=local-chat]")
    chat.wait_for()
    assert "smollm2-135m-instruct" in chat.inner_text()
    assert chat.locator(".badge.ok").count() == 1  # "up" (or "ready" from older servers)
    database = page.locator("table.health tr[data-name=database]")
    assert "up" in database.inner_text() and "sqlite" in database.inner_text()
    assert "not configured" in page.locator("table.health tr[data-name=redis]").inner_text()
    shot(page, "13-health")


def test_api_page_fills_in_the_base_url(
    open_console: Callable[..., Watched], server: AiportProcess
) -> None:
    page = open_console(MASTER_KEY).page
    go(page, "#/api")
    page.get_by_test_id("base-url").wait_for()
    code = page.locator("pre").first.inner_text()
    assert f"fetch('{server.base_url}/chat/completions'" in code
    shot(page, "14-api")


def test_every_page_fits_a_phone(open_console: Callable[..., Watched]) -> None:
    page = open_console(MASTER_KEY, width=390, height=844).page
    for route in ("#/playground/chat", "#/keys", "#/usage", "#/health", "#/api"):
        go(page, route)
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, (route, overflow)
        shot(page, "15-phone-" + route.strip("#/").replace("/", "-"))


AXE = Path(__file__).resolve().parents[1] / "console" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def test_every_page_passes_axe_wcag_aa_checks(browser: Any, server: AiportProcess) -> None:
    """axe-core (the engine behind browsers' accessibility audits) finds no WCAG 2.1 A/AA
    violation on any page, before and after results appear: names and labels, contrast
    (the similarity matrix's coloured cells too), roles, landmarks."""
    assert AXE.exists(), "run `make test` (it installs console/node_modules)"
    # axe is injected as an inline script, which the console's own policy forbids.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(server.base_url + "/console")
        page.add_script_tag(path=str(AXE))
        found: dict[str, Any] = {}

        def audit(name: str) -> None:
            found[name] = page.evaluate(
                "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
                ".violations.map(v => [v.id, v.nodes.slice(0, 3).map(n => n.target.join(' '))])",
                WCAG_AA,
            )

        page.get_by_label("API key").wait_for()
        audit("sign-in")
        sign_in(page, MASTER_KEY)
        page.get_by_role("button", name="Sign out").wait_for()
        for route in (
            "#/playground/chat",
            "#/playground/images",
            "#/playground/speech",
            "#/playground/transcription",
            "#/playground/embeddings",
            "#/playground/moderation",
            "#/keys",
            "#/usage",
            "#/health",
            "#/api",
        ):
            go(page, route)
            page.wait_for_timeout(300)
            audit(route)
        go(page, "#/playground/embeddings")
        page.locator("#pg-panel-embeddings").get_by_role("button", name="Compare").click()
        page.locator("table.matrix").wait_for()
        audit("embeddings result")
        go(page, "#/playground/moderation")
        page.locator("#pg-panel-moderation").get_by_role("button", name="Check").click()
        page.locator("#pg-panel-moderation .bars").wait_for()
        audit("moderation result")
        assert not any(found.values()), {name: v for name, v in found.items() if v}
    finally:
        context.close()
