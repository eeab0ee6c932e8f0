"""Drive Debian's headless Chromium from async tests, through Playwright for Python.

Playwright is a maintained driver; it is pointed at the system's ``/usr/bin/chromium``
with ``executable_path``, so no browser is ever downloaded (CI cannot, and
``playwright install`` is never run). This module keeps the small API the browser tests
were written against (tests/support/README.md): each page lives in its own browser
context, so cookies and storage never leak from one test's page into another's, and
``wait_for_navigation`` counts load events since the last action, so a navigation that
finished before the call is not missed.

    async with Browser.launch() as browser:
        page = await browser.new_page(javascript=False, width=360, height=740)
        status = await page.goto(url)
        violations = await page.axe()
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import BrowserContext, CDPSession, ConsoleMessage, Request, Response, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame as PlaywrightFrame
from playwright.async_api import Page as PlaywrightPage
from playwright.async_api import TimeoutError as PlaywrightTimeout

__all__ = [
    "AXE_PATH",
    "AXE_TAGS",
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "DEFAULT_TIMEOUT",
    "Browser",
    "BrowserError",
    "BrowserTimeout",
    "Frame",
    "JavaScriptError",
    "NavigationError",
    "Page",
]

CHROMIUM = Path("/usr/bin/chromium")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
"""Flags added to Playwright's own: no sandbox (tests run as root), and nothing that phones
home on its own, so ``Page.requests`` holds only what the page itself asked for."""

DEFAULT_TIMEOUT = 15.0
"""Seconds any single wait (a launch, a load, an action, an evaluation) may take."""

AXE_PATH = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"

AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
"""WCAG 2.2 level AA, as axe-core tags its rules."""

_T = TypeVar("_T")


class BrowserError(Exception):
    """Root of everything the browser helper raises."""


class BrowserTimeout(BrowserError):
    """A wait ran past its timeout: the message says what was being waited for."""


class JavaScriptError(BrowserError):
    """An evaluated expression threw (or its promise rejected)."""


class NavigationError(BrowserError):
    """Chromium could not load the page at all (refused, DNS, aborted...)."""


async def _guarded(call: Awaitable[_T], what: str, timeout: float) -> _T:
    """Await a Playwright call, turning its errors (and a hang) into this module's errors."""
    try:
        return await asyncio.wait_for(call, timeout)
    except (TimeoutError, PlaywrightTimeout) as e:
        raise BrowserTimeout(f"{what}: no answer within {timeout:g}s") from e
    except PlaywrightError as e:
        raise BrowserError(f"{what}: {e.message}") from e


class Browser:
    """One chromium process started by Playwright, and the Playwright driver behind it."""

    def __init__(self, browser: PlaywrightBrowser, timeout: float, pid: int, profile: Path) -> None:
        self._browser = browser
        self._timeout = timeout
        self.pid = pid
        """Chromium's main process; Playwright starts it as the leader of its own process group."""
        self.profile = profile
        """The temporary profile directory Playwright created (and deletes on close)."""

    @classmethod
    @contextlib.asynccontextmanager
    async def launch(cls, *, executable: Path = CHROMIUM, timeout: float = DEFAULT_TIMEOUT) -> AsyncIterator[Browser]:
        """Start chromium on a fresh profile; on exit close it (Playwright kills its process
        group and deletes the profile) and stop the driver."""
        if not executable.exists():
            raise BrowserError(f"chromium not found at {executable} (apt-get install chromium)")
        playwright = await async_playwright().start()
        try:
            try:
                launched = await playwright.chromium.launch(
                    executable_path=executable,
                    args=list(CHROMIUM_FLAGS),
                    headless=True,
                    chromium_sandbox=False,
                    timeout=timeout * 1000,
                )
            except PlaywrightError as e:
                raise BrowserError(_launch_failure(executable, e.message)) from e
            try:
                pid, profile = await _main_process(launched, timeout)
                yield cls(launched, timeout, pid, profile)
            finally:
                await launched.close()
        finally:
            await playwright.stop()

    async def new_page(
        self,
        *,
        javascript: bool = True,
        width: int = 1280,
        height: int = 800,
        mobile: bool = False,
    ) -> Page:
        """Open a blank page in a new, isolated browser context."""
        context = await _guarded(
            self._browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=1,
                is_mobile=mobile,
            ),
            "new_page",
            self._timeout,
        )
        context.set_default_timeout(self._timeout * 1000)
        context.set_default_navigation_timeout(self._timeout * 1000)
        page = await _guarded(context.new_page(), "new_page", self._timeout)
        scripts: CDPSession | None = None
        if not javascript:
            # Not Playwright's java_script_enabled: a context switched off that way cannot be
            # switched on again for an axe audit (its promise waits on timers that never fire
            # while scripts are off). The same DevTools switch, held on our own session, can.
            scripts = await _guarded(context.new_cdp_session(page), "new_page", self._timeout)
            await _guarded(
                scripts.send("Emulation.setScriptExecutionDisabled", {"value": True}), "new_page", self._timeout
            )
        return Page(context, page, scripts, self._timeout)


