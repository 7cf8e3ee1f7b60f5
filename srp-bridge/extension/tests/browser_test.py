#!/usr/bin/env python3
"""The TLS-SRP extension in real browsers: Debian's firefox-esr (Marionette) and Debian's
chromium (Playwright, chromium.mjs), under Xvfb, with srp-bridge started by the browser
over native messaging, against the demo device (lighttpd with TLS-SRP) and gnutls-serv.

    browser_test.py --bridge BIN --lighttpd BIN --srp-verifier BIN --out DIR
                    [--browsers firefox,chromium] [--node-modules DIR] [--netns]

`cargo xtask bridge browser-test` runs this under `unshare -n` with --netns: the browsers,
the bridge (on its fixed port 7425) and the devices share a private network namespace with
only its loopback. Each browser gets a home of its own, where `srp-bridge install --home`
writes the host manifests. Prints one line per check and "N passed, N failed"; screenshots
(the whole Xvfb screen, cropped) go to --out.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EXTENSION = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(EXTENSION))
sys.path.insert(0, os.path.join(ROOT, "srp-bridge", "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "browsers"))
import desktop  # noqa: E402  (Xvfb, screenshots, Firefox under Marionette)
import test_bridge  # noqa: E402  (the devices: DemoDevice, gnutls_files, GnutlsServ)

os.rmdir(test_bridge.SCRATCH)
SCRATCH = test_bridge.SCRATCH = tempfile.mkdtemp(prefix="srp-extension-test-")
results = test_bridge.results
check = test_bridge.check

ADDON_ID = "srp-bridge@tls-srp.invalid"
BADGE = "\u2713"  # background.js's badge of a logged-in device's tab
BRIDGE_PORT = 7425


def log(msg):
    print("... " + msg, flush=True)


def wait_for(what, fn, timeout=30, interval=0.25):
    """fn() until it returns something true, at most `timeout` seconds; returns the last."""
    deadline = time.time() + timeout
    while True:
        r = fn()
        if r or time.time() > deadline:
            return r
        time.sleep(interval)


def bridge_url(device, path="/"):
    host, port = device.rsplit(":", 1)
    return f"http://{host}.{port}.localhost:{BRIDGE_PORT}{path}"


def screenshot(screen, path, crop=None, scale=None):
    screen.shot(path, crop, scale)
    log(f"screenshot {path}")


def make_home(name, bridge, chromium_id=None):
    """A home with the native-messaging host manifests for the browser (`install --home`),
    naming a wrapper that keeps the bridge's standard error in <name>-bridge.log."""
    home = os.path.join(SCRATCH, name + "-home")
    os.mkdir(home)
    ids = ["--chromium-extension-id", chromium_id] if chromium_id else []
    out = subprocess.run([bridge, "install", "--home", home] + ids, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"srp-bridge install failed: {out.stderr}")
    wrapper = os.path.join(SCRATCH, name + "-bridge.sh")
    log_file = os.path.join(SCRATCH, name + "-bridge.log")
    with open(wrapper, "w") as f:
        pid_file = os.path.join(SCRATCH, name + "-bridge.pid")
        f.write(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec "{bridge}" "$@" 2>>"{log_file}"\n')
    os.chmod(wrapper, 0o755)
    for manifest in out.stdout.split():
        with open(manifest) as f:
            m = json.load(f)
        if m["path"] != bridge:
            raise SystemExit(f"{manifest} names {m['path']}, not {bridge}")
        m["path"] = wrapper
        with open(manifest, "w") as f:
            json.dump(m, f)
    return home


# -- Firefox ----------------------------------------------------------------------------------
class Firefox(desktop.Firefox):
    def __init__(self, args, screen, home):
        prefs = {
            "network.proxy.type": 0,
            "signon.rememberSignons": False,
            # The test opens the toolbar popup from the extension (action.openPopup()).
            "extensions.openPopupWithoutUserGesture.enabled": True,
        }
        super().__init__(args.firefox, os.path.join(SCRATCH, "firefox-profile"),
                         os.path.join(SCRATCH, "firefox.log"), screen.display, prefs,
                         args=["-remote-allow-system-access"], env=dict(os.environ, HOME=home))
        self.m.start_session()
        self.m.timeout.script = 60

    def install(self):
        from marionette_driver.addons import Addons

        addon = Addons(self.m).install(EXTENSION, temp=True)
        with self.m.using_context(self.m.CONTEXT_CHROME):
            host = self.m.execute_script(
                "return WebExtensionPolicy.getByID(arguments[0]).mozExtensionHostname;",
                script_args=[addon])
        self.base = f"moz-extension://{host}/"
        return addon

    def url(self):
        return self.m.get_url()

    def goto(self, url):
        try:
            self.m.navigate(url)
        except Exception as e:  # the extension replaces the navigation: not an error here
            log(f"navigate {url}: {type(e).__name__}")

    def js(self, script, args=()):
        return self.m.execute_script(script, script_args=list(args))

    def body_data(self):
        """The page's body data attributes (the extension pages' state) and text."""
        try:
            return self.js("return document.readyState == 'complete' && document.body ? "
                           "Object.assign({text: document.body.innerText}, document.body.dataset)"
                           " : null")
        except Exception:
            return None


def login_page_for(b, device):
    def shown():
        url = b.url()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        return (url.startswith(b.base + "login.html") and query.get("device") == [device]
                and (b.body_data() or {}).get("ready") == "1")
    return wait_for("login page", shown, 30)


def submit_login(b, user, password):
    b.js("document.getElementById('user').value = arguments[0];"
         "document.getElementById('password').value = arguments[1];"
         "document.getElementById('submit').click();", [user, password])


def popup_state(b, device, new_tab=False):
    """The popup page opened in a tab for `device` (a new one, so the device's tab stays):
    its data attributes."""
    back = None
    if new_tab:
        back = b.m.current_window_handle
        b.m.switch_to_window(b.m.open(type="tab", focus=True)["handle"])
    b.goto(b.base + "popup.html" + ("?device=" + device if device else ""))
    state = wait_for("popup", lambda: (lambda d: d if d and d.get("ready") == "1" else None)(
        b.body_data()), 15) or {}
    if back:
        b.m.close()
        b.m.switch_to_window(back)
    return state


# The toolbar button of the extension's action (ext-browserAction's widget id).
WIDGET = "srp-bridge_tls-srp_invalid-browser-action"


def toolbar_popup(b, screen, path):
    """Clicks the extension's toolbar button: the real popup, for a screenshot; returns the
    ids of the open panels (it shows in one), then closes it."""
    with b.m.using_context(b.m.CONTEXT_CHROME):
        # A real click (mouse down and up at the button's centre), as Firefox's own tests do.
        b.m.execute_script(
            "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
            "const x = r.left + r.width / 2, y = r.top + r.height / 2;"
            "window.windowUtils.sendMouseEvent('mousedown', x, y, 0, 1, 0);"
            "window.windowUtils.sendMouseEvent('mouseup', x, y, 0, 1, 0);", script_args=[WIDGET])
        time.sleep(2)
        screenshot(screen, path, "1280x520+0+0")
        return b.m.execute_script(
            "const open = [...document.querySelectorAll('panel')].filter(p => p.state == 'open');"
            "open.forEach(p => p.hidePopup()); return open.map(p => p.id);")


def password_changed(b, screen, demo, prefix, shot):
    """The password changed on the device (its own page, through the bridge) while logged in:
    the bridge's next connection fails, it tells the extension (device-state), the tab shows
    the login page with that state and the badge goes; the new password logs in again."""
    d = demo.device
    new = "changed-" + secrets.token_hex(6)
    test_bridge.PASSWORDS.add(new)
    b.goto(bridge_url(d, "/password"))
    b.js("document.getElementById('password').value = arguments[0];"
         "document.querySelector('form button').click();", [new])
    ok = wait_for("changed", lambda: "Password changed" in ((b.body_data() or {}).get("text") or ""), 15)
    check(f"{prefix} the device's change-password page, through the bridge: changed", ok,
          (b.url(), (b.body_data() or {}).get("text", "")[:200]))
    demo.password = new

    # The device restarts gracefully 0.2 s after its answer; until then a page may still come.
    def asks_again():
        b.goto(bridge_url(d, "/"))
        return login_page_for(b, d) if wait_for("not the page", lambda: not b.url().startswith(
            bridge_url(d)), 3) else None
    ok = wait_for("login page after the change", asks_again, 20, 1)
    data = b.body_data() or {}
    check(f"{prefix} password changed on the device: the next page is the login page, saying "
          "the device did not accept the password (device-state: wrong-password)",
          ok and data.get("state") == "wrong-password" and "did not accept" in data.get("text", ""),
          (b.url(), data))
    time.sleep(0.5)
    screenshot(screen, shot, "1280x520+0+0")
    user = b.js("return document.getElementById('user').value")
    check(f"{prefix} ... with the user name filled in ({demo.user})", user == demo.user, user)
    state = popup_state(b, d, new_tab=True)
    check(f"{prefix} ... and the popup: wrong-password, no badge on the tab",
          state.get("state") == "wrong-password" and not state.get("badge"), state)
    submit_login(b, demo.user, new)
    ok = wait_for("page", lambda: b.url().startswith(bridge_url(d)) and
                  demo.user in ((b.body_data() or {}).get("text", "")), 30)
    check(f"{prefix} the new password logs in: the device's page again", ok, b.url())


def firefox_tests(args, screen, demo, gnutls, cert):
    home = make_home("firefox", args.bridge)
    b = Firefox(args, screen, home)
    prefix = "firefox:"
    out = args.out
    try:
        addon = b.install()
        check(f"{prefix} the add-on installs (temporary, through Marionette)", addon == ADDON_ID, addon)
        # The browser starts the bridge when the extension connects: the popup of a tab that
        # is no device then names the bridge's address.
        state = wait_for("bridge", lambda: popup_state(b, "").get("state") == "no-device", 30)
        check(f"{prefix} the browser started srp-bridge (native messaging): the popup says so",
              state and "127.0.0.1:7425" in popup_state(b, "").get("text", ""), popup_state(b, ""))
        # The first tab: a device's TLS-SRP port by its https:// address.
        d = demo.device
        b.goto(f"https://{d}/")
        ok = login_page_for(b, d)
        check(f"{prefix} https://{d}/ -> the bridge answers 401 -> the extension's login page",
              ok, b.url())
        time.sleep(0.5)
        screenshot(screen, os.path.join(out, "firefox-login.png"), "1280x520+0+0")

        submit_login(b, demo.user, "wrong-" + demo.password)
        st = wait_for("wrong", lambda: (b.body_data() or {}).get("state") == "wrong-password")
        data = b.body_data() or {}
        check(f"{prefix} wrong password: the login page shows the error again, no page",
              st and "did not accept" in data.get("text", "")
              and b.url().startswith(b.base + "login.html"), (b.url(), data))
        screenshot(screen, os.path.join(out, "firefox-wrong-password.png"), "1280x520+0+0")

        submit_login(b, demo.user, demo.password)
        ok = wait_for("page", lambda: b.url().startswith(bridge_url(d)) and
                      demo.user in ((b.body_data() or {}).get("text", "")), 30)
        check(f"{prefix} right password: the device's page through the bridge, with the user",
              ok, (b.url(), (b.body_data() or {}).get("text", "")[:200]))
        time.sleep(1)
        screenshot(screen, os.path.join(out, "firefox-badge.png"), "1280x400+0+0")
        screenshot(screen, os.path.join(out, "firefox-badge-zoom.png"), "240x50+1040+40", "300%")
        # Firefox suspends an event page idle for 30 s, which would close the native port and
        # end the bridge with its logins: after 40 s without anything, still logged in.
        time.sleep(40)
        b.goto(bridge_url(d, "/whoami"))
        text = (b.body_data() or {}).get("text", "")
        check(f"{prefix} 40 s idle, then GET /whoami over the bridge: srp-user: {demo.user} "
              "(the background and the bridge stayed, with the login)",
              text.strip() == f"srp-user: {demo.user}", text)
        password_changed(b, screen, demo, prefix, os.path.join(out, "firefox-password-changed.png"))
        b.goto(bridge_url(d, "/"))

        panels = toolbar_popup(b, screen, os.path.join(out, "firefox-status-popup.png"))
        check(f"{prefix} the toolbar button opens the popup", panels, panels)
        state = popup_state(b, d, new_tab=True)
        check(f"{prefix} popup: logged-in, the device, the user, the badge \u2713 on its tab",
              state.get("state") == "logged-in" and state.get("device") == d
              and state.get("user") == demo.user and state.get("badge") == BADGE
              and "proved that it knows your password" in state.get("text", "")
              and "plain HTTP" in state.get("text", ""), state)

        # Log out from the popup (in a tab of its own): the bridge forgets the login, the
        # device's tab is reloaded and asks again.
        device_tab = b.m.current_window_handle
        b.m.switch_to_window(b.m.open(type="tab", focus=True)["handle"])
        b.goto(b.base + "popup.html?device=" + d)
        wait_for("popup", lambda: (b.body_data() or {}).get("ready") == "1", 15)
        b.js("document.getElementById('logout').click()")
        st = wait_for("logout", lambda: (b.body_data() or {}).get("state") == "logged-out")
        check(f"{prefix} Log out: the popup says logged out", st, b.body_data())
        b.m.close()
        b.m.switch_to_window(device_tab)
        ok = login_page_for(b, d)
        check(f"{prefix} Log out reloads the device's tab: it shows the login page again", ok,
              b.url())
        time.sleep(0.5)
        screenshot(screen, os.path.join(out, "firefox-after-logout.png"), "1280x520+0+0")
        b.goto(bridge_url(d, "/whoami"))
        ok = login_page_for(b, d)
        check(f"{prefix} after logout the next request asks again (the login page)", ok, b.url())
        state = popup_state(b, d, new_tab=True)
        check(f"{prefix} ... and the popup: logged-out, no badge", state.get("state") == "logged-out"
              and not state.get("badge"), state)

        # Device discovery: plain HTTP from a local address says `TLS-SRP: port=N`.
        b.goto(f"http://127.0.0.1:{demo.http}/")
        ok = login_page_for(b, d)
        check(f"{prefix} http://127.0.0.1:{demo.http}/ (TLS-SRP: port={demo.https}) -> the "
              "TLS-SRP port's login page", ok, b.url())

        # The independent server: gnutls-serv with an srptool verifier file.
        g = gnutls.device
        b.goto(f"https://{g}/")
        ok = login_page_for(b, g)
        check(f"{prefix} gnutls-serv: the login page", ok, b.url())
        submit_login(b, "u1536", gnutls.passwords["u1536"])
        st = wait_for("small", lambda: (b.body_data() or {}).get("state") == "group-too-small")
        check(f"{prefix} gnutls-serv, a 1536-bit user: group-too-small shown as its own state",
              st and "below 2048 bits" in (b.body_data() or {}).get("text", ""), b.body_data())
        screenshot(screen, os.path.join(out, "firefox-group-too-small.png"), "1280x520+0+0")
        submit_login(b, "u2048", gnutls.passwords["u2048"])
        ok = wait_for("page", lambda: b.url().startswith(bridge_url(g)) and
                      "GnuTLS" in ((b.body_data() or {}).get("text", "")), 30)
        check(f"{prefix} gnutls-serv: logged in, its page through the bridge", ok, b.url())
        state = popup_state(b, g, new_tab=True)
        check(f"{prefix} gnutls-serv: popup logged-in as u2048 (2048-bit group), badge \u2713",
              state.get("state") == "logged-in" and state.get("user") == "u2048"
              and "2048-bit" in state.get("text", "") and state.get("badge") == BADGE, state)

        # An IPv6 literal: the bridge name needs ':' as '-', so the background sends the tab.
        v6 = f"[::1]:{gnutls.port}"
        b.goto(f"https://{v6}/")
        ok = login_page_for(b, v6)
        check(f"{prefix} https://{v6}/ -> the login page for {v6} (ipv6---1.{gnutls.port}.localhost)",
              ok, b.url())

        # The other error states, each its own.
        closed = test_bridge.closed_port()
        for device, state_name, words in [
            (closed, "unreachable", "cannot be reached"),
            (f"127.0.0.1:{demo.http}", "not-tls-srp", "does not speak TLS-SRP"),
        ]:
            b.goto(f"https://{device}/")
            ok = login_page_for(b, device)
            submit_login(b, "admin", "pw-" + secrets.token_hex(4))
            st = wait_for(state_name, lambda: (b.body_data() or {}).get("state") == state_name)
            check(f"{prefix} {device}: {state_name} shown as its own state",
                  ok and st and words in (b.body_data() or {}).get("text", ""), b.body_data())

        # A local https:// server with a certificate and no TLS-SRP: not-tls-srp, then the
        # user opens it without the bridge, and later visits stay direct.
        c = cert.device
        b.goto(f"https://{c}/")
        ok = login_page_for(b, c)
        submit_login(b, "admin", "pw-" + secrets.token_hex(4))
        st = wait_for("cert", lambda: (b.body_data() or {}).get("state") == "not-tls-srp")
        screenshot(screen, os.path.join(out, "firefox-not-tls-srp.png"), "1280x560+0+0")
        b.js("document.getElementById('open-directly').click()")
        direct = wait_for("direct", lambda: b.url() == f"https://{c}/", 15)
        check(f"{prefix} a certificate-only server: not-tls-srp, and 'Open without TLS-SRP' "
              "opens its https:// address itself", ok and st and direct, b.url())
        b.goto(f"https://{c}/again")
        time.sleep(1)
        check(f"{prefix} ... later visits to it stay direct (no bridge, no login page)",
              b.url() == f"https://{c}/again", b.url())

        # The bridge goes away (killed): the extension starts a new one, and the device asks
        # for a login again (the logins went with the old bridge).
        with open(os.path.join(SCRATCH, "firefox-bridge.pid")) as f:
            old_pid = int(f.read())
        os.kill(old_pid, signal.SIGKILL)
        new_pid = wait_for("restart", lambda: (lambda p: p if p != old_pid else None)(
            int(open(os.path.join(SCRATCH, "firefox-bridge.pid")).read() or 0)), 15)
        state = wait_for("bridge", lambda: popup_state(b, "").get("state") == "no-device", 15)
        b.goto(f"https://{g}/")
        ok = login_page_for(b, g)
        check(f"{prefix} the bridge killed: the extension starts a new one, and the device asks "
              "for a login again", new_pid and state and ok, (new_pid, b.url()))
    except Exception as e:
        import traceback

        traceback.print_exc()
        check(f"{prefix} the test ran to the end", False, repr(e))
        try:
            screenshot(screen, os.path.join(SCRATCH, "firefox-failure.png"))
        except Exception:
            pass
    finally:
        b.quit()
    no_password_logged("firefox", os.path.join(SCRATCH, "firefox-bridge.log"))


def no_password_logged(browser, path):
    """None of the passwords may be in the log of the bridge the browser started (and its
    login lines must, or the check would see nothing)."""
    try:
        with open(path, "rb") as f:
            log_text = f.read().decode(errors="replace")
    except FileNotFoundError:
        log_text = ""
    leaked = [p for p in test_bridge.PASSWORDS if p and p in log_text]
    check(f"{browser}: no password ({len(test_bridge.PASSWORDS)} used) in the log of the bridge "
          "it started", not leaked and "srp-bridge: logged in to" in log_text,
          (leaked, log_text[-500:]))


# -- Chromium (Playwright, in node) -----------------------------------------------------------
def chromium_tests(args, screen, demo, gnutls, cert):
    chromium_id = extension_id()
    home = make_home("chromium", args.bridge, chromium_id)
    new_password = "changed-" + secrets.token_hex(6)  # chromium.mjs's passwordChanged
    test_bridge.PASSWORDS.add(new_password)
    config = {
        "chromium": args.chromium, "extension": EXTENSION, "extensionId": chromium_id,
        "home": home, "display": screen.display, "out": args.out, "bridgePort": BRIDGE_PORT,
        "demo": {"device": demo.device, "user": demo.user, "password": demo.password,
                 "newPassword": new_password, "http": demo.http, "https": demo.https},
        "gnutls": {"device": gnutls.device, "passwords": gnutls.passwords},
        "closed": test_bridge.closed_port(),
        "scratch": SCRATCH,
        "cert": cert.device,
    }
    env = dict(os.environ, NODE_PATH=args.node_modules, DISPLAY=screen.display, HOME=home)
    proc = subprocess.run(["node", os.path.join(HERE, "chromium.mjs"), json.dumps(config)],
                          env=env, stdout=subprocess.PIPE, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            check("chromium: " + r["name"], r["ok"], json.dumps(r.get("detail", ""))[:1500])
        else:
            print(line, flush=True)
    check("chromium: the Playwright driver ran to the end", proc.returncode == 0, proc.returncode)
    no_password_logged("chromium", os.path.join(SCRATCH, "chromium-bridge.log"))


def extension_id():
    """Chromium's id of the unpacked extension: from the manifest's `key` (sha256 of the
    public key, first 32 hex digits written a-p)."""
    import base64
    import hashlib

    key = json.load(open(os.path.join(EXTENSION, "manifest.json")))["key"]
    digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bridge", required=True)
    ap.add_argument("--lighttpd", required=True)
    ap.add_argument("--srp-verifier", required=True)
    ap.add_argument("--out", required=True, help="directory for the screenshots")
    ap.add_argument("--browsers", default="firefox,chromium")
    ap.add_argument("--firefox", default="/usr/lib/firefox-esr/firefox-esr")
    ap.add_argument("--chromium", default="/usr/lib/chromium/chromium")
    ap.add_argument("--node-modules", help="node_modules holding playwright-core (Chromium)")
    ap.add_argument("--netns", action="store_true",
                    help="running in a new network namespace: bring up its loopback first")
    args = ap.parse_args()
    args.bridge = os.path.abspath(args.bridge)
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    if args.netns:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    started = time.monotonic()
    screen = desktop.Screen("1280x800")
    demo = gnutls = None
    try:
        demo = test_bridge.DemoDevice(args)
        users = {"u2048": (2048, "pw-" + secrets.token_hex(6)),
                 "u1536": (1536, "pw-" + secrets.token_hex(6))}
        gnutls = test_bridge.GnutlsServ(*test_bridge.gnutls_files(users))
        gnutls.passwords = {u: p for u, (_, p) in users.items()}
        cert = test_bridge.CertificateServer()
        log(f"demo device https={demo.device} http=127.0.0.1:{demo.http}; "
            f"gnutls-serv {gnutls.device}; Xvfb {screen.display}")
        for browser in args.browsers.split(","):
            t = time.time()
            {"firefox": firefox_tests, "chromium": chromium_tests}[browser](args, screen, demo, gnutls, cert)
            log(f"{browser}: {time.time() - t:.0f} s")
    finally:
        if gnutls:
            gnutls.stop()
        if demo and demo.proc.poll() is None:
            demo.stop()
        screen.stop()
    status = results.summary("browser-test", started)
    if status:
        print(f"(logs in {SCRATCH})")
    else:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
