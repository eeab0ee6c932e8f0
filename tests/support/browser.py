"""Drive a real headless Chromium from async tests, over the DevTools protocol.

Why not Selenium or Playwright: Debian's chromium is already on the machine, and a
small CDP client on aiohttp (already a dependency) needs no browser download, which
CI cannot do. Each page lives in its own browser context, so cookies and storage
never leak from one test's page into another's.

    async with Browser.launch() as browser:
        page = await browser.new_page(javascript=False, width=360, height=740)
        status = await page.goto(url)
        violations = await page.axe()
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import IO, Any

from .cdp import DEFAULT_TIMEOUT, BrowserError, BrowserTimeout, CdpConnection

__all__ = [
    "AXE_PATH",
    "AXE_TAGS",
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "Browser",
    "BrowserError",
    "BrowserTimeout",
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
"""Fixed flags: no sandbox (tests run as root), and nothing that phones home on its own,
so ``Page.requests`` holds only what the page itself asked for."""

AXE_PATH = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"

AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
"""WCAG 2.2 level AA, as axe-core tags its rules."""

_STDERR_TAIL = 4000
_KILL_GRACE = 5.0


class JavaScriptError(BrowserError):
    """An evaluated expression threw (or its promise rejected)."""


class NavigationError(BrowserError):
    """Chromium could not load the page at all (refused, DNS, aborted...)."""


class Browser:
    """One chromium process, its temporary profile, and the DevTools connection to it."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        profile: Path,
        stderr: IO[bytes],
        timeout: float,
    ) -> None:
        self._process = process
        self._profile = profile
        self._stderr = stderr
        self._timeout = timeout
        self._cdp: CdpConnection | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def launch(
        cls, *, executable: Path = CHROMIUM, timeout: float = DEFAULT_TIMEOUT
    ) -> AsyncIterator[Browser]:
        """Start chromium on a fresh profile; on exit kill it and delete the profile."""
        if not executable.exists():
            raise BrowserError(f"chromium not found at {executable} (apt-get install chromium)")
        profile = Path(tempfile.mkdtemp(prefix="signpost-chromium-"))
        stderr = tempfile.TemporaryFile(prefix="signpost-chromium-stderr-")
        try:
            process = await asyncio.create_subprocess_exec(
                str(executable),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
                # Own process group, so closing kills the zygote and renderers too.
                start_new_session=True,
            )
        except BaseException:
            stderr.close()
            shutil.rmtree(profile, ignore_errors=True)
            raise
        browser = cls(process, profile, stderr, timeout)
        try:
            await browser._connect()
            yield browser
        finally:
            await browser._shutdown()

    @property
    def pid(self) -> int:
        return self._process.pid

    def stderr_tail(self) -> str:
        """The end of chromium's stderr, for error messages."""
        self._stderr.flush()
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, size - _STDERR_TAIL))
        text = self._stderr.read().decode("utf-8", "replace")
        return f"--- chromium stderr (last {_STDERR_TAIL} bytes) ---\n{text}"

    async def new_page(
        self,
        *,
        javascript: bool = True,
        width: int = 1280,
        height: int = 800,
        mobile: bool = False,
    ) -> Page:
        """Open a blank page in a new, isolated browser context."""
        cdp = self._connection()
        context = await cdp.send("Target.createBrowserContext", timeout=self._timeout)
        context_id = context["browserContextId"]
        target = await cdp.send(
            "Target.createTarget",
            {"url": "about:blank", "browserContextId": context_id},
            timeout=self._timeout,
        )
        attached = await cdp.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            timeout=self._timeout,
        )
        page = Page(self, cdp, context_id, target["targetId"], attached["sessionId"])
        await page._setup(javascript=javascript, width=width, height=height, mobile=mobile)
        return page

    def _connection(self) -> CdpConnection:
        if self._cdp is None:
            raise BrowserError("the browser is not connected")
        return self._cdp

    async def _connect(self) -> None:
        port_file = self._profile / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while True:
            if self._process.returncode is not None:
                raise BrowserError(
                    f"chromium exited with status {self._process.returncode} before it "
                    f"opened its DevTools port\n{self.stderr_tail()}"
                )
            lines = port_file.read_text().splitlines() if port_file.exists() else []
            if len(lines) >= 2:
                break
            if loop.time() > deadline:
                raise BrowserTimeout(
                    f"chromium did not write {port_file} within {self._timeout:g}s\n"
                    f"{self.stderr_tail()}"
                )
            await asyncio.sleep(0.05)
        url = f"ws://127.0.0.1:{int(lines[0])}{lines[1]}"
        self._cdp = await CdpConnection.connect(url, self.stderr_tail, timeout=self._timeout)

    async def _shutdown(self) -> None:
        try:
            if self._cdp is not None:
                with contextlib.suppress(BrowserError):
                    await self._cdp.send("Browser.close", timeout=2.0)
                await self._cdp.close()
            try:
                await asyncio.wait_for(self._process.wait(), _KILL_GRACE)
            except TimeoutError:
                pass
            # Kill the whole group even after a clean exit: helpers can outlive the parent.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            # Our child is reaped here; its orphaned helpers are reaped by init.
            await self._process.wait()
        finally:
            self._stderr.close()
            shutil.rmtree(self._profile, ignore_errors=True)


