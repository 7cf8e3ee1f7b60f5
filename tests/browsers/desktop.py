"""What the tests that drive a real browser share: Xvfb on a free display, screenshots of the
whole screen (cropped and scaled with ImageMagick), and Debian's firefox-esr under Marionette
with a profile that keeps Firefox quiet and on the machine.

Used by device/tests/screenshots.py, gecko-ui/tests/frontend/run.py and
srp-bridge/extension/tests/browser_test.py. Toolbar badges, popups and tab-modal dialogs show
in screenshots only under Xvfb (a whole-screen capture), not in --headless mode.
"""

import json
import os
import socket
import subprocess
import time

# No first-run pages, updates, telemetry or other background traffic, no animations, the light
# theme. Each test adds what it needs on top (proxies, DNS names, popups, password saving).
QUIET_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "browser.aboutwelcome.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.tabs.warnOnClose": False,
    "browser.warnOnQuit": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "browser.region.network.url": "",
    "browser.safebrowsing.update.enabled": False,
    "extensions.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.translations.automaticallyPopup": False,
    "ui.prefersReducedMotion": 1,
    "ui.systemUsesDarkTheme": 0,
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Screen:
    """Xvfb on a free display number (no lock file, no one answering on its socket; tried in
    turn, at most 20), without a TCP listener."""

    def __init__(self, size="1280x800"):
        first = 100 + os.getpid() % 100
        for number in range(first, first + 20):
            if os.path.exists(f"/tmp/.X{number}-lock"):
                continue
            with socket.socket(socket.AF_UNIX) as s:  # another Xvfb, perhaps with its own /tmp
                if s.connect_ex(f"\0/tmp/.X11-unix/X{number}") == 0:
                    continue
            self.proc = subprocess.Popen(
                ["Xvfb", f":{number}", "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.display = f":{number}"
            deadline = time.monotonic() + 20
            while self.proc.poll() is None and time.monotonic() < deadline:
                if os.path.exists(f"/tmp/.X11-unix/X{number}"):
                    return
                time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"Xvfb did not start on any of :{first} to :{first + 19}")

    def shot(self, path, crop=None, scale=None):
        """The whole screen to `path`; with `crop` (ImageMagick geometry, "WxH+X+Y") only that
        part, enlarged to `scale` ("300%") without smoothing."""
        path = str(path)
        raw = path + ".full.png" if crop else path
        subprocess.run(["import", "-display", self.display, "-window", "root", raw],
                       check=True, timeout=30)
        if crop:
            resize = ["-filter", "point", "-resize", scale] if scale else []
            subprocess.run(["convert", raw, "-crop", crop, "+repage"] + resize + [path],
                           check=True, timeout=30)
            os.unlink(raw)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Firefox:
    """firefox-esr on `display` with a new profile in `profile` (QUIET_PREFS, then `prefs`),
    Marionette on a free loopback port, its output in `log`; `self.m` is the Marionette client,
    connected but without a session."""

    def __init__(self, binary, profile, log, display, prefs=None, args=(), env=None,
                 size=(1280, 800), timeout=180):
        from marionette_driver.marionette import Marionette

        os.makedirs(profile)
        self.port = free_port()
        all_prefs = {**QUIET_PREFS, **(prefs or {}), "marionette.port": self.port}
        with open(os.path.join(profile, "user.js"), "w") as f:
            f.write("".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in all_prefs.items()))
        env = dict(env or os.environ, DISPLAY=display, MOZ_CRASHREPORTER_DISABLE="1")
        env.pop("MOZ_HEADLESS", None)
        self.log_path = str(log)
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [str(binary), "-marionette", "-no-remote", *args, "-profile", str(profile),
             "-width", str(size[0]), "-height", str(size[1]), "about:blank"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.m = Marionette(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.m.raise_for_port(timeout=2)
                return
            except OSError:
                if self.proc.poll() is None and time.monotonic() < deadline:
                    continue
            self.quit()
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError("Firefox did not start Marionette:\n" + f.read()[-3000:])

    def quit(self):
        try:
            self.m.delete_session()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
