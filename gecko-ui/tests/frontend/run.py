#!/usr/bin/env python3
"""The gecko-ui front end in the real Firefox ESR binary.

Copies a Firefox application directory (Debian's firefox-esr 140.12:
/usr/lib/firefox-esr), rebuilds its omni.ja and browser/omni.ja with the
series' front-end hunks applied to the packaged files, starts it under Xvfb
with a fresh profile and Marionette, drives the TLS-SRP front end, asserts
the DOM and saves screenshots.

    python3 gecko-ui/tests/frontend/run.py --firefox-dir /usr/lib/firefox-esr \\
        --out docs/screenshots/firefox

Needs: Xvfb, ImageMagick (import, convert), openssl, patch, and the PyPI
package marionette_driver. Prints one line per assertion and a closing
"N passed, N failed" line; exits 0 only if every assertion passed.
See gecko-ui/README.md for what is real and what is faked here.
"""

import argparse
import base64
import http.server
import json
import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GECKO_UI = HERE.parent.parent
sys.path.insert(0, str(GECKO_UI.parent / "tests" / "browsers"))
import desktop  # noqa: E402  (Xvfb, screenshots, Firefox under Marionette)

# Where the sources the series touches sit in the packaged application:
# (source prefix, jar, packaged prefix). Checked in order; the first match
# wins. "browser" is browser/omni.ja, "toolkit" is omni.ja.
PACKAGED = [
    (
        "browser/components/controlcenter/content/identityPanel.inc.xhtml",
        "browser",
        "chrome/browser/content/browser/browser.xhtml",
    ),
    ("browser/base/content/", "browser", "chrome/browser/content/browser/"),
    (
        "browser/themes/shared/identity-block/",
        "browser",
        "chrome/browser/skin/classic/browser/identity-block/",
    ),
    (
        "browser/themes/shared/controlcenter/",
        "browser",
        "chrome/browser/skin/classic/browser/controlcenter/",
    ),
    ("browser/locales/en-US/browser/", "browser", "localization/en-US/browser/"),
    # moz-src:/// modules of every directory are packaged in omni.ja.
    ("browser/components/tlssrp/", "toolkit", "moz-src/browser/components/tlssrp/"),
    ("toolkit/components/prompts/src/", "toolkit", "modules/"),
    ("toolkit/components/passwordmgr/", "toolkit", "modules/"),
    ("toolkit/content/", "toolkit", "chrome/toolkit/content/global/"),
    ("toolkit/locales/en-US/toolkit/", "toolkit", "localization/en-US/toolkit/"),
]
# The packaged components.manifest is the preprocessed merge of every
# component manifest: the lines the series adds are appended to it.
APPENDED = {
    "browser/components/BrowserComponents.manifest": (
        "browser",
        "components/components.manifest",
    ),
}
# Build files, compiled code (PSM's C++ and its components.conf end up in
# libxul, which the stock binary's PSM stands for; so do the static prefs of
# StaticPrefList.yaml; the core's Rust crate, Cargo's files and cargo-vet's
# end up in libssl3 or nowhere) and tests (test/, tests/) have no packaged
# counterpart.
BUILD_ONLY = re.compile(
    r"(\.idl|\.cpp|\.h|/components\.conf|/moz\.build|\.mn|/StaticPrefList\.yaml"
    r"|\.rs|(^|/)Cargo\.(toml|lock)|^supply-chain/.*|/tests?/.*)$"
)
JARS = {"browser": "browser/omni.ja", "toolkit": "omni.ja"}

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print(("PASS " if ok else "FAIL ") + name + (f"  [{detail}]" if detail and not ok else ""))
    sys.stdout.flush()


def log(msg):
    print("... " + msg)
    sys.stdout.flush()


# ---------------------------------------------------------------- omni.ja


