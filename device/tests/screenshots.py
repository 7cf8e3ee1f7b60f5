#!/usr/bin/env python3
"""The demo device's pages in a real Firefox, asserted and saved as screenshots.

    screenshots.py --lighttpd BIN --srp-verifier BIN [--firefox DIR] [--out DIR]

`cargo xtask device --screenshots` builds lighttpd and srp-verifier and runs this. It starts the
demo device (device/run_device.py) in arrangements 2 and 4 on free ports of 127.0.0.1, and a
stock Firefox ESR (Debian's firefox-esr, DIR defaults to /usr/lib/firefox-esr) under Xvfb,
driven by Marionette. A stock Firefox cannot do TLS-SRP, so:

- what a stock browser sees (the plain-HTTP page with its `TLS-SRP: port=N` header, the
  TLS-SRP port itself, arrangement 4's certificate TLS and its login page) is loaded directly;
  these screenshots are the whole Xvfb screen, address bar included;
- the pages behind the TLS-SRP login are rendered relays: Firefox loads them from a relay on
  127.0.0.1 that makes every request again (GET, and the form posts Firefox submits) to the
  device over a real TLS-SRP connection with curl 7.88 (`--tlsauthtype SRP`) and hands back the
  device's status, Content-Type, Location and body bytes unchanged. These screenshots show the
  page only (Marionette's capture of the document), since the address bar would show the relay.

Checks the page contents (the user shown, the forms and their fields, the header, where
redirects lead) and exits 1 if any check fails. Needs Xvfb, ImageMagick's `import`, curl
7.88 (with TLS-SRP), and the PyPI package marionette_driver. Every wait is bounded; everything
listens on and talks to 127.0.0.1 only.
"""

import argparse
import http.server
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from results import Results
from test_device import Device, curl, run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "browsers"))
import desktop  # noqa: E402  (Xvfb, screenshots, Firefox under Marionette)

MAX_BODY = 64 * 1024
NEW_PASSWORD = "correct horse 2"