class Page:
    """One tab. Element actions go through real input events, so they work with JS off."""

    def __init__(
        self,
        browser: Browser,
        cdp: CdpConnection,
        context_id: str,
        target_id: str,
        session_id: str,
    ) -> None:
        self._browser = browser
        self._cdp = cdp
        self._context_id = context_id
        self._target_id = target_id
        self._session_id = session_id
        self._timeout = browser._timeout
        self._javascript = True
        self._main_frame: str | None = None
        self._loads = 0
        self._loads_before_action = 0
        self._load_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._document_status: dict[str, int] = {}
        self._statuses: list[int] = []
        self._statuses_before_action = 0
        self.requests: list[str] = []
        """Every URL the page requested (Network.requestWillBeSent), in order."""
        self.errors: list[str] = []
        """Uncaught JS exceptions and console.error messages seen on the page."""
        cdp.subscribe(session_id, self._on_event)

    async def _send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._cdp.send(
            method, params, session_id=self._session_id, timeout=self._timeout
        )

    async def _setup(self, *, javascript: bool, width: int, height: int, mobile: bool) -> None:
        for domain in ("Page", "Network", "Runtime", "DOM"):
            await self._send(f"{domain}.enable")
        tree = await self._send("Page.getFrameTree")
        self._main_frame = tree["frameTree"]["frame"]["id"]
        await self._send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        self._javascript = javascript
        if not javascript:
            await self._send("Emulation.setScriptExecutionDisabled", {"value": True})

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            self._loads += 1
            for target, future in self._load_waiters:
                if self._loads >= target and not future.done():
                    future.set_result(None)
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Network.responseReceived":
            if params.get("type") == "Document" and params.get("frameId") == self._main_frame:
                status = int(params["response"]["status"])
                self._document_status[params["requestId"]] = status
                self._statuses.append(status)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            exception = details.get("exception", {})
            self.errors.append(str(exception.get("description") or details.get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            )

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
                f"{what}: no load event within {self._timeout:g}s "
                f"(page requests so far: {self.requests[-5:]})"
            ) from e
        finally:
            self._load_waiters.remove(entry)

    async def goto(self, url: str) -> int | None:
        """Load ``url``, wait for its load event, return the main document's HTTP status.

        None for URLs that have no HTTP response (about:blank, data:).
        """
        self._mark_action()
        result = await self._send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise NavigationError(f"could not load {url}: {result['errorText']}")
        await self._wait_for_load(self._loads_before_action + 1, f"goto {url}")
        loader = result.get("loaderId")
        if loader is not None and loader in self._document_status:
            return self._document_status[loader]
        if url.startswith(("http://", "https://")):
            raise NavigationError(f"{url} loaded but no HTTP response was seen for it")
        return None

    def _mark_action(self) -> None:
        self._loads_before_action = self._loads
        self._statuses_before_action = len(self._statuses)

    async def wait_for_navigation(self) -> int | None:
        """Wait for the page load caused by the last click/fill/submit; return its status.

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
        result = await self._send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text")
            raise JavaScriptError(f"{expression[:200]!r} threw: {description}")
        return result["result"].get("value")

    async def text(self) -> str:
        """The visible text of the body, as a reader would see it."""
        value = await self.evaluate("document.body ? document.body.innerText : ''")
        return str(value)

    async def content(self) -> str:
        """The current DOM serialised as HTML."""
        document = await self._send("DOM.getDocument", {"depth": 0})
        html = await self._send("DOM.getOuterHTML", {"nodeId": document["root"]["nodeId"]})
        return str(html["outerHTML"])

    async def _node(self, selector: str) -> int:
        document = await self._send("DOM.getDocument", {"depth": 0})
        found = await self._send(
            "DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector}
        )
        node_id = int(found["nodeId"])
        if node_id == 0:
            raise BrowserError(f"no element matches {selector!r}")
        return node_id

    async def click(self, selector: str) -> None:
        """Click the centre of the element with real mouse events."""
        node_id = await self._node(selector)
        await self._send("DOM.scrollIntoViewIfNeeded", {"nodeId": node_id})
        quads = (await self._send("DOM.getContentQuads", {"nodeId": node_id}))["quads"]
        if not quads:
            raise BrowserError(f"{selector!r} is not visible, so it cannot be clicked")
        xs, ys = quads[0][0::2], quads[0][1::2]
        x, y = sum(xs) / 4, sum(ys) / 4
        self._mark_action()
        await self._send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            await self._send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    async def fill(self, selector: str, value: str) -> None:
        """Replace the text of an input or textarea, as typing would."""
        node_id = await self._node(selector)
        await self._send("DOM.focus", {"nodeId": node_id})
        await self._key("a", commands=["selectAll"])
        if value:
            await self._send("Input.insertText", {"text": value})
        else:
            await self._key("Delete", commands=["deleteForward"])

    async def press(self, key: str) -> None:
        """Press a named key on the focused element, e.g. "Enter"."""
        self._mark_action()
        await self._key(key, text="\r" if key == "Enter" else None)

    async def _key(self, key: str, *, commands: list[str] | None = None, text: str | None = None) -> None:
        down: dict[str, Any] = {"type": "keyDown" if text else "rawKeyDown", "key": key}
        if key == "Enter":
            down |= {"code": "Enter", "windowsVirtualKeyCode": 13}
        if text:
            down["text"] = text
        if commands:
            down["commands"] = commands
        await self._send("Input.dispatchKeyEvent", down)
        await self._send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key})

    async def submit_form(self, form: str, fields: Mapping[str, str]) -> int | None:
        """Fill ``fields`` (by input name) in ``form``, click its submit button, await the load."""
        for name, value in fields.items():
            await self.fill(f"{form} [name={_css_string(name)}]", value)
        await self.click(
            f"{form} button[type=submit], {form} input[type=submit], {form} button:not([type])"
        )
        return await self.wait_for_navigation()

    async def screenshot(self, path: str | os.PathLike[str] | None = None, *, full_page: bool = False) -> bytes:
        """A PNG of the viewport (or the whole page); also written to ``path`` if given."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = await self._send("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            params |= {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            }
        png = base64.b64decode((await self._send("Page.captureScreenshot", params))["data"])
        if path is not None:
            Path(path).write_bytes(png)
        return png

    async def cookies(self) -> list[dict[str, Any]]:
        """All cookies in this page's browser context (name, value, domain, httpOnly...)."""
        result = await self._cdp.send(
            "Storage.getCookies", {"browserContextId": self._context_id}, timeout=self._timeout
        )
        return list(result["cookies"])

    async def axe(self, *, tags: tuple[str, ...] = AXE_TAGS) -> list[dict[str, Any]]:
        """Run the vendored axe-core against the page; return its violations, simplified.

        Each violation: ``{"id", "impact", "help", "helpUrl", "targets": [css selectors]}``.
        """
        # With scripts disabled, axe.run's promise never settles (its timers do not fire),
        # so scripts are switched on just for the audit. The page's own scripts do not
        # run retroactively: the parser already skipped them.
        if not self._javascript:
            await self._send("Emulation.setScriptExecutionDisabled", {"value": False})
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
            if not self._javascript:
                await self._send("Emulation.setScriptExecutionDisabled", {"value": True})
        return list(value)

    async def close(self) -> None:
        """Close the tab and drop its browser context (cookies, storage)."""
        self._cdp.unsubscribe(self._session_id)
        await self._cdp.send("Target.closeTarget", {"targetId": self._target_id}, timeout=self._timeout)
        await self._cdp.send(
            "Target.disposeBrowserContext", {"browserContextId": self._context_id}, timeout=self._timeout
        )


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
