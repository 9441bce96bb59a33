"""Open a built report in headless Chromium, as a person would, with the network blocked.

:func:`check_page` loads ``index.html`` from disk through the Chrome DevTools Protocol (a
websocket, ``websocket-client``) and reports what a reader would meet: whether it loaded, console
errors and uncaught exceptions, every request that tried to leave the machine (all are blocked:
the browser gets a dead proxy and a resolver that resolves nothing, and every non-local request
is failed at the Fetch stage), images that did not render (zero natural size), table-of-contents
links whose target is missing, and a screenshot of the first screen.

``make screenshot BOROUGH=x`` saves that screenshot as ``reports/x/screenshot.png``.

Chromium is Debian's ``chromium`` package (``apt-get install chromium``; ``.ci/run`` installs
it); ``SP_CHROMIUM`` names another binary.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VIEWPORT = (1280, 800)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
NO_ALT = "No description has been provided"  # nbconvert's placeholder for an image without alt text
# the WCAG 2.2 level A and AA rules, with each violation reduced to what a reader of the test needs
AXE_RUN = """axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
    'wcag22aa']}, resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact,
    help: v.help, nodes: v.nodes.length, targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))})))"""
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserError(RuntimeError):
    """Chromium is missing or could not be driven (a message, not a traceback)."""


def chromium_path() -> str | None:
    env = os.environ.get("SP_CHROMIUM")
    if env:
        return shutil.which(env) or (env if Path(env).is_file() else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageReport:
    url: str
    loaded: bool = False
    title: str = ""
    text_chars: int = 0
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    local_requests: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    toc_links: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    screenshot: bytes | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)  # axe-core's, when it was run
    headings: list[int] = field(default_factory=list)  # the levels of the page's headings, in order

    def accessibility_problems(self) -> list[str]:
        """axe-core's serious and critical violations (rule, what, where), images whose alternative
        text is missing or a placeholder, and headings that skip a level."""
        out = [f"{v['id']} ({v['impact']}): {v['help']}: {v['nodes']} element(s), e.g. {v['targets'][:3]}"
               for v in self.violations if v["impact"] in ("serious", "critical")]
        out += [f"image without alternative text that says what it shows: {i['src']}" for i in self.images
                if len(i.get("alt", "").strip()) < 20 or i.get("alt", "").startswith(NO_ALT)]
        out += [f"heading level {b} follows level {a}" for a, b in zip(self.headings, self.headings[1:], strict=False)
                if b > a + 1]
        return out

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        return [i for i in self.images if not i["complete"] or not i["width"] or not i["height"]]

    def problems(self) -> list[str]:
        out = []
        if not self.loaded:
            out.append("the page did not finish loading")
        if not self.text_chars:
            out.append("the page has no text")
        out += [f"console error: {e}" for e in self.console_errors]
        out += [f"request leaving the machine: {u}" for u in self.external_requests]
        out += [f"image not rendered: {i['src']}" for i in self.broken_images]
        if not self.toc_links:
            out.append("no table of contents links")
        out += [f"table of contents link to a missing target: {h}" for h in self.broken_links]
        return out


class _CDP:
    """A minimal DevTools client over the browser websocket (flattened target sessions)."""

    def __init__(self, ws_url: str, timeout: float):
        import websocket  # websocket-client

        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.timeout = timeout

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._event(reply)
        raise BrowserError(f"{method} timed out")

    def _event(self, msg: dict[str, Any]) -> None:
        if "method" in msg:
            self.events.append(msg)
            self.on_event(msg)

    def on_event(self, msg: dict[str, Any]) -> None:  # replaced by the page driver
        pass

    def pump(self, seconds: float, until=None) -> None:
        """Read events for up to ``seconds`` (or until ``until()`` is true)."""
        import websocket

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if until is not None and until():
                return
            self.ws.settimeout(max(min(deadline - time.monotonic(), 0.25), 0.01))
            try:
                self._event(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                continue
        self.ws.settimeout(self.timeout)

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


class Chromium:
    """Headless Chromium started for one check and stopped afterwards (by its own process id)."""

    def __init__(self, timeout: float = 60.0):
        self.binary = chromium_path()
        if not self.binary:
            raise BrowserError("chromium is not installed: install Debian's package (apt-get install -y chromium) "
                               "or set SP_CHROMIUM to a Chromium or Chrome binary")
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.profile: str | None = None
        self.cdp: _CDP | None = None

    def __enter__(self) -> "Chromium":
        self.profile = tempfile.mkdtemp(prefix="sp-chromium-")
        args = [self.binary, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--metrics-recording-only",
                "--mute-audio", "--hide-scrollbars", "--disable-gpu", "--force-device-scale-factor=1",
                f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
                # no request can leave the machine: a dead proxy and a resolver that resolves nothing
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--allow-file-access-from-files", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None:
                self._stop()
                raise BrowserError(f"chromium exited with status {self.proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                self._stop()
                raise BrowserError("chromium did not start within the time allowed")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        try:
            self.cdp = _CDP(f"ws://127.0.0.1:{port.strip()}{path.strip()}", self.timeout)
        except Exception as e:  # noqa: BLE001
            self._stop()
            raise BrowserError(f"could not connect to chromium's DevTools: {e}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.cdp is not None:
            try:
                self.cdp.send("Browser.close")
            except Exception:  # noqa: BLE001
                pass
            self.cdp.close()
            self.cdp = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the group this object started
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # helper processes left in the group it started
            except (ProcessLookupError, PermissionError):
                pass
            self.proc = None
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def check(self, html_file: Path, screenshot: bool = True, settle: float = 0.5, axe: str | None = None) -> PageReport:
        """Open ``html_file`` as a reader would; ``axe``: axe-core's source, to run its WCAG 2.2 A/AA rules."""
        assert self.cdp is not None
        cdp = self.cdp
        url = Path(html_file).resolve().as_uri()
        rep = PageReport(url)
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        state = {"loaded": False, "inflight": 0}

        def on_event(msg: dict[str, Any]) -> None:
            if msg.get("sessionId") != session:
                return
            method, params = msg["method"], msg.get("params", {})
            if method == "Page.loadEventFired":
                state["loaded"] = True
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = params.get("args", [])
                rep.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
            elif method == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails", {})
                rep.console_errors.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                e = params["entry"]
                rep.console_errors.append(f"{e.get('text', '')} {e.get('url', '')}".strip())
            elif method == "Network.requestWillBeSent":
                u = params.get("request", {}).get("url", "")
                if u.startswith(LOCAL_SCHEMES):
                    if not u.startswith("data:"):
                        rep.local_requests.append(u)
                elif u not in rep.external_requests:
                    rep.external_requests.append(u)
            elif method == "Fetch.requestPaused":
                u = params.get("request", {}).get("url", "")
                if u.startswith(LOCAL_SCHEMES):
                    cdp.ws.send(json.dumps({"id": 10**9 + len(cdp.events), "method": "Fetch.continueRequest",
                                            "params": {"requestId": params["requestId"]}, "sessionId": session}))
                else:
                    if u not in rep.external_requests:
                        rep.external_requests.append(u)
                    cdp.ws.send(json.dumps({"id": 10**9 + len(cdp.events), "method": "Fetch.failRequest",
                                            "params": {"requestId": params["requestId"],
                                                       "errorReason": "BlockedByClient"},
                                            "sessionId": session}))

        cdp.on_event = on_event
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.send(f"{domain}.enable", {}, session)
            cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session)
            cdp.send("Emulation.setDeviceMetricsOverride", {"width": VIEWPORT[0], "height": VIEWPORT[1],
                                                            "deviceScaleFactor": 1, "mobile": False}, session)
            nav = cdp.send("Page.navigate", {"url": url}, session)
            if nav.get("errorText"):
                rep.console_errors.append(f"navigation failed: {nav['errorText']}")
            cdp.pump(self.timeout, until=lambda: state["loaded"])
            cdp.pump(settle)  # late console messages and requests
            rep.loaded = state["loaded"]
            facts = self._evaluate(cdp, session, """(() => {
                const imgs = Array.from(document.images).map(i => ({
                    src: (i.getAttribute('src') || '').slice(0, 60), complete: i.complete,
                    width: i.naturalWidth, height: i.naturalHeight, alt: i.getAttribute('alt') || ''}));
                const heads = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
                    .map(h => Number(h.tagName[1]));
                const toc = Array.from(document.querySelectorAll('nav a[href^="#"], #TOC a[href^="#"]'))
                    .map(a => a.getAttribute('href'));
                const broken = toc.filter(h => {
                    const id = decodeURIComponent(h.slice(1));
                    return !(document.getElementById(id) || document.getElementsByName(id).length);
                });
                return {ready: document.readyState, title: document.title,
                        text: (document.body ? document.body.innerText.trim().length : 0),
                        images: imgs, toc: Array.from(new Set(toc)), broken: Array.from(new Set(broken)),
                        headings: heads};
            })()""")
            rep.loaded = rep.loaded and facts.get("ready") == "complete"
            rep.title = facts.get("title", "")
            rep.text_chars = int(facts.get("text", 0))
            rep.images = facts.get("images", [])
            rep.toc_links = facts.get("toc", [])
            rep.broken_links = facts.get("broken", [])
            rep.headings = facts.get("headings", [])
            if axe is not None:
                rep.violations = self._axe(cdp, session, axe)
            if screenshot:
                shot = cdp.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False,
                                                           "clip": {"x": 0, "y": 0, "width": VIEWPORT[0],
                                                                    "height": VIEWPORT[1], "scale": 1}}, session)
                rep.screenshot = base64.b64decode(shot["data"])
        finally:
            cdp.on_event = lambda _m: None
            try:
                cdp.send("Target.closeTarget", {"targetId": target})
            except BrowserError:
                pass
        return rep

    @staticmethod
    def _axe(cdp: _CDP, session: str, source: str) -> list[dict[str, Any]]:
        cdp.send("Runtime.evaluate", {"expression": source}, session)
        res = cdp.send("Runtime.evaluate", {"expression": AXE_RUN, "awaitPromise": True, "returnByValue": True},
                       session)
        if "exceptionDetails" in res:
            raise BrowserError(f"axe-core failed: {res['exceptionDetails'].get('text')}")
        return res.get("result", {}).get("value", []) or []

    @staticmethod
    def _evaluate(cdp: _CDP, session: str, expression: str) -> dict[str, Any]:
        res = cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in res:
            raise BrowserError(f"evaluating the page failed: {res['exceptionDetails'].get('text')}")
        return res.get("result", {}).get("value", {}) or {}