# -- the relay for pages behind TLS-SRP ---------------------------------------------------------
class Relay:
    """Plain HTTP on 127.0.0.1 for Firefox. Each request is made again to the device's TLS-SRP
    port by curl with the user's credentials; the answer goes back to Firefox byte for byte
    (status, Content-Type, Location, Cache-Control, body). `log` records what went through."""

    def __init__(self, target, user, password, work):
        self.target, self.user, self.password, self.work = target, user, password, work
        self.log = []
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                relay.forward(self, None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_error(413)
                    return
                relay.forward(self, self.rfile.read(length))

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, handler, body):
        tmp = tempfile.mkdtemp(dir=self.work)
        head, out = os.path.join(tmp, "head"), os.path.join(tmp, "body")
        argv = ["curl", "-sS", "-k", "--max-time", "20", "--tlsauthtype", "SRP",
                "--tlsuser", self.user, "--tlspassword", self.password, "-D", head, "-o", out]
        if body is not None:
            with open(os.path.join(tmp, "request"), "wb") as f:
                f.write(body)
            argv += ["-H", "Content-Type: " + (handler.headers.get("Content-Type") or ""),
                     "--data-binary", "@" + os.path.join(tmp, "request")]
        argv.append(f"https://{self.target}{handler.path}")
        try:
            p = subprocess.run(argv, capture_output=True, timeout=30)
            ok = p.returncode == 0
            error = p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired:
            ok, error = False, "curl timed out"
        if not ok:
            self.log.append((handler.command, handler.path, 502, error))
            handler.send_error(502, "TLS-SRP request failed: " + error.strip()[:200])
            return
        with open(head, "rb") as f:
            # the last block: curl writes interim (1xx) responses too
            block = f.read().decode("iso-8859-1").strip().split("\r\n\r\n")[-1]
        with open(out, "rb") as f:
            data = f.read()
        status = int(block.split(" ", 2)[1])
        self.log.append((handler.command, handler.path, status, ""))
        handler.send_response(status)
        for line in block.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() in ("content-type", "location", "cache-control"):
                handler.send_header(name.strip(), value.strip())
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# -- Firefox ---------------------------------------------------------------------------------
class Firefox(desktop.Firefox):
    def __init__(self, app, screen, work, width, height):
        # Everything not on loopback goes to a proxy port that refuses connections (bound, never
        # listening): Firefox's own background requests stay on the machine. Loopback addresses
        # are never proxied (network.proxy.allow_hijacking_localhost is false).
        self.nowhere = socket.socket()
        self.nowhere.bind(("127.0.0.1", 0))
        nowhere = self.nowhere.getsockname()[1]
        prefs = {
            "network.proxy.type": 1,
            "network.proxy.http": "127.0.0.1",
            "network.proxy.http_port": nowhere,
            "network.proxy.ssl": "127.0.0.1",
            "network.proxy.ssl_port": nowhere,
            "network.proxy.allow_hijacking_localhost": False,
            "browser.safebrowsing.malware.enabled": False,
            "browser.safebrowsing.phishing.enabled": False,
            # the password form would otherwise get a "save this login?" panel
            "signon.rememberSignons": False,
        }
        super().__init__(os.path.join(app, "firefox-esr"), os.path.join(work, "profile"),
                         os.path.join(work, "firefox.log"), screen.display, prefs,
                         size=(width, height), timeout=120)
        self.session(accept_insecure_certs=False)

    def session(self, accept_insecure_certs):
        if self.m.session_id:
            self.m.delete_session()
        self.m.start_session({"acceptInsecureCerts": accept_insecure_certs})
        self.m.timeout.page_load = 30
        self.m.timeout.script = 30
        self.m.timeout.implicit = 0

    def load(self, url):
        """Navigates; returns None, or the error Marionette reports (an error page)."""
        from marionette_driver.errors import MarionetteException

        try:
            self.m.navigate(url)
            return None
        except MarionetteException as e:
            return str(e)

    def page(self):
        return self.m.execute_script(
            "return {url: document.location.href, doc: document.documentURI,"
            " title: document.title, text: document.body ? document.body.innerText : ''};")

    def shot(self, path):
        """The document only (for relayed pages)."""
        with open(path, "wb") as f:
            f.write(self.m.screenshot(format="binary", full=True))

    def quit(self):
        super().quit()
        self.nowhere.close()


# -- what is looked at --------------------------------------------------------------------------
def stock_browser_arrangement2(r, ff, screen, dev, out):
    """A stock Firefox on the plain-HTTP port and on the TLS-SRP port."""
    srp_port = dev.https.rsplit(":", 1)[1]
    url = f"http://{dev.http}/"
    err = ff.load(url)
    p = ff.page()
    seen = ff.m.execute_async_script(
        "let done = arguments[arguments.length - 1];"
        "fetch(location.href, {cache: 'no-store'})"
        ".then(r => done(r.headers.get('TLS-SRP')), e => done('fetch failed: ' + e));")
    r.check("[2] stock Firefox: the plain-HTTP page loads and stays on plain HTTP",
            err is None and p["url"] == url, f"{err} {p}")
    r.check(f"[2] stock Firefox: the page's response carries `TLS-SRP: port={srp_port}`",
            seen == f"port={srp_port}", str(seen))
    r.check("[2] stock Firefox: the page explains the risk and names the TLS-SRP address",
            "anyone on this network" in p["text"]
            and f"https://127.0.0.1:{srp_port}/" in p["text"], p["text"])
    r.check("[2] stock Firefox: nothing on the plain-HTTP page claims a login",
            "Logged in as" not in p["text"] and "Not logged in" in p["text"], p["text"])
    screen.shot(os.path.join(out, "plain-http-risk-page.png"))

    err = ff.load(f"https://{dev.https}/")
    p = ff.page()
    r.check("[2] stock Firefox on the TLS-SRP port: an error page (no TLS-SRP, no certificate)",
            err is not None and p["doc"].startswith("about:neterror"), f"{err} {p}")
    screen.shot(os.path.join(out, "tls-srp-port-in-stock-firefox.png"))