def _launch_failure(executable: Path, message: str) -> str:
    """Chromium's stderr and exit status, out of Playwright's launch log (which repeats the
    whole command line twice); the log itself if it has neither."""
    stderr = list(dict.fromkeys(re.findall(r"\[pid=\d+\]\[err\] (.*)", message)))
    exited = re.search(r"<process did exit: exitCode=(\w+), signal=(\w+)>", message)
    if not stderr and exited is None:
        return f"chromium ({executable}) did not start: {message}"
    status = "did not start"
    if exited is not None:
        status = f"exited with status {exited[1]}" + (f" (signal {exited[2]})" if exited[2] != "null" else "")
    return f"chromium ({executable}) {status}\n--- chromium stderr ---\n" + "\n".join(stderr)


async def _main_process(browser: PlaywrightBrowser, timeout: float) -> tuple[int, Path]:
    """Chromium's main process id (asked over DevTools) and the profile on its command line."""
    session = await _guarded(browser.new_browser_cdp_session(), "launch", timeout)
    try:
        info = await _guarded(session.send("SystemInfo.getProcessInfo"), "launch", timeout)
    finally:
        await session.detach()
    pids = [int(p["id"]) for p in info["processInfo"] if p["type"] == "browser"]
    if len(pids) != 1:
        raise BrowserError(f"chromium reported {len(pids)} browser processes: {info['processInfo']}")
    argv = Path(f"/proc/{pids[0]}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    dirs = [a.partition("=")[2] for a in argv if a.startswith("--user-data-dir=")]
    if len(dirs) != 1:
        raise BrowserError(f"chromium's command line names {len(dirs)} profile directories: {argv}")
    return pids[0], Path(dirs[0])


class Frame:
    """A frame of a page (an iframe, even one rendered in another process)."""

    def __init__(self, frame: PlaywrightFrame, timeout: float) -> None:
        self._frame = frame
        self._timeout = timeout

    @property
    def url(self) -> str:
        return self._frame.url

    async def evaluate(self, expression: str) -> Any:
        """Value of ``expression`` in this frame (promises awaited); JavaScriptError if it throws."""
        return await _evaluate(self._frame, expression, self._timeout)


async def _evaluate(frame: PlaywrightFrame, expression: str, timeout: float) -> Any:
    try:
        return await asyncio.wait_for(frame.evaluate(expression), timeout)
    except TimeoutError as e:
        raise BrowserTimeout(f"{expression[:200]!r} did not settle within {timeout:g}s") from e
    except PlaywrightError as e:
        raise JavaScriptError(f"{expression[:200]!r} threw: {e.message}") from e


class Page:
    """One tab. Clicks, typing and keys are real input events, so forms work with JS off."""

    def __init__(
        self, context: BrowserContext, page: PlaywrightPage, scripts: CDPSession | None, timeout: float
    ) -> None:
        self._context = context
        self._page = page
        self._scripts = scripts
        self._timeout = timeout
        self._loads = 0
        self._loads_before_action = 0
        self._load_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._statuses: list[int] = []
        self._statuses_before_action = 0
        self.requests: list[str] = []
        """Every URL the page (and its frames) requested, in order."""
        self.errors: list[str] = []
        """Uncaught JS exceptions and console.error messages seen on the page."""
        page.on("load", self._on_load)
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("pageerror", self._on_page_error)
        page.on("console", self._on_console)

    def _on_load(self, _page: PlaywrightPage) -> None:
        self._loads += 1
        for target, future in self._load_waiters:
            if self._loads >= target and not future.done():
                future.set_result(None)

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_response(self, response: Response) -> None:
        request = response.request
        main_document = request.resource_type == "document" and request.is_navigation_request()
        if main_document and request.frame is self._page.main_frame:
            self._statuses.append(response.status)

    def _on_page_error(self, error: PlaywrightError) -> None:
        self.errors.append(f"{error.name}: {error.message}" if error.name else error.message)

    def _on_console(self, message: ConsoleMessage) -> None:
        # Only the page's own console.error calls: Chromium's network log lines ("Failed to
        # load resource: ... 404") arrive as console errors too, with no arguments.
        if message.type == "error" and message.args:
            self.errors.append(message.text)

    async def _wait_for_load(self, target: int, what: str) -> None:
        if self._loads >= target:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (target, future)
        self._load_waiters.append(entry)
        try:
            await asyncio.wait_for(future, self._timeout)
        except TimeoutError as e:
            raise BrowserTimeout(
                f"{what}: no load event within {self._timeout:g}s (page requests so far: {self.requests[-5:]})"
            ) from e
        finally:
            self._load_waiters.remove(entry)

    def _mark_action(self) -> None:
        self._loads_before_action = self._loads
        self._statuses_before_action = len(self._statuses)

    async def goto(self, url: str) -> int | None:
        """Load ``url``, wait for its load event, return the main document's HTTP status.

        None for URLs that have no HTTP response (about:blank, data:).
        """
        self._mark_action()
        try:
            response = await self._page.goto(url, wait_until="load")
        except PlaywrightTimeout as e:
            raise BrowserTimeout(f"goto {url}: no load event within {self._timeout:g}s") from e
        except PlaywrightError as e:
            raise NavigationError(f"could not load {url}: {e.message}") from e
        if response is None:
            if url.startswith(("http://", "https://")):
                raise NavigationError(f"{url} loaded but no HTTP response was seen for it")
            return None
        return response.status

    async def wait_for_navigation(self) -> int | None:
        """Wait for the page load caused by the last click/press/submit; return its status.

        Counting load events since the action (not waiting for "the next one") means a
        navigation that finished before this call is not missed.
        """
        await self._wait_for_load(self._loads_before_action + 1, "wait_for_navigation")
        if len(self._statuses) > self._statuses_before_action:
            return self._statuses[-1]
        return None

    @property
    def status(self) -> int | None:
        """HTTP status of the most recent main document response."""
        return self._statuses[-1] if self._statuses else None

    async def evaluate(self, expression: str) -> Any:
        """Evaluate JS in the page and return the value (awaiting promises).

        Works with ``javascript=False`` too: that switch stops the page's own scripts,
        not the test's.
        """
        return await _evaluate(self._page.main_frame, expression, self._timeout)

    def frames(self, url_prefix: str = "") -> list[Frame]:
        """The page's child frames whose URL starts with ``url_prefix`` (sandboxed iframes
        run in processes of their own; Playwright follows them all the same)."""
        main = self._page.main_frame
        return [Frame(f, self._timeout) for f in self._page.frames if f is not main and f.url.startswith(url_prefix)]

    async def text(self) -> str:
        """The visible text of the body, as a reader would see it."""
        value = await self.evaluate("document.body ? document.body.innerText : ''")
        return str(value)

    async def content(self) -> str:
        """The current DOM serialised as HTML."""
        return await _guarded(self._page.content(), "content", self._timeout)

    async def _require(self, selector: str) -> None:
        """Fail at once, naming the selector, rather than wait out the timeout for nothing."""
        if await _guarded(self._page.query_selector(selector), f"find {selector!r}", self._timeout) is None:
            raise BrowserError(f"no element matches {selector!r}")

    async def click(self, selector: str) -> None:
        """Click the centre of the (first) matching element with real mouse events."""
        await self._require(selector)
        self._mark_action()
        await _guarded(self._page.click(selector), f"click {selector!r}", self._timeout)

    async def fill(self, selector: str, value: str) -> None:
        """Replace the text of an input or textarea, as typing would."""
        await self._require(selector)
        await _guarded(self._page.fill(selector, value), f"fill {selector!r}", self._timeout)

    async def press(self, key: str) -> None:
        """Press a named key on the focused element, e.g. "Enter"."""
        self._mark_action()
        await _guarded(self._page.keyboard.press(key), f"press {key}", self._timeout)

    async def set_input_files(self, selector: str, *paths: str | os.PathLike[str]) -> None:
        """Choose files in a file input (there is no keyboard way to pick a file)."""
        await self._require(selector)
        files = [Path(p) for p in paths]
        await _guarded(self._page.set_input_files(selector, files), f"set files of {selector!r}", self._timeout)

    async def submit_form(self, form: str, fields: Mapping[str, str]) -> int | None:
        """Fill ``fields`` (by input name) in ``form``, click its submit button, await the load."""
        for name, value in fields.items():
            await self.fill(f"{form} [name={_css_string(name)}]", value)
        await self.click(f"{form} button[type=submit], {form} input[type=submit], {form} button:not([type])")
        return await self.wait_for_navigation()

    async def screenshot(self, path: str | os.PathLike[str] | None = None, *, full_page: bool = False) -> bytes:
        """A PNG of the viewport (or the whole page); also written to ``path`` if given."""
        png = await _guarded(self._page.screenshot(type="png", full_page=full_page), "screenshot", self._timeout)
        if path is not None:
            Path(path).write_bytes(png)
        return png

    async def cookies(self) -> list[dict[str, Any]]:
        """All cookies in this page's browser context (name, value, domain, httpOnly, sameSite...)."""
        return [dict(c) for c in await _guarded(self._context.cookies(), "cookies", self._timeout)]

    async def axe(self, *, tags: tuple[str, ...] = AXE_TAGS) -> list[dict[str, Any]]:
        """Run the vendored axe-core against the page; return its violations, simplified.

        Each violation: ``{"id", "impact", "help", "helpUrl", "targets": [css selectors]}``.
        """
        # With scripts disabled, axe.run's promise never settles (its timers do not fire),
        # so scripts are switched on just for the audit. The page's own scripts do not
        # run retroactively: the parser already skipped them.
        await self._set_scripts_disabled(False)
        try:
            if not await self.evaluate("typeof window.axe === 'object'"):
                await self.evaluate(AXE_PATH.read_text(encoding="utf-8"))
            tag_list = ", ".join(f"'{t}'" for t in tags)
            value = await self.evaluate(
                "axe.run(document, {runOnly: {type: 'tag', values: [" + tag_list + "]},"
                " resultTypes: ['violations']}).then(r => r.violations.map(v => ({"
                "id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
                " targets: v.nodes.map(n => n.target.join(' '))})))"
            )
        finally:
            await self._set_scripts_disabled(True)
        return list(value)

    async def _set_scripts_disabled(self, disabled: bool) -> None:
        if self._scripts is not None:
            await _guarded(
                self._scripts.send("Emulation.setScriptExecutionDisabled", {"value": disabled}),
                "switching scripts",
                self._timeout,
            )

    async def close(self) -> None:
        """Close the tab and drop its browser context (cookies, storage)."""
        await _guarded(self._context.close(), "close", self._timeout)


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
