#!/usr/bin/env python3
"""The demo device: a home router's admin interface behind lighttpd with TLS-SRP.

    run_device.py --lighttpd BIN --srp-verifier BIN [--arrangement 1|2|3|4]
                  [--verifiers FILE] [--fake-user-seed FILE] [--state DIR]
                  [--http ADDR:PORT] [--https ADDR:PORT] [--cert-https ADDR:PORT]

`cargo xtask device` builds lighttpd and runs this. Ports default to free high ports on
127.0.0.1. Without --verifiers a first user `admin` with a random password is made with
`srp-verifier` (3072-bit group) and printed. Prints `device https=ADDR:PORT http=ADDR:PORT`
once lighttpd listens, and runs until interrupted.

lighttpd is the front (device/conf/): TLS-SRP, and the admin program (this process, an HTTP
server on 127.0.0.1 reached through mod_proxy) gets the logged-in user in X-Remote-User, which
lighttpd sets from REMOTE_USER and removes from what clients send. Pages:
  /            status: the logged-in user, uptime, settings
  /whoami      `srp-user: U` (the line the interop peers answer with)
  /settings    a form; POST saves it to STATE/settings.json
  /password    a form; POST replaces the user's verifier (srp-verifier on a copy of the file,
               then an atomic rename) and reloads lighttpd (SIGUSR1, a graceful restart:
               in-flight requests finish, the new verifier file is read)
  /login       arrangement 4: where connections without TLS-SRP are sent
"""

import argparse
import html
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BODY = 16 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def addr(text, what):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise SystemExit(f"--{what}: expected ADDR:PORT, not {text!r}")
    return host.strip("[]"), int(port)


class Device:
    def __init__(self, args):
        self.args = args
        self.state = os.path.abspath(args.state)
        self.vfile = os.path.join(self.state, "srpvfile")
        self.started = time.time()
        self.lighttpd = None
        self.lock = threading.Lock()

    # -- setup ---------------------------------------------------------------------------
    def prepare(self):
        os.makedirs(os.path.join(self.state, "www"), exist_ok=True)
        a = self.args
        if a.verifiers:
            shutil.copyfile(a.verifiers, self.vfile)
            conf = a.verifiers + ".conf"
            if os.path.exists(conf):
                shutil.copyfile(conf, self.vfile + ".conf")
            self.first_user = None
        elif not os.path.exists(self.vfile):
            password = secrets.token_urlsafe(12)
            self.add_user(self.vfile, "admin", password, new_file=True)
            self.first_user = ("admin", password)
        else:
            self.first_user = None
        seed = os.path.join(self.state, "fake-user-seed")
        if a.fake_user_seed:
            shutil.copyfile(a.fake_user_seed, seed)
        elif not os.path.exists(seed):
            with open(seed, "wb") as f:
                f.write(os.urandom(32))
        os.chmod(seed, 0o600)
        if a.arrangement in (3, 4) and not os.path.exists(os.path.join(self.state, "cert.pem")):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-subj", "/CN=router.local", "-days", "365",
                            "-keyout", os.path.join(self.state, "key.pem"),
                            "-out", os.path.join(self.state, "cert.pem")],
                           check=True, capture_output=True)

    def add_user(self, path, user, password, new_file=False):
        # The format is given every time: a file whose only user was just removed is empty,
        # and srp-verifier cannot tell an empty file's format.
        fmt = "gnutls" if not new_file and os.path.exists(self.vfile + ".conf") else "openssl"
        argv = [self.args.srp_verifier, "add", "--file", path, "--user", user, "--group",
                "3072", "--password-stdin", "--format", fmt]
        subprocess.run(argv, input=f"{password}\n".encode(), check=True, capture_output=True)

    def change_password(self, user, password):
        """Replaces the user's verifier: on a copy, renamed over the file (atomic), then a
        graceful restart of lighttpd."""
        with self.lock:
            tmp = self.vfile + ".new"
            shutil.copyfile(self.vfile, tmp)
            if os.path.exists(self.vfile + ".conf"):
                shutil.copyfile(self.vfile + ".conf", tmp + ".conf")
            subprocess.run([self.args.srp_verifier, "remove", "--file", tmp, "--user", user],
                           check=True, capture_output=True)
            self.add_user(tmp, user, password)
            os.replace(tmp, self.vfile)
        # after the response is on its way: lighttpd finishes in-flight requests first
        threading.Timer(0.2, lambda: self.lighttpd.send_signal(signal.SIGUSR1)).start()

    def write_config(self, ports):
        a = self.args
        text = ""
        for name in ("common.conf", f"arrangement{a.arrangement}.conf"):
            with open(os.path.join(HERE, "conf", name)) as f:
                text += f.read() + "\n"
        values = {
            "STATE": self.state,
            "HTTP_HOST": ports["http"][0], "HTTP_PORT": str(ports["http"][1]),
            "SRP_SOCKET": "%s:%d" % ports["https"], "SRP_PORT": str(ports["https"][1]),
            "CERT_SOCKET": "%s:%d" % ports["cert"],
            "BACKEND_PORT": str(ports["backend"]),
        }
        for k, v in values.items():
            text = text.replace(f"@{k}@", v)
        path = os.path.join(self.state, "lighttpd.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- pages ---------------------------------------------------------------------------
    def settings(self):
        try:
            with open(os.path.join(self.state, "settings.json")) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return {"ssid": "home-router", "channel": "6"}


def page(title, body):
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font:1rem/1.5 sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
            ".warn{background:#fee;padding:0 1em;border:1px solid #c66}"
            "input,button{font:inherit}label{display:inline-block;min-width:9em}"
            "pre{white-space:pre-wrap;background:#eee;padding:.5em}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")


