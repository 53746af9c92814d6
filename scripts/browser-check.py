#!/usr/bin/env python3
"""Drives the `rmas serve` chat page in headless Chromium (Debian's `chromium`), standard library only.

usage: browser-check.py CHROMIUM URL SCREENSHOT.png [TIMEOUT_SECONDS]

Opens URL (the page with ?model=…&q=… asks at once), waits until the answer's totals line is
filled or an error shows, saves a screenshot, and prints one JSON object: the picker's options,
the question and answer texts, every agent node's name and stats line, the totals line and any
error. Talks to Chromium over --remote-debugging-pipe (the DevTools protocol as NUL-terminated
JSON on fds 3 and 4), so no WebSocket client or driver package is needed.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

EXTRACT = """JSON.stringify({
  options: [...document.querySelectorAll('#model option')].map(o => o.value),
  turns: [...document.querySelectorAll('.turn')].map(t => ({kind: t.className, text: t.textContent})),
  nodes: [...document.querySelectorAll('.node')].map(n => ({name: n.querySelector('.name').textContent,
                                                         stats: n.querySelector('.stats').textContent})),
  edges: [...document.querySelectorAll('#edges li')].map(li => li.textContent),
  totals: document.getElementById('totals').textContent,
  compare: document.getElementById('compare').textContent,
})"""


class Browser:
    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4.
        def child_fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
            pass_fds=(to_chrome_r, from_chrome_w, 3, 4), preexec_fn=child_fds,
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(profile, "stderr.txt"), "w"))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.next_id, self.buffer = 0, b""

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        raise TimeoutError(method)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        self.process.kill()
        self.process.wait()


def main():
    chromium, url, screenshot = sys.argv[1], sys.argv[2], sys.argv[3]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 120
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = Browser(chromium, profile)
        try:
            target = browser.call("Target.createTarget", {"url": url})["targetId"]
            session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            deadline, state = time.time() + timeout, {}
            while time.time() < deadline:
                result = browser.call("Runtime.evaluate", {"expression": EXTRACT, "returnByValue": True}, session)
                value = result.get("result", {}).get("value")
                state = json.loads(value) if value else {}
                comparing = "costing" in state.get("compare", "")
                if (state.get("totals") and not comparing) or any("error" in t["kind"] for t in state.get("turns", [])):
                    break
                time.sleep(0.5)
            shot = browser.call("Page.captureScreenshot", {"format": "png"}, session)
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            print(json.dumps(state, indent=1))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