def read_series(series_dir):
    """The patch names of a quilt series file, in order."""
    lines = (series_dir / "series").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def split_patch(text):
    """Yields (path, file section) for each file a unified diff touches."""
    sections = re.split(r"(?m)^(?=--- (?:a/|/dev/null))", text)
    for section in sections[1:]:
        m = re.search(r"(?m)^\+\+\+ b/(\S+)", section)
        if not m:
            raise SystemExit("cannot read the target of a hunk:\n" + section[:200])
        yield m.group(1), section


def packaged_path(path):
    for prefix, jar, target in PACKAGED:
        if path == prefix:
            return jar, target
        if prefix.endswith("/") and path.startswith(prefix):
            return jar, target + path[len(prefix):]
    return None


def build_omni(app, series_dir, work):
    """Applies the series' front-end hunks to the packaged files of app."""
    series = read_series(series_dir)
    stage = work / "stage"
    stage.mkdir()
    jars = {name: zipfile.ZipFile(app / rel) for name, rel in JARS.items()}
    changed = {name: {} for name in JARS}  # jar -> {packaged path: file}
    appended = {name: {} for name in JARS}
    for patch_name in series:
        text = (series_dir / patch_name).read_text()
        for path, section in split_patch(text):
            if path in APPENDED:
                jar, target = APPENDED[path]
                added = [
                    line[1:]
                    for line in section.splitlines()
                    if line.startswith("+") and not line.startswith("+++")
                ]
                appended[jar].setdefault(target, []).extend(added)
                continue
            if BUILD_ONLY.search(path):
                continue
            where = packaged_path(path)
            if where is None:
                raise SystemExit(
                    f"{patch_name} touches {path}, which run.py cannot map to "
                    "a packaged file: add it to PACKAGED or BUILD_ONLY"
                )
            jar, target = where
            local = stage / jar / target
            if target not in changed[jar]:
                local.parent.mkdir(parents=True, exist_ok=True)
                if target in jars[jar].namelist():
                    local.write_bytes(jars[jar].read(target))
                changed[jar][target] = local
            hunk = f"--- a/{target}\n+++ b/{target}\n" + section.split("\n", 2)[2]
            r = subprocess.run(
                ["patch", "-p1", "--fuzz=0", "--no-backup-if-mismatch", "-s", "-d", str(stage / jar)],
                input=hunk.encode(),
                capture_output=True,
            )
            if r.returncode != 0:
                raise SystemExit(
                    f"{patch_name}: the hunks for {path} do not apply to the "
                    f"packaged {jar}:{target}:\n{r.stdout.decode()}{r.stderr.decode()}"
                )
    # aboutNetErrorCodes.js is generated from nsserrors.ftl at build time
    # (toolkit/content/neterror/gen_aboutneterror_codes.py): do the same.
    ftl = "localization/en-US/toolkit/neterror/nsserrors.ftl"
    if ftl in changed["toolkit"]:
        ids = re.findall(r"(?m)^([a-zA-Z][\w-]*) =", changed["toolkit"][ftl].read_text())
        codes = stage / "toolkit/chrome/toolkit/content/global/neterror/aboutNetErrorCodes.js"
        codes.parent.mkdir(parents=True, exist_ok=True)
        codes.write_text(
            "const KNOWN_ERROR_MESSAGE_IDS = new Set([\n"
            + "".join(f'  "{i}",\n' for i in ids)
            + "]);\n"
        )
        changed["toolkit"]["chrome/toolkit/content/global/neterror/aboutNetErrorCodes.js"] = codes
    for name, rel in JARS.items():
        src = jars[name]
        out = work / (name + ".ja")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                if info.filename in changed[name]:
                    continue
                data = src.read(info.filename)
                if info.filename in appended[name]:
                    data = data.rstrip(b"\n") + b"\n" + "\n".join(appended[name][info.filename]).encode() + b"\n"
                dst.writestr(info, data)
            for target, local in changed[name].items():
                dst.writestr(target, local.read_bytes())
        src.close()
        os.unlink(app / rel)  # app files are hard links to the original
        shutil.move(out, app / rel)
    return {name: sorted(changed[name]) for name in JARS}