def relayed_admin_pages(r, ff, dev, state, relay, out):
    """The pages behind the TLS-SRP login, rendered from the device's bytes."""
    ff.load(relay.url + "/")
    p = ff.page()
    r.check("[2] status: shows the logged-in user",
            "Logged in as admin (TLS-SRP)" in p["text"] and p["title"] == "Router status",
            str(p))
    links = ff.m.execute_script(
        "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'));")
    r.check("[2] status: links to settings and password", {"/settings", "/password"} <= set(links),
            str(links))
    ff.shot(os.path.join(out, "status.png"))

    ff.m.find_element("css selector", "a[href='/settings']").click()
    wait_for(ff, lambda p: p["title"] == "Settings")
    fields = ff.m.execute_script(
        "return [...document.querySelectorAll('form[method=post] input')]"
        ".map(i => [i.name, i.value, i.labels.length]);")
    r.check("[2] settings: a form with labelled fields for network name and channel",
            [f[0] for f in fields] == ["ssid", "channel"] and all(f[2] == 1 for f in fields),
            str(fields))
    ff.shot(os.path.join(out, "settings.png"))
    for name, value in (("ssid", "lab-net"), ("channel", "11")):
        field = ff.m.find_element("css selector", f"input[name={name}]")
        field.clear()
        field.send_keys(value)
    ff.m.find_element("css selector", "form[method=post] button").click()
    p = wait_for(ff, lambda p: p["title"] == "Router status")
    try:
        with open(os.path.join(state, "settings.json")) as f:
            saved = json.load(f)
    except (OSError, ValueError) as e:
        saved = {"error": str(e)}
    r.check("[2] settings: Firefox's form post is saved, and the status shows it",
            saved == {"ssid": "lab-net", "channel": "11"}
            and "Network name lab-net, channel 11" in p["text"], f"{saved} {p}")
    ff.shot(os.path.join(out, "status-after-settings.png"))

    ff.m.find_element("css selector", "a[href='/password']").click()
    p = wait_for(ff, lambda p: p["title"] == "Change password")
    fields = ff.m.execute_script(
        "return [...document.querySelectorAll('form[method=post] input')]"
        ".map(i => [i.name, i.type, i.labels.length, i.minLength, i.autocomplete]);")
    r.check("[2] change password: names the user, one labelled password field",
            "admin" in p["text"] and fields == [["password", "password", 1, 8, "new-password"]],
            f"{fields} {p}")
    ff.shot(os.path.join(out, "change-password.png"))
    field = ff.m.find_element("css selector", "input[name=password]")
    field.send_keys(NEW_PASSWORD)
    ff.m.find_element("css selector", "form[method=post] button").click()
    p = wait_for(ff, lambda p: p["title"] == "Password changed")
    r.check("[2] change password: the device says the new password is active",
            "The new password is active" in p["text"], str(p))
    ff.shot(os.path.join(out, "password-changed.png"))

    # After lighttpd's graceful reload: the new password logs in, the old one does not.
    old, relay.password = relay.password, NEW_PASSWORD
    deadline = time.monotonic() + 20
    rc, text = 1, ""
    while time.monotonic() < deadline:
        time.sleep(0.5)
        rc, text = curl(f"https://{dev.https}/whoami", user="admin", password=NEW_PASSWORD)
        if rc == 0 and "srp-user: admin" in text:
            break
    r.check("[2] after the change the new password logs in", rc == 0 and "srp-user: admin" in text,
            text)
    rc, text = curl(f"https://{dev.https}/whoami", user="admin", password=old)
    r.check("[2] ... and the old one does not", rc != 0 and "srp-user" not in text, text)
    ff.load(relay.url + "/")
    p = ff.page()
    r.check("[2] status with the new password shows the user",
            "Logged in as admin (TLS-SRP)" in p["text"], str(p))
    r.check("[2] every relayed request reached the device over TLS-SRP",
            relay.log and all(e[2] < 500 for e in relay.log), str(relay.log))