def check_page(html_file: Path, screenshot: bool = True, timeout: float = 60.0,
               accessibility: bool = False) -> PageReport:
    """``accessibility``: also run axe-core's WCAG 2.2 A and AA rules (:func:`axe_source`)."""
    html_file = Path(html_file)
    if not html_file.is_file():
        raise BrowserError(f"{html_file} does not exist: build the report first")
    axe = axe_source() if accessibility else None
    with Chromium(timeout=timeout) as browser:
        return browser.check(html_file, screenshot=screenshot, axe=axe)


def axe_source() -> str:
    """axe-core (npm ``axe-core``, pinned in ``package.json``; ``npm install`` puts it in
    ``node_modules/``; ``SP_AXE`` names another ``axe.min.js``)."""
    from . import paths

    path = Path(os.environ.get("SP_AXE") or paths.ROOT / "node_modules" / "axe-core" / "axe.min.js")
    if not path.is_file():
        raise BrowserError(f"axe-core is not installed ({path} is missing): run `npm install` in the project")
    return path.read_text(encoding="utf-8")


def screenshot(html_file: Path, out: Path | None = None) -> Path:
    """Save the first screen of a report (``screenshot.png`` beside it by default)."""
    html_file = Path(html_file)
    out = Path(out) if out else html_file.with_name("screenshot.png")
    rep = check_page(html_file, screenshot=True)
    if rep.screenshot is None:
        raise BrowserError("no screenshot was taken")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(rep.screenshot)
    os.replace(tmp, out)
    return out
