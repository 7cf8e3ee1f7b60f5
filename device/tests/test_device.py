#!/usr/bin/env python3
"""The demo device (device/run_device.py) in each of the four arrangements (docs/device.md).

    test_device.py --lighttpd BIN --srp-verifier BIN --peer-boringssl BIN

For each arrangement: starts the device on free ports of 127.0.0.1, waits for its
`device https=... http=...` line, and checks what port 80 (here: the plain-HTTP port), TLS-SRP
and certificate TLS answer, as documented. Arrangement 2 also runs the admin flow: settings
saved to a file, a forged X-Remote-User ignored, a password change followed by lighttpd's
graceful reload (the new password works, the old one fails). Prints one line per check; exits
1 on any failure. Standard library only; every wait is bounded.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from results import Results

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_DEVICE = os.path.join(os.path.dirname(HERE), "run_device.py")


def run(argv, timeout=60):
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def curl(url, *extra, user=None, password=None):
    argv = ["curl", "-sS", "-i", "-k", "--max-time", "30", *extra]
    if user:
        argv += ["--tlsauthtype", "SRP", "--tlsuser", user, "--tlspassword", password]
    return run(argv + [url])


class Device:
    def __init__(self, args, arrangement, state):
        self.proc = subprocess.Popen(
            [sys.executable, RUN_DEVICE, "--lighttpd", args.lighttpd, "--srp-verifier",
             args.srp_verifier, "--arrangement", str(arrangement), "--state", state],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the device exited: " + "".join(self.lines))
            self.lines.append(line)
            if line.startswith("state:"):
                break
        text = "".join(self.lines)
        m = re.search(r"^device https=(\S+) http=(\S+)$", text, re.M)
        p = re.search(r"^first user: admin password: (\S+)$", text, re.M)
        if not m or not p:
            raise RuntimeError("no ready line or first user: " + text)
        self.https, self.http, self.password = m.group(1), m.group(2), p.group(1)
        with open(os.path.join(state, "lighttpd.conf")) as f:
            conf = f.read()
        sockets = re.findall(r'\$SERVER\["socket"\] == "([^"]+)"', conf)
        self.cert = next((s for s in sockets if s not in (self.https, self.http)), self.https)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def header(out, name):
    m = re.search(rf"^{re.escape(name)}: (.*?)\r?$", out, re.M | re.I)
    return m.group(1) if m else None


def arrangement_checks(args, r, n, dev, state):
    srp_port = dev.https.rsplit(":", 1)[1]
    rc, out = curl(f"https://{dev.https}/whoami", user="admin", password=dev.password)
    r.check(f"[{n}] /whoami over TLS-SRP", rc == 0 and "srp-user: admin" in out, out)
    rc, out = run([args.peer_boringssl, "client", "--connect", dev.https, "--user", "admin",
                   "--password", dev.password, "--get", "/whoami"])
    r.check(f"[{n}] the BoringSSL peer logs in", rc == 0 and "srp-user: admin" in out, out)
    rc, out = run([args.peer_boringssl, "client", "--connect", dev.https, "--user", "admin",
                   "--password", "wrong"])
    r.check(f"[{n}] wrong password refused", rc != 0 and "alert=bad_record_mac" in out, out)
    rc, out = curl(f"https://{dev.https}/", user="admin", password=dev.password)
    r.check(f"[{n}] status shows the logged-in user", "Logged in as <b>admin</b>" in out, out)

    rc, out = curl(f"http://{dev.http}/")
    tls_srp = header(out, "TLS-SRP")
    if n == 1:
        r.check("[1] port 80: read-only page, no TLS-SRP header",
                rc == 0 and tls_srp is None and "Read-only over plain HTTP" in out, out)
    elif n in (2, 3):
        r.check(f"[{n}] port 80: `TLS-SRP: port={srp_port}` and the risk page",
                rc == 0 and tls_srp == f"port={srp_port}" and "anyone on this network" in out,
                out)
    if n == 3:
        rc, out = curl(f"https://{dev.cert}/")
        r.check("[3] certificate TLS for browsers without TLS-SRP: no login, says why",
                rc == 0 and "Certificate TLS" in out and "Not logged in" in out, out)
    if n == 4:
        r.check("[4] one TLS port for certificate and TLS-SRP", dev.cert == dev.https)
        rc, out = curl(f"https://{dev.https}/")
        r.check("[4] certificate TLS without TLS-SRP is sent to /login",
                rc == 0 and re.match(r"HTTP/\S+ 302", out) and header(out, "Location") == "/login",
                out)
        rc, out = curl(f"https://{dev.https}/login")
        r.check("[4] the login page", rc == 0 and "need a TLS-SRP login" in out, out)
        m = re.search(r"<pre><code>curl (.*?) --tlspassword \.\.\. (\S+)</code></pre>", out)
        rc, out = (run(["curl", "-sS", "--max-time", "30", *m.group(1).split(), "--tlspassword",
                        dev.password, m.group(2)])
                   if m and m.group(2) == f"https://{dev.https}/" else (1, out))
        r.check("[4] the login page's curl command logs in (with the password for ...)",
                rc == 0 and "Logged in as <b>admin</b>" in out, out)
    # A client cannot pose as a user with the header lighttpd uses for the backend.
    rc, out = curl(f"http://{dev.http}/", "-H", "X-Remote-User: admin")
    r.check(f"[{n}] a forged X-Remote-User is removed", "Logged in as" not in out, out)


def admin_flow(args, r, dev, state):
    pw = dev.password
    rc, out = curl(f"https://{dev.https}/settings", "-d", "ssid=lab-net", "-d", "channel=11",
                   user="admin", password=pw)
    try:
        with open(os.path.join(state, "settings.json")) as f:
            saved = json.load(f)
    except (OSError, ValueError) as e:
        saved = {"error": str(e)}
    r.check("[2] settings form saved to a file",
            rc == 0 and saved == {"ssid": "lab-net", "channel": "11"}, f"{out}\n{saved}")
    rc, out = curl(f"http://{dev.http}/settings", "-H", "X-Remote-User: admin",
                   "-d", "ssid=evil")
    r.check("[2] plain HTTP with a forged user cannot change settings",
            re.match(r"HTTP/\S+ 403", out) is not None, out)
    rc, out = curl(f"https://{dev.https}/password", "-d", "password=correct horse 2",
                   user="admin", password=pw)
    r.check("[2] password change accepted", rc == 0 and "The new password is active" in out,
            out)
    ok_new = ok_old_refused = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not ok_new:
        time.sleep(0.5)
        rc, out_new = run([args.peer_boringssl, "client", "--connect", dev.https, "--user",
                           "admin", "--password", "correct horse 2", "--get", "/whoami"])
        ok_new = rc == 0 and "srp-user: admin" in out_new
    rc, out_old = run([args.peer_boringssl, "client", "--connect", dev.https, "--user", "admin",
                       "--password", pw])
    ok_old_refused = rc != 0 and "alert=bad_record_mac" in out_old
    r.check("[2] after the graceful reload the new password works", ok_new, out_new)
    r.check("[2] ... and the old one fails", ok_old_refused, out_old)
    r.check("[2] the verifier file was replaced, not left half-written",
            not os.path.exists(os.path.join(state, "srpvfile.new")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lighttpd", required=True)
    ap.add_argument("--srp-verifier", required=True)
    ap.add_argument("--peer-boringssl", required=True)
    args = ap.parse_args()
    r = Results()
    started = time.monotonic()
    for n in (1, 2, 3, 4):
        state = tempfile.mkdtemp(prefix=f"device-{n}-")
        dev = None
        try:
            dev = Device(args, n, state)
            arrangement_checks(args, r, n, dev, state)
            if n == 2:
                admin_flow(args, r, dev, state)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            r.check(f"[{n}] device starts", False, str(e))
        finally:
            if dev:
                dev.stop()
            shutil.rmtree(state, ignore_errors=True)
    return r.summary("device arrangements", started)


if __name__ == "__main__":
    sys.exit(main())