def stock_browser_arrangement4(r, ff, screen, dev, out):
    """Arrangement 4: one TLS port with a certificate and TLS-SRP; plain HTTP redirects."""
    err = ff.load(f"http://{dev.http}/")
    p = ff.page()
    r.check("[4] stock Firefox: plain HTTP is sent to /login",
            err is None and p["url"] == f"http://{dev.http}/login", f"{err} {p}")
    err = ff.load(f"https://{dev.https}/")
    p = ff.page()
    r.check("[4] stock Firefox: the self-signed certificate gets Firefox's warning first",
            err is not None and p["doc"].startswith("about:certerror"), f"{err} {p}")
    screen.shot(os.path.join(out, "arrangement4-certificate-warning.png"))
    ff.session(accept_insecure_certs=True)  # as a user who clicks through the warning
    err = ff.load(f"https://{dev.https}/")
    p = ff.page()
    r.check("[4] stock Firefox after the warning: certificate TLS, sent to the login page",
            err is None and p["url"] == f"https://{dev.https}/login"
            and "need a TLS-SRP login" in p["text"] and "Logged in as" not in p["text"],
            f"{err} {p}")
    command = ff.m.execute_script(
        "let c = document.querySelector('pre code'); return c ? c.textContent : '';")
    argv = shlex.split(command)
    target = f"https://{dev.https}/"
    if argv[:1] == ["curl"] and argv[-1:] == [target] and argv.count("...") == 1:
        rc, text = run(["curl", "-sS", "--max-time", "20"]
                       + [dev.password if a == "..." else a for a in argv[1:]])
    else:
        rc, text = 1, "not a curl command for this router's TLS port"
    r.check("[4] the login page's curl command (with the password) logs in",
            rc == 0 and "Logged in as <b>admin</b>" in text, f"{command}\n{text}")
    screen.shot(os.path.join(out, "arrangement4-login.png"))
    ff.session(accept_insecure_certs=False)


def wait_for(ff, cond, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        try:
            p = ff.page()
        except Exception:  # the document is being replaced
            p = None
        if p and cond(p):
            return p
        if time.monotonic() > deadline:
            return p or {"url": "", "doc": "", "title": "", "text": ""}
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lighttpd", required=True)
    ap.add_argument("--srp-verifier", required=True)
    ap.add_argument("--firefox", default="/usr/lib/firefox-esr",
                    help="a Firefox application directory (default: Debian's firefox-esr)")
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "screenshots", "device"))
    args = ap.parse_args()
    for tool, package in (("Xvfb", "xvfb"), ("import", "imagemagick"), ("curl", "curl")):
        if not shutil.which(tool):
            raise SystemExit(f"missing {tool} (Debian package {package})")
    features = subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout
    if "TLS-SRP" not in features:
        raise SystemExit("this curl has no TLS-SRP (Debian bookworm's curl 7.88 has it)")
    if not os.path.exists(os.path.join(args.firefox, "firefox-esr")):
        raise SystemExit(f"no firefox-esr in {args.firefox} (Debian package firefox-esr)")
    try:
        import marionette_driver  # noqa: F401
    except ImportError:
        raise SystemExit("missing the PyPI package marionette_driver "
                         "(pip install marionette_driver)")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    r = Results()
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="device-screenshots-")
    screen = ff = dev = relay = None
    try:
        screen = desktop.Screen("1024x768")
        ff = Firefox(args.firefox, screen, work, 1024, 768)
        for n in (2, 4):
            state = os.path.join(work, f"device-{n}")
            os.makedirs(state)
            dev = Device(args, n, state)
            try:
                if n == 2:
                    stock_browser_arrangement2(r, ff, screen, dev, out)
                    relay = Relay(dev.https, "admin", dev.password, work)
                    relayed_admin_pages(r, ff, dev, state, relay, out)
                else:
                    stock_browser_arrangement4(r, ff, screen, dev, out)
            finally:
                if relay:
                    relay.stop()
                    relay = None
                dev.stop()
                dev = None
    except Exception as e:  # a step that could not run is a failure
        import traceback

        traceback.print_exc()
        r.check("the screenshots ran to the end", False, repr(e))
    finally:
        if ff:
            ff.quit()
        if screen:
            screen.stop()
        shutil.rmtree(work, ignore_errors=True)
    return r.summary("device screenshots", started, f", in {out}")


if __name__ == "__main__":
    sys.exit(main())