def check_tests_parse(series_dir, work):
    """Mochitests cannot run without a Firefox build: at least they must
    parse. Extracts every .js/.sjs file the series adds under a test/
    directory and asks node to compile it (as a script, as the harness
    loads them)."""
    node = shutil.which("node")
    if not node:
        log("node not found: mochitest parse check skipped")
        return
    for patch_name in read_series(series_dir):
        for path, section in split_patch((series_dir / patch_name).read_text()):
            if "/test/" not in path or not path.endswith((".js", ".sjs")):
                continue
            if not section.startswith("--- /dev/null"):
                continue
            body = "".join(line[1:] + "\n" for line in section.splitlines()[3:] if line.startswith("+"))
            src = work / "parse" / path
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_text(body)
            r = subprocess.run(
                [node, "-e", "new Function(require('fs').readFileSync(process.argv[1], 'utf8'))", str(src)],
                capture_output=True, text=True)
            check(f"series: {path} parses", r.returncode == 0, r.stderr.strip()[-300:])


# ---------------------------------------------------------------- servers


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.hits = {}

    def add(self, key):
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1

    def get(self, key):
        with self.lock:
            return self.hits.get(key, 0)


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px sans-serif;margin:2em;color:#223}}h1{{font-size:1.6em}}
.card{{border:1px solid #ccd;border-radius:8px;padding:1em 1.5em;max-width:38em;background:#f7f8fb}}</style>
</head><body><h1>{title}</h1><div class="card"><p>Host: <b>{host}</b></p>
<p>Path: <code>{path}</code></p><p>WAN: connected &middot; Wi-Fi: on &middot; Firmware 2.4.1</p></div></body></html>"""


def make_handler(counter, announce_port=None):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            host = self.headers.get("Host", "").split(":")[0]
            path = self.path
            counter.add((host, path.split("?")[0]))
            body = PAGE.format(
                title="Router administration" if "router" in host else host,
                host=host,
                path=path,
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if announce_port is not None and not path.startswith("/plain"):
                if path.startswith("/malformed"):
                    self.send_header("TLS-SRP", "port=abc")
                else:
                    self.send_header("TLS-SRP", f"port={announce_port}")
            self.end_headers()
            self.wfile.write(body)

    return Handler


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_http(handler, context=None):
    server = ThreadingServer(("127.0.0.1", 0), handler)
    if context:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class AlertServer:
    """A TLS endpoint that answers every ClientHello with a fatal
    handshake_failure alert, and records the SNI of each ClientHello."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hellos = []
        self.lock = threading.Lock()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            conn.settimeout(5)
            data = b""
            while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            if data[0] == 0x16:
                with self.lock:
                    self.hellos.append(sni_of(data))
            conn.sendall(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]))
            time.sleep(0.2)
        except OSError:
            pass
        finally:
            conn.close()

    def snis(self):
        with self.lock:
            return list(self.hellos)


def sni_of(record):
    """The server_name of a TLS ClientHello record, or ''."""
    try:
        p = 5 + 4 + 2 + 32
        p += 1 + record[p]
        p += 2 + int.from_bytes(record[p:p + 2], "big")
        p += 1 + record[p]
        end = p + 2 + int.from_bytes(record[p:p + 2], "big")
        p += 2
        while p + 4 <= end:
            etype = int.from_bytes(record[p:p + 2], "big")
            elen = int.from_bytes(record[p + 2:p + 4], "big")
            if etype == 0:
                name_len = int.from_bytes(record[p + 7:p + 9], "big")
                return record[p + 9:p + 9 + name_len].decode()
            p += 4 + elen
    except (IndexError, UnicodeDecodeError):
        pass
    return ""


# ---------------------------------------------------------------- browser