def url(host, port):
    """https://host[:port]/ as a user types it (no port for 443)."""
    return f"https://{host}/" if port == 443 else f"https://{host}:{port}/"


def make_handler(device):
    arrangement = device.args.arrangement

    class Admin(http.server.BaseHTTPRequestHandler):
        server_version = "demo-router"

        def user(self):
            return self.headers.get("X-Remote-User")

        def https(self):
            return "proto=https" in (self.headers.get("Forwarded") or "").lower()

        def send(self, code, body, ctype="text/html; charset=utf-8", headers=()):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            user = self.user()
            if path == "/whoami":
                return self.send(200, f"srp-user: {user or 'none'}\n", "text/plain")
            if user is None:
                return self.anonymous(path)
            if path == "/":
                return self.send(200, self.status(user))
            if path == "/settings":
                s = device.settings()
                return self.send(200, page("Settings", (
                    "<form method=post action=/settings>"
                    "<p><label for=ssid>Network name</label> "
                    f"<input id=ssid name=ssid value='{html.escape(s['ssid'])}'>"
                    "<p><label for=channel>Channel</label> "
                    f"<input id=channel name=channel value='{html.escape(s['channel'])}'>"
                    "<p><button>Save</button></form><p><a href=/>Status</a>")))
            if path == "/password":
                return self.send(200, page("Change password", (
                    f"<p>User <b>{html.escape(user)}</b>. The new password replaces the "
                    "verifier; connections log in again with it."
                    "<form method=post action=/password><p><label for=password>New password"
                    "</label> <input id=password type=password name=password minlength=8 "
                    "required autocomplete=new-password>"
                    "<p><button>Change</button></form><p><a href=/>Status</a>")))
            return self.send(404, page("Not found", "<p><a href=/>Status</a>"))

        def anonymous(self, path):
            """Requests without a TLS-SRP login."""
            host = (self.headers.get("Host") or "router").rsplit(":", 1)[0]
            if arrangement == 4:
                if path == "/login":
                    return self.send(200, page("Log in", (
                        "<p>This router's admin pages need a TLS-SRP login: your browser "
                        "connected without one. Use a browser with TLS-SRP (it asks for the "
                        "router's username and password when it connects), or curl (<code>-k"
                        "</code>: TLS-SRP authenticates the router, not its certificate):"
                        "<pre><code>curl -k --tlsauthtype SRP --tlsuser admin --tlspassword ... "
                        f"{html.escape(url(host, device.srp_port))}</code></pre>")))
                return self.send(302, page("Log in", "<p><a href=/login>Log in</a>"),
                                 headers=[("Location", "/login")])
            if self.https():
                return self.send(200, page("Router", (
                    "<p>Certificate TLS: encrypted, but the router's certificate is "
                    "self-signed, so it does not prove that this is your router. Changes need "
                    "a TLS-SRP login.") + self.status(None, inner=True)))
            if arrangement == 1:
                return self.send(200, page("Router", (
                    "<p>Read-only over plain HTTP. The admin pages are on TLS-SRP: "
                    f"<code>{html.escape(url(host, device.srp_port))}</code>")
                    + self.status(None, inner=True)))
            cert = (f" or <a href='{html.escape(url(host, device.cert_port))}'>certificate "
                    "TLS</a> (encrypted, but the certificate proves nothing)"
                    if arrangement == 3 else "")
            return self.send(200, page("Router", (
                "<div class=warn><p>You are connected over plain HTTP: anyone on this network "
                "can read and change what you see and send, including passwords. This router "
                "supports TLS-SRP, which logs you in and protects the connection without a "
                "certificate; your browser does not support it (a browser that does would "
                "have switched by itself).</div>"
                f"<p>Use a TLS-SRP client: <code>{html.escape(url(host, device.srp_port))}"
                f"</code>{cert}."
                ) + self.status(None, inner=True)))

        def status(self, user, inner=False):
            s = device.settings()
            up = int(time.time() - device.started)
            body = (f"<p>Logged in as <b>{html.escape(user)}</b> (TLS-SRP)" if user else
                    "<p>Not logged in") + (
                f"<p>Uptime {up} s<p>Network name {html.escape(s['ssid'])}, channel "
                f"{html.escape(s['channel'])}")
            if user:
                body += ("<p><a href=/settings>Settings</a> · "
                         "<a href=/password>Change password</a>")
            return body if inner else page("Router status", body)

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            user = self.user()
            if user is None:
                return self.send(403, page("Forbidden", "<p>Log in with TLS-SRP first."))
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self.send(413, page("Too large", ""))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
            if path == "/settings":
                s = device.settings()
                for key in ("ssid", "channel"):
                    if key in form:
                        s[key] = form[key][0][:64]
                tmp = os.path.join(device.state, "settings.json.new")
                with open(tmp, "w") as f:
                    json.dump(s, f)
                os.replace(tmp, os.path.join(device.state, "settings.json"))
                return self.send(303, page("Saved", "<p><a href=/>Status</a>"),
                                 headers=[("Location", "/")])
            if path == "/password":
                password = (form.get("password") or [""])[0]
                if len(password) < 8 or "\n" in password:
                    return self.send(400, page("Password", "<p>At least 8 characters."))
                device.change_password(user, password)
                return self.send(200, page("Password changed", (
                    "<p>The new password is active; log in again with it."
                    "<p><a href=/>Status</a>")))
            return self.send(404, page("Not found", ""))

        def log_message(self, fmt, *args):
            pass

    return Admin


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lighttpd", required=True)
    ap.add_argument("--srp-verifier", required=True)
    ap.add_argument("--arrangement", type=int, choices=[1, 2, 3, 4], default=2)
    ap.add_argument("--verifiers", help="an OpenSSL srpvfile or GnuTLS tpasswd (copied)")
    ap.add_argument("--fake-user-seed", help="16 or more secret bytes (copied)")
    ap.add_argument("--state", default=None, help="state directory (default: a new one)")
    ap.add_argument("--http", default=None)
    ap.add_argument("--https", default=None, help="TLS-SRP (arrangement 4: certificate + SRP)")
    ap.add_argument("--cert-https", default=None, help="certificate TLS (arrangement 3)")
    args = ap.parse_args()
    if args.state is None:
        import tempfile
        args.state = tempfile.mkdtemp(prefix="tls-srp-device-")
    device = Device(args)
    device.prepare()

    ports = {
        "http": addr(args.http, "http") if args.http else ("127.0.0.1", free_port()),
        "https": addr(args.https, "https") if args.https else ("127.0.0.1", free_port()),
    }
    if args.arrangement == 4:
        ports["cert"] = ports["https"]  # one socket: certificate and TLS-SRP
    else:
        ports["cert"] = (addr(args.cert_https, "cert-https") if args.cert_https
                         else ("127.0.0.1", free_port()))
    device.srp_port = ports["https"][1]
    device.cert_port = ports["cert"][1]

    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(device))
    ports["backend"] = backend.server_address[1]
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    conf = device.write_config(ports)

    device.lighttpd = subprocess.Popen([args.lighttpd, "-D", "-f", conf])
    deadline = time.monotonic() + 20
    wanted = [ports["http"], ports["https"]] + ([ports["cert"]] if args.arrangement == 3 else [])
    while True:
        if device.lighttpd.poll() is not None:
            log = os.path.join(device.state, "error.log")
            sys.stderr.write(open(log).read() if os.path.exists(log) else "")
            raise SystemExit("lighttpd exited")
        try:
            for host, port in wanted:
                socket.create_connection((host, port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("lighttpd did not listen within 20 s")
            time.sleep(0.1)

    h, s = "%s:%d" % ports["http"], "%s:%d" % ports["https"]
    print(f"device https={s} http={h}", flush=True)
    if device.first_user:
        u, p = device.first_user
        print(f"first user: {u} password: {p}")
        # (-k: SRP authenticates the device; curl would otherwise want a certificate)
        print(f"  curl -k --tlsauthtype SRP --tlsuser {u} --tlspassword '{p}' "
              f"https://{s}/whoami")
        print(f"  srp-peer-boringssl client --connect {s} --user {u} --password '{p}' "
              "--get /whoami")
        print(f"  a browser with TLS-SRP: http://{h}/ (arrangements 2, 3), https://{s}/")
    print(f"state: {device.state} (arrangement {args.arrangement})", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set() and device.lighttpd.poll() is None:
        stop.wait(0.5)
    if device.lighttpd.poll() is None:
        device.lighttpd.terminate()
        try:
            device.lighttpd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            device.lighttpd.kill()
    backend.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