class Browser(desktop.Firefox):
    def __init__(self, app, work, screen):
        self.screen = screen
        self.profile = work / "profile"
        prefs = {
            "network.dns.localDomains": "router.home.arpa,printer.home.arpa,device.example",
            "network.proxy.type": 0,
            "devtools.console.stdout.chrome": True,
            "browser.dom.window.dump.enabled": True,
            "dom.security.https_first": False,
            "dom.security.https_first_schemeless": False,
            "browser.topsites.contile.enabled": False,
            "security.certerrors.felt-privacy-v1": False,
        }
        super().__init__(app / "firefox-esr", self.profile, work / "firefox.log", screen.display,
                         prefs, args=["-remote-allow-system-access", "-purgecaches"])
        # The password dialog is tab-modal: Marionette must leave it alone.
        self.m.start_session({"unhandledPromptBehavior": "ignore"})
        self.m.set_context(self.m.CONTEXT_CHROME)
        self.m.timeout.script = 120

    def call(self, method, *args):
        """Calls SRPTest.<method>(*args) in the parent process."""
        script = (
            "let [method, args] = arguments; let done = arguments[arguments.length - 1];"
            "const { SRPTest } = ChromeUtils.importESModule('resource://srp-test/SRPTestHelper.sys.mjs');"
            "Promise.resolve().then(() => SRPTest[method](...args))"
            ".then(r => done({ ok: r === undefined ? null : r }), e => done({ error: String(e) + '\\n' + (e.stack || '') }));"
        )
        r = self.m.execute_async_script(script, script_args=[method, list(args)])
        if r is None:
            raise RuntimeError(f"SRPTest.{method}: no answer from the browser")
        if "error" in r:
            raise RuntimeError(f"SRPTest.{method}: {r['error']}")
        return r["ok"]

    def prompt(self, url, previous_failed, answer, shot):
        """One round of the password dialog, opened as the network code will
        open it: returns its texts and the answer the network code gets,
        with a screenshot taken while it shows."""
        sync = Path(tempfile.mkdtemp(prefix="prompt-", dir=self.profile.parent))
        self.call("schedulePromptRound", {
            "url": url, "previousFailed": previous_failed,
            "answer": answer, "syncDir": str(sync)})
        deadline = time.time() + 60
        while not (sync / "dialog.json").exists() and not (sync / "result.json").exists():
            if time.time() > deadline:
                raise RuntimeError("the password dialog did not show")
            time.sleep(0.2)
        if (sync / "dialog.json").exists():
            time.sleep(0.3)
            self.screenshot(shot)
        (sync / "go").touch()
        deadline = time.time() + 60
        while not (sync / "result.json").exists():
            if time.time() > deadline:
                raise RuntimeError("the password dialog was not answered")
            time.sleep(0.2)
        time.sleep(0.2)
        r = json.loads((sync / "result.json").read_text())
        if "error" in r:
            raise RuntimeError("password dialog: " + r["error"])
        return r["texts"], r["result"]

    def content_script(self, script, until=lambda r: True, timeout=10):
        """Runs a script in the page of the selected tab until its result
        satisfies until (Marionette's content context follows the tab
        Marionette selected, so select the browser's selected tab first)."""
        handle = self.m.execute_script(
            "const { TabManager } = ChromeUtils.importESModule("
            "'chrome://remote/content/shared/TabManager.sys.mjs');"
            "return TabManager.getIdForBrowser(gBrowser.selectedBrowser);")
        self.m.set_context(self.m.CONTEXT_CONTENT)
        if handle not in self.m.window_handles:
            raise RuntimeError(f"no Marionette handle {handle} in {self.m.window_handles}")
        self.m.switch_to_window(handle)
        try:
            deadline = time.time() + timeout
            while True:
                r = self.m.execute_script(script)
                if until(r) or time.time() > deadline:
                    return r
                time.sleep(0.2)
        finally:
            self.m.set_context(self.m.CONTEXT_CHROME)

    def map_test_dir(self):
        # Content processes may read the application directory, not the
        # test's: the test-only modules go to <app copy>/srp-test/.
        test_dir = self.profile.parent / "app" / "srp-test"
        test_dir.mkdir()
        for name in ["SRPTestHelper.sys.mjs", "SRPTestChild.sys.mjs"]:
            shutil.copy(HERE / name, test_dir / name)
        self.m.execute_script(
            "let [dir] = arguments;"
            "let file = Cc['@mozilla.org/file/local;1'].createInstance(Ci.nsIFile); file.initWithPath(dir);"
            "Services.io.getProtocolHandler('resource').QueryInterface(Ci.nsIResProtocolHandler)"
            ".setSubstitution('srp-test', Services.io.newFileURI(file));",
            script_args=[str(test_dir)],
        )

    def screenshot(self, path, crop=None, scale=None):
        self.screen.shot(path, crop, scale)
        log(f"screenshot {path}")


# ---------------------------------------------------------------- the test


def run_checks(b, out, ports):
    dev = ports["device"]
    alert = ports["alert"]
    http_port = ports["http"]
    device_url = f"https://router.home.arpa:{dev}/"
    counter = ports["counter"]
    http_counter = ports["http_counter"]
    alert_server = ports["alert_server"]

    # -- Identity box: state, icon, tooltip
    b.call("openTab", device_url + "status")
    b.call("fakeSRPConnection", {"user": "admin", "groupBits": 2048})
    box = b.call("identityBox")
    check("identity box: class srpAuthenticated", box["className"] == "srpAuthenticated", box)
    check("identity box: SRP padlock icon, not the certificate one",
          "srp-authenticated.svg" in box["iconImage"], box["iconImage"])
    check("identity box: tooltip names the user",
          box["tooltip"] and "“admin”" in box["tooltip"] and "password" in box["tooltip"], box["tooltip"])
    time.sleep(0.5)
    b.screenshot(out / "padlock-light.png", crop="360x40+205+44", scale="300%")
    b.call("setPref", "ui.systemUsesDarkTheme", 1)
    time.sleep(1.5)
    box_dark = b.call("identityBox")
    check("identity box (dark theme): same state and icon",
          box_dark["className"] == "srpAuthenticated" and "srp-authenticated.svg" in box_dark["iconImage"], box_dark)
    b.screenshot(out / "padlock-dark.png", crop="360x40+205+44", scale="300%")
    b.call("setPref", "ui.systemUsesDarkTheme", 0)
    time.sleep(1.5)

    # -- Identity popup
    popup = b.call("openIdentityPopup")
    texts = " | ".join(popup["texts"])
    check("identity popup: connection secure-srp", popup["connection"] == "secure-srp", popup["connection"])
    check("identity popup: 'Password-verified connection'", "Password-verified connection" in texts, texts)
    check("identity popup: the device proved it knows the password for user admin, no certificate",
          "proved it knows the password for user “admin”" in texts and "No certificate" in texts, texts)
    check("identity popup: no 'Connection secure' certificate wording", "Connection secure" not in texts, texts)
    check("identity popup: no custom-root warning", "certificate issuer" not in texts, texts)
    check("identity popup: Log Out button shown", popup["logoutVisible"] and "Log Out of This Device" in texts, texts)
    b.screenshot(out / "identity-popup.png", crop="500x330+205+44")
    sub = b.call("showSecuritySubView")
    stexts = " | ".join(sub["texts"])
    check("security subview: connected with the device's password", "connected to this device with its password" in stexts, stexts)
    check("security subview: host, user, no certificate, password never sent",
          "router.home.arpa proved that it knows the password for user “admin”" in stexts
          and "never sent" in stexts, stexts)
    check("security subview: group size", "2048-bit group" in stexts, stexts)
    b.screenshot(out / "identity-popup-security.png", crop="500x330+205+44")
    b.call("hidePopups")

    # -- Page Info, Security tab
    info = b.call("pageInfo")
    check("page info: verifier says the device proved the password for admin (TLS-SRP, no certificate)",
          "“admin”" in info["verifier"] and "TLS-SRP, no certificate" in info["verifier"], info)
    check("page info: no certificate button", info["viewCertCollapsed"], info)
    check("page info: owner not supplied", "does not supply ownership" in info["owner"], info)
    time.sleep(0.5)
    b.screenshot(out / "page-info-security.png")
    b.call("closePageInfo")
    time.sleep(0.5)

    # -- Password dialog (the call the network code makes: the channel's nsIAuthPrompt2, the
    # password manager's prompter). A saved login for the device must not fill the dialog:
    # TLS-SRP credentials stay in memory (toolkit-srp-no-saved-logins.patch).
    saved = b.call("saveLoginFor", {"url": device_url, "username": "saved-user", "password": "saved"})
    check("dialog: a login is saved for the device before it shows (for the next checks)", saved >= 1, saved)
    dlg, ans = b.prompt(device_url, False, {"accept": True, "user": "admin", "password": "correct horse"},
                        out / "password-dialog.png")
    check("dialog: the password manager does not fill in a saved login", dlg["username"] == "", dlg)
    b.call("removeAllLogins")
    check("dialog: names the device host and port", f"router.home.arpa:{dev}" in dlg["body"], dlg)
    check("dialog: Firefox will check that the device knows the password",
          "will check that the device knows the password" in dlg["body"], dlg)
    check("dialog: the password is never sent", "password is never sent" in dlg["body"], dlg)
    check("dialog: asks for user name and password", dlg["usernameVisible"] and dlg["passwordVisible"], dlg)
    check("dialog: OK returns the credentials to the network code",
          ans["ok"] is True and ans["username"] == "admin" and ans["passwordMatches"], ans)
    dlg, ans = b.prompt(device_url, True, {"accept": False, "user": "", "password": ""},
                        out / "password-dialog-retry.png")
    check("dialog (retry): says the password could not be verified, keeps the user",
          "could not verify the password" in dlg["body"] and f"router.home.arpa:{dev}" in dlg["body"]
          and dlg["username"] == "admin", dlg)
    check("dialog: Cancel returns false", ans["ok"] is False, ans)

    # -- Log out: two tabs of the device, one of another device, one private
    b.call("openTab", device_url + "wifi")
    b.call("openTab", f"https://printer.home.arpa:{dev}/queue")
    b.call("openPrivateWindow")
    b.call("openTab", device_url + "private", {"private_": True})
    b.call("selectTabIndex", 0)
    b.call("fakeCredentialStore")
    before = {p: counter.get(k) for p, k in {
        "status": ("router.home.arpa", "/status"), "wifi": ("router.home.arpa", "/wifi"),
        "printer": ("printer.home.arpa", "/queue"), "private": ("router.home.arpa", "/private")}.items()}
    b.call("openIdentityPopup")
    calls = b.call("clickLogout")
    check("logout: forget(host, port, origin attributes) called once for this device",
          len(calls) == 1 and calls[0]["host"] == "router.home.arpa" and calls[0]["port"] == dev
          and calls[0]["originAttributes"].get("privateBrowsingId", 0) == 0, calls)
    deadline = time.time() + 15
    while time.time() < deadline and (counter.get(("router.home.arpa", "/status")) == before["status"]
                                      or counter.get(("router.home.arpa", "/wifi")) == before["wifi"]):
        time.sleep(0.2)
    time.sleep(1.5)
    check("logout: the device's tabs reloaded (both)",
          counter.get(("router.home.arpa", "/status")) == before["status"] + 1
          and counter.get(("router.home.arpa", "/wifi")) == before["wifi"] + 1,
          counter.hits)
    check("logout: another device's tab not reloaded",
          counter.get(("printer.home.arpa", "/queue")) == before["printer"], counter.hits)
    check("logout: the private window's tab of the device not reloaded",
          counter.get(("router.home.arpa", "/private")) == before["private"], counter.hits)
    b.call("closePrivateWindows")  # it would cover the screenshots (no window manager)
    box = b.call("identityBox")
    check("logout: the reloaded page is no longer shown as SRP-authenticated",
          "srpAuthenticated" not in box["className"], box)
    b.screenshot(out / "after-logout.png")
    dlg, _ = b.prompt(device_url + "status", False, {"accept": False, "user": "", "password": ""},
                      out / "after-logout-password-dialog.png")
    check("logout: the next request's password dialog shows again",
          "will check that the device knows the password" in dlg["body"], dlg)

    # -- Error page after Cancel (real nssFailure2 page; the code is faked)
    for code, title, intro in [
        ("SSL_ERROR_SRP_CREDENTIALS_REQUIRED", "This device accepts only password-verified connections",
         "no user name and password were given"),
        ("SSL_ERROR_SRP_BAD_PASSWORD", "The password could not be verified", "could not verify the password"),
    ]:
        b.call("openTab", f"https://router.home.arpa:{alert}/", {"errorPage": True})
        b.call("fakeNetErrorCode", code)
        page = b.content_script(
            "return { title: document.querySelector('.title-text')?.textContent,"
            " short: document.getElementById('errorShortDesc')?.textContent,"
            " code: document.getElementById('errorShortDesc2')?.textContent,"
            " long: document.getElementById('errorLongDesc')?.textContent,"
            " tryAgain: !document.getElementById('netErrorButtonContainer')?.hidden,"
            " learnMore: !document.getElementById('learnMoreContainer')?.hidden };",
            until=lambda p: p["title"] and p["long"] and p["code"])
        check(f"error page {code}: title", page["title"] == title, page)
        check(f"error page {code}: explains (once), offers Try Again, no support link",
              page["long"].count(intro) == 1 and "The password is never sent" in page["long"]
              and page["tryAgain"] and not page["learnMore"], page)
        check(f"error page {code}: NSS message and code", code in page["code"] and "TLS-SRP" in page["short"], page)
        if code == "SSL_ERROR_SRP_CREDENTIALS_REQUIRED":
            time.sleep(0.5)
            b.screenshot(out / "error-page-cancelled.png")

    # -- From plain HTTP to TLS-SRP (TLS-SRP: port=N on a local device)
    hellos = len(alert_server.snis())
    where = b.call("openTab", f"http://router.home.arpa:{http_port}/admin?page=1", {"errorPage": True})
    check("discovery: announced navigation goes to https://same host:port/same path and query",
          where["currentURI"] == f"https://router.home.arpa:{alert}/admin?page=1", where)
    check("discovery: the device's http page was requested once",
          http_counter.get(("router.home.arpa", "/admin")) == 1, http_counter.hits)
    snis = alert_server.snis()[hellos:]
    check("discovery: a TLS ClientHello for the same host reached the announced port",
          "router.home.arpa" in snis, snis)
    check("discovery: a failed TLS-SRP connection shows an error page, no fallback to http",
          where["documentURI"].startswith("about:neterror"), where)
    where = b.call("load", f"http://router.home.arpa:{http_port}/other?x=2", {"errorPage": True})
    check("discovery: remembered host goes straight to TLS-SRP (no plain HTTP request)",
          where["currentURI"] == f"https://router.home.arpa:{alert}/other?x=2"
          and http_counter.get(("router.home.arpa", "/other")) == 0, (where, http_counter.hits))
    where = b.call("load", f"http://device.example:{http_port}/page",
                   {"expectURL": f"http://device.example:{http_port}/page"})
    check("discovery: a non-local host's announcement is ignored",
          where["currentURI"] == f"http://device.example:{http_port}/page"
          and not where["documentURI"].startswith("about:neterror"), where)
    where = b.call("load", f"http://printer.home.arpa:{http_port}/malformed",
                   {"expectURL": f"http://printer.home.arpa:{http_port}/malformed"})
    check("discovery: a malformed announcement is ignored",
          where["currentURI"] == f"http://printer.home.arpa:{http_port}/malformed", where)
    b.call("openPrivateWindow")
    where = b.call("openTab", f"http://router.home.arpa:{http_port}/private-admin", {"private_": True, "errorPage": True})
    check("discovery: private browsing does not share the remembered host (plain request made there)",
          http_counter.get(("router.home.arpa", "/private-admin")) == 1
          and where["currentURI"] == f"https://router.home.arpa:{alert}/private-admin", (where, http_counter.hits))
    b.call("closePrivateWindows")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firefox-dir", required=True, type=Path, help="Firefox application directory (e.g. /usr/lib/firefox-esr)")
    ap.add_argument("--out", required=True, type=Path, help="directory for the screenshots")
    ap.add_argument("--series-dir", type=Path, default=GECKO_UI, help="directory of the quilt series (default: gecko-ui/)")
    ap.add_argument("--work", type=Path, help="scratch directory (default: a new temporary one, removed afterwards)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()

    for tool in ["Xvfb", "import", "convert", "openssl", "patch"]:
        if not shutil.which(tool):
            raise SystemExit(f"missing {tool} (Debian: xvfb, imagemagick, openssl, patch)")
    try:
        import marionette_driver  # noqa: F401
    except ImportError:
        raise SystemExit("missing the PyPI package marionette_driver (pip install marionette_driver)")
    app_src = args.firefox_dir.resolve()
    if not (app_src / "omni.ja").is_file() or not (app_src / "browser/omni.ja").is_file():
        raise SystemExit(f"{app_src} is not a Firefox application directory (no omni.ja, browser/omni.ja)")
    version = (app_src / "application.ini").read_text()
    m = re.search(r"(?m)^Version=(.*)$", version)
    log(f"Firefox {m.group(1) if m else '?'} from {app_src}")

    work = args.work or Path(tempfile.mkdtemp(prefix="gecko-ui-frontend-"))
    work.mkdir(parents=True, exist_ok=True)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    xvfb = browser = None
    try:
        app = work / "app"
        subprocess.run(["cp", "-al", str(app_src), str(app)], check=True)
        check_tests_parse(args.series_dir.resolve(), work)
        changed = build_omni(app, args.series_dir.resolve(), work)
        for jar, files in changed.items():
            log(f"{JARS[jar]}: {len(files)} files from the series: " + ", ".join(files))

        # A self-signed certificate for the test devices' https pages.
        key, crt = work / "device.key", work / "device.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=router.home.arpa", "-addext",
             "subjectAltName=DNS:router.home.arpa,DNS:printer.home.arpa",
             "-keyout", str(key), "-out", str(crt)],
            check=True, capture_output=True,
        )
        der = ssl.PEM_cert_to_DER_cert(crt.read_text())
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        counter, http_counter = Counter(), Counter()
        alert_server = AlertServer()
        device = start_http(make_handler(counter), ctx)
        plain = start_http(make_handler(http_counter, announce_port=alert_server.port))
        ports = {
            "device": device.server_address[1], "alert": alert_server.port,
            "http": plain.server_address[1], "counter": counter,
            "http_counter": http_counter, "alert_server": alert_server,
        }

        xvfb = desktop.Screen("1280x800")
        log(f"Xvfb on {xvfb.display}; starting Firefox with Marionette")
        browser = Browser(app, work, xvfb)
        browser.map_test_dir()
        browser.call("init", {
            "certBase64": base64.b64encode(der).decode(),
            "hosts": ["router.home.arpa", "printer.home.arpa"],
            "port": ports["device"],
        })
        try:
            run_checks(browser, out, ports)
        except Exception as e:  # a step that could not run is a failure
            import traceback

            traceback.print_exc()
            check("the test ran to the end", False, repr(e))
            try:
                browser.screenshot(out / "failure.png")
            except Exception:
                pass
    finally:
        if browser:
            browser.quit()
        if xvfb:
            xvfb.stop()
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            log(f"kept {work}")

    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"frontend: {passed} passed, {failed} failed")
    return 0 if RESULTS and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
