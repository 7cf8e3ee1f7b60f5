#!/usr/bin/env python3
"""lighttpd with TLS-SRP (lighttpd-patches/) against real clients, over loopback.

    test_lighttpd.py --lighttpd BIN --srp-verifier BIN --peer-boringssl BIN --peer-openssl BIN
                     [--peer-nss BIN] [--count N] [--keep]

Starts one lighttpd with three listening sockets on 127.0.0.1 (plain HTTP, an SRP-only TLS
socket without certificate, and a TLS socket with both a certificate and SRP), a CGI program
and a mod_proxy backend, then runs every case below and prints one line per case. Exits 1 if
any case fails. Only the Python standard library; every wait is bounded.

Clients: the patched BoringSSL peer (tests/peers), the same peer on Debian's OpenSSL 3.0
libssl, Debian's curl 7.88 (`--tlsauthtype SRP`) and GnuTLS's gnutls-cli (a client on loopback
needs no network namespace), and hostile_client.py (A = 0, N, 2N, N+1, too long). With
--peer-nss, srp-peer-nss (the patched NSS) runs every peer case too.
"""

import argparse
import http.server
import os
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time

from results import Results

HERE = os.path.dirname(os.path.abspath(__file__))
GROUPS = [2048, 3072, 4096, 6144, 8192]
BELOW_FLOOR = 1536
TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user(bits):
    return f"user{bits}"


def password(bits):
    return f"password-{bits}"


class Backend(http.server.BaseHTTPRequestHandler):
    """The mod_proxy backend: answers with the X-Remote-User header(s) it received."""

    def do_GET(self):
        values = self.headers.get_all("X-Remote-User") or []
        body = "".join(f"x-remote-user: {v}\n" for v in values) or "x-remote-user: none\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def gateway_env_line(env):
    keys = ("REMOTE_USER", "AUTH_TYPE", "SSL_SRP_USER")
    return "".join(f"{k}={env.get(k, '')}\n" for k in keys).encode()


class Scgi(socketserver.StreamRequestHandler):
    """An SCGI backend: answers with the user variables lighttpd passed."""

    def handle(self):
        length = b""
        while not length.endswith(b":"):
            c = self.rfile.read(1)
            if not c or len(length) > 10:
                return
            length += c
        headers = self.rfile.read(int(length[:-1]))
        self.rfile.read(1)  # the netstring's ','
        items = headers.split(b"\0")
        env = {items[i].decode(): items[i + 1].decode(errors="replace")
               for i in range(0, len(items) - 1, 2)}
        self.wfile.write(b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                         + gateway_env_line(env))


class FastCgi(socketserver.StreamRequestHandler):
    """A FastCGI responder (one request per connection): answers with the user variables."""

    def record(self):
        head = self.rfile.read(8)
        if len(head) < 8:
            return None, None, b""
        _version, rtype, rid, clen, plen, _ = struct.unpack("!BBHHBB", head)
        body = self.rfile.read(clen)
        self.rfile.read(plen)
        return rtype, rid, body

    def send(self, rtype, rid, body):
        self.wfile.write(struct.pack("!BBHHBB", 1, rtype, rid, len(body), 0, 0) + body)

    def handle(self):
        params, rid = b"", 1
        while True:
            rtype, rid_, body = self.record()
            if rtype is None:
                return
            rid = rid_
            if rtype == 4:  # FCGI_PARAMS
                params += body
            elif rtype == 5 and not body:  # the empty FCGI_STDIN ends the request
                break
        env, i = {}, 0
        while i < len(params):
            lens = []
            for _ in range(2):
                if params[i] < 128:
                    lens.append(params[i])
                    i += 1
                else:
                    lens.append(struct.unpack("!I", params[i:i + 4])[0] & 0x7FFFFFFF)
                    i += 4
            name = params[i:i + lens[0]].decode()
            env[name] = params[i + lens[0]:i + lens[0] + lens[1]].decode(errors="replace")
            i += lens[0] + lens[1]
        out = b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n" + gateway_env_line(env)
        self.send(6, rid, out)  # FCGI_STDOUT
        self.send(6, rid, b"")
        self.send(3, rid, b"\0\0\0\0\0\0\0\0")  # FCGI_END_REQUEST, FCGI_REQUEST_COMPLETE


CGI_WHOAMI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
if [ -n "$SSL_SRP_USER" ]; then printf 'srp-user: %s\\n' "$SSL_SRP_USER"; else echo 'srp-user: none'; fi
"""

CGI_SLOW = """#!/bin/sh
sleep 2
printf 'Content-Type: text/plain\\r\\n\\r\\nslow: %s\\n' "$SSL_SRP_USER"
"""

CGI_ENV = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'REMOTE_USER=%s\\nAUTH_TYPE=%s\\nSSL_SRP_USER=%s\\nHTTPS=%s\\n' \\
  "$REMOTE_USER" "$AUTH_TYPE" "$SSL_SRP_USER" "$HTTPS"
"""


class Lighttpd:
    def __init__(self, binary, workdir, ports, backend_port, scgi_port, fastcgi_port):
        self.binary = binary
        self.dir = workdir
        self.ports = ports
        self.conf = os.path.join(workdir, "lighttpd.conf")
        self.errorlog = os.path.join(workdir, "error.log")
        self.proc = None
        d = workdir
        with open(self.conf, "w") as f:
            f.write(f"""
server.modules = ( "mod_openssl", "mod_alias", "mod_cgi", "mod_proxy", "mod_scgi",
                   "mod_fastcgi" )
server.document-root = "{d}/www"
server.bind = "127.0.0.1"
server.port = {ports['http']}
server.errorlog = "{d}/error.log"
server.pid-file = "{d}/lighttpd.pid"
mimetype.assign = ( "" => "text/plain" )
$SERVER["socket"] == "127.0.0.1:{ports['srp']}" {{
    ssl.engine = "enable"
    ssl.srp.verifier-file = "{d}/srpvfile"
    ssl.srp.fake-user-seed-file = "{d}/seed"
}}
$SERVER["socket"] == "127.0.0.1:{ports['low']}" {{
    ssl.engine = "enable"
    ssl.srp.verifier-file = "{d}/srpvfile-low"
    ssl.srp.fake-user-seed-file = "{d}/seed"
}}
$SERVER["socket"] == "127.0.0.1:{ports['both']}" {{
    ssl.engine = "enable"
    ssl.pemfile = "{d}/cert.pem"
    ssl.privkey = "{d}/key.pem"
    ssl.srp.verifier-file = "{d}/srpvfile"
    ssl.srp.fake-user-seed-file = "{d}/seed"
}}
alias.url = ( "/whoami" => "{d}/cgi/whoami", "/env" => "{d}/cgi/env", "/slow" => "{d}/cgi/slow" )
$HTTP["url"] == "/slow" {{ cgi.assign = ( "" => "" ) }}
$HTTP["url"] == "/whoami" {{ cgi.assign = ( "" => "" ) }}
$HTTP["url"] == "/env" {{ cgi.assign = ( "" => "" ) }}
$HTTP["url"] =^ "/proxy/" {{
    proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => {backend_port} ) ) )
    proxy.header = ( "remote-user" => "X-Remote-User" )
}}
$HTTP["url"] =^ "/scgi/" {{
    scgi.server = ( "/scgi/" => ( ( "host" => "127.0.0.1", "port" => {scgi_port},
                                    "check-local" => "disable" ) ) )
}}
$HTTP["url"] =^ "/fcgi/" {{
    fastcgi.server = ( "/fcgi/" => ( ( "host" => "127.0.0.1", "port" => {fastcgi_port},
                                       "check-local" => "disable" ) ) )
}}
""")

    def start(self):
        self.proc = subprocess.Popen([self.binary, "-D", "-f", self.conf],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise RuntimeError(f"lighttpd exited: {out}{self.log()}")
            try:
                for port in self.ports.values():
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("lighttpd did not start listening within 20 s")

    def reload(self):
        """Graceful restart (SIGUSR1): lighttpd finishes in-flight requests, rereads its
        configuration (and the verifier file) and listens again. Returns when the error log
        says it started again and its sockets accept connections."""
        started = self.log().count("server started")
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.log().count("server started") > started:
                try:
                    for port in self.ports.values():
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("lighttpd did not come back from a graceful restart within 20 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        try:
            with open(self.errorlog) as f:
                return f.read()
        except FileNotFoundError:
            return ""


def run(argv, stdin=None, timeout=TIMEOUT):
    p = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def make_files(args, d):
    os.makedirs(os.path.join(d, "www"))
    os.makedirs(os.path.join(d, "cgi"))
    for name, text in (("whoami", CGI_WHOAMI), ("env", CGI_ENV), ("slow", CGI_SLOW)):
        path = os.path.join(d, "cgi", name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    with open(os.path.join(d, "seed"), "wb") as f:
        f.write(os.urandom(32))
    # The users below the floor have a file of their own: fake users follow the file's mix of
    # groups, so with them in the main file some unknown users would be refused for their group
    # (insufficient_security, as a real user in that group is) instead of at Finished.
    vfile = os.path.join(d, "srpvfile")
    for path, groups in ((vfile, GROUPS), (os.path.join(d, "srpvfile-low"), [BELOW_FLOOR])):
        for bits in groups:
            fmt = ["--format", "openssl"] if not os.path.exists(path) else []
            subprocess.run([args.srp_verifier, "add", "--file", path, "--user", user(bits),
                            "--group", str(bits), "--password-stdin", *fmt],
                           input=f"{password(bits)}\n".encode(), check=True,
                           capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "2", "-keyout", os.path.join(d, "key.pem"),
                    "-out", os.path.join(d, "cert.pem")], check=True, capture_output=True)
    return vfile


def peer(binary, port, name=None, pw=None, extra=(), get="/whoami", count=1):
    argv = [binary, "client", "--connect", f"127.0.0.1:{port}", "--count", str(count)]
    if name is not None:
        argv += ["--user", name, "--password", pw]
    if get:
        argv += ["--get", get]
    return run(argv + list(extra))


def curl(port, name, pw, path="/whoami", extra=()):
    # -k: SRP authenticates the server; curl would otherwise want a certificate it can verify.
    return run(["curl", "-sS", "-k", "--max-time", "30", "--tlsauthtype", "SRP", "--tlsuser",
                name, "--tlspassword", pw, *extra, f"https://127.0.0.1:{port}{path}"])


def gnutls(port, name, pw, priority="NORMAL:-KX-ALL:+SRP"):
    return run(["gnutls-cli", "--srpusername", name, "--srppasswd", pw, "--priority", priority,
                "-p", str(port), "127.0.0.1"], stdin=b"GET /whoami HTTP/1.0\r\n\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lighttpd", required=True)
    ap.add_argument("--srp-verifier", required=True)
    ap.add_argument("--peer-boringssl", required=True)
    ap.add_argument("--peer-openssl", required=True)
    ap.add_argument("--peer-nss", help="srp-peer-nss: runs every peer case with it too")
    ap.add_argument("--count", type=int, default=20, help="handshakes per success case (peers)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    args = ap.parse_args()

    d = tempfile.mkdtemp(prefix="lighttpd-srp-")
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    gateways = [socketserver.ThreadingTCPServer(("127.0.0.1", 0), h) for h in (Scgi, FastCgi)]
    for g in gateways:
        g.daemon_threads = True
        threading.Thread(target=g.serve_forever, daemon=True).start()
    ports = {"http": free_port(), "srp": free_port(), "both": free_port(), "low": free_port()}
    server = Lighttpd(args.lighttpd, d, ports, backend.server_address[1],
                      gateways[0].server_address[1], gateways[1].server_address[1])
    r = Results()
    started = time.monotonic()
    try:
        vfile = make_files(args, d)
        server.start()
        cases(args, r, server, ports, vfile, d)
    finally:
        server.stop()
        backend.shutdown()
        for g in gateways:
            g.shutdown()
        if args.keep:
            print(f"kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)
    return r.summary("lighttpd TLS-SRP", started)


def cases(args, r, server, ports, vfile, d):
    srp, both = ports["srp"], ports["both"]
    peers = {"boringssl": args.peer_boringssl, "openssl": args.peer_openssl}
    if args.peer_nss:
        peers["nss"] = args.peer_nss
    n = args.count

    # Every group, every client: the body is the line the peers answer with.
    for bits in GROUPS:
        u, pw = user(bits), password(bits)
        for pname, pbin in peers.items():
            rc, out = peer(pbin, srp, u, pw, count=n)
            r.check(f"{pname} group {bits} x{n}",
                    rc == 0 and out.count(f"group={bits} user={u}") == n
                    and out.count(f"srp-user: {u}") == n, out)
        rc, out = curl(srp, u, pw)
        r.check(f"curl group {bits}", rc == 0 and out.strip() == f"srp-user: {u}", out)
        if bits != 6144:  # gnutls-cli does not know the 6144-bit group
            rc, out = gnutls(srp, u, pw)
            r.check(f"gnutls-cli group {bits}", rc == 0 and f"srp-user: {u}" in out, out)

    # Every suite: the plain SRP ones on both sockets, the SRP-RSA ones next to a certificate.
    u, pw = user(2048), password(2048)
    for pname, pbin in peers.items():
        for port, suites in ((srp, ["0xC01D", "0xC020"]), (both, ["0xC01D", "0xC020", "0xC01E",
                                                                   "0xC021"])):
            for suite in suites:
                rc, out = peer(pbin, port, u, pw, ["--cipher", suite], count=n)
                r.check(f"{pname} suite {suite} on {'srp-only' if port == srp else 'cert+srp'}",
                        rc == 0 and out.count(f"cipher={suite}") == n, out)
    # curl offers TLS 1.3 and 1.2: it gets TLS-SRP (TLS 1.2) on both sockets, also next to a
    # certificate (the srp extension caps the version there).
    for port, what in ((srp, "srp-only"), (both, "cert+srp")):
        rc, out = curl(port, u, pw, "/whoami", ["-w", "\n%{ssl_verify_result}"])
        r.check(f"curl offering TLS 1.3 gets TLS-SRP on {what}",
                rc == 0 and out.startswith(f"srp-user: {u}\n"), out)

    # Resumption: lighttpd issues TLS 1.2 session tickets (its own STEK, rotated by mod_openssl);
    # the second handshake resumes the first one's session, and the resumed connection still
    # carries the SRP user to the application.
    for pname, pbin in peers.items():
        rc, out = peer(pbin, srp, u, pw, ["--resume"], count=2)
        oks = [l for l in out.splitlines() if l.startswith("ok ")]
        r.check(f"{pname} resumes a TLS-SRP session (ticket)",
                rc == 0 and len(oks) == 2 and oks[0].endswith("resumed=no")
                and oks[1].endswith("resumed=yes") and f"user={u}" in oks[1]
                and out.count(f"srp-user: {u}") == 2, out)

    # Failures: wrong password and unknown user look the same (bad_record_mac).
    for pname, pbin in peers.items():
        rc, out = peer(pbin, srp, u, "wrong password")
        r.check(f"{pname} wrong password", rc != 0 and "alert=bad_record_mac" in out, out)
        rc, out = peer(pbin, srp, "nobody", "whatever")
        r.check(f"{pname} unknown user", rc != 0 and "alert=bad_record_mac" in out, out)
        rc, out = peer(pbin, ports["low"], user(BELOW_FLOOR), password(BELOW_FLOOR))
        r.check(f"{pname} user below the server's floor",
                rc != 0 and "alert=insufficient_security" in out, out)
        rc, out = peer(pbin, srp, u, pw, ["--min-group", "3072"])
        r.check(f"{pname} group below the client's floor",
                rc != 0 and "alert=insufficient_security" in out, out)
    rc, out = peer(peers["boringssl"], srp)
    r.check("boringssl without username", rc != 0 and "alert=unknown_psk_identity" in out, out)
    rc, out = curl(srp, u, "wrong password")
    r.check("curl wrong password", rc != 0 and "srp-user" not in out, out)
    rc, out = gnutls(srp, "nobody", "whatever")
    r.check("gnutls-cli unknown user", rc != 0 and "srp-user" not in out, out)
    log = server.log()
    r.check("failed logins are logged",
            f'TLS-SRP login failed for user "{u}" from 127.0.0.1' in log
            and 'TLS-SRP login failed for user "nobody"' in log, log[-3000:])

    # Hostile A values are refused with illegal_parameter; a proper A gets as far as Finished.
    for kind in ("zero", "n", "2n", "n+1", "long"):
        rc, out = run([sys.executable, os.path.join(HERE, "hostile_client.py"), "127.0.0.1",
                       str(srp), u, kind])
        r.check(f"hostile A={kind}", rc == 0 and out.strip() == "alert=illegal_parameter", out)
    rc, out = run([sys.executable, os.path.join(HERE, "hostile_client.py"), "127.0.0.1",
                   str(srp), u, "valid"])
    r.check("hostile client control (valid A)", rc == 0 and out.strip() == "alert=bad_record_mac",
            out)

    # What the application sees.
    rc, out = curl(srp, u, pw, "/env")
    r.check("CGI environment", rc == 0 and f"REMOTE_USER={u}\nAUTH_TYPE=SRP\nSSL_SRP_USER={u}\n"
            in out, out)
    for path in ("/scgi/x", "/fcgi/x"):
        rc, out = curl(srp, u, pw, path)
        r.check(f"{path.split('/')[1].upper()} environment",
                rc == 0 and out == f"REMOTE_USER={u}\nAUTH_TYPE=SRP\nSSL_SRP_USER={u}\n", out)
    rc, out = run(["curl", "-sS", "--max-time", "30", "-k", f"https://127.0.0.1:{both}/scgi/x"])
    r.check("SCGI environment without TLS-SRP: no user",
            rc == 0 and out == "REMOTE_USER=\nAUTH_TYPE=\nSSL_SRP_USER=\n", out)
    rc, out = curl(srp, u, pw, "/proxy/x", ["-H", "X-Remote-User: mallory"])
    r.check("mod_proxy backend gets the user, not the forged header",
            rc == 0 and out.strip() == f"x-remote-user: {u}", out)
    rc, out = run(["curl", "-sS", "--max-time", "30", "-k", "-H", "X-Remote-User: mallory",
                   f"https://127.0.0.1:{both}/proxy/x"])
    r.check("certificate TLS: the forged header is removed, no user",
            rc == 0 and out.strip() == "x-remote-user: none", out)
    rc, out = run(["curl", "-sS", "--max-time", "30", "-k", "-w", "%{http_version}",
                   f"https://127.0.0.1:{both}/env"])
    r.check("certificate TLS next to SRP: TLS 1.3, HTTP/2, no user",
            rc == 0 and "REMOTE_USER=\n" in out and out.endswith("2"), out)
    rc, out = curl(both, u, pw, "/whoami", ["--http2", "-w", "\n%{http_version}"])
    r.check("no HTTP/2 on TLS-SRP", rc == 0 and out.strip().endswith("1.1")
            and f"srp-user: {u}" in out, out)
    rc, out = run(["curl", "-sS", "--max-time", "30", f"http://127.0.0.1:{ports['http']}/env"])
    r.check("plain HTTP: no user", rc == 0 and "REMOTE_USER=\n" in out, out)

    # Password change: a new file replaces the old one atomically, then a graceful restart.
    tmp = vfile + ".new"
    shutil.copyfile(vfile, tmp)
    subprocess.run([args.srp_verifier, "remove", "--file", tmp, "--user", u], check=True,
                   capture_output=True)
    subprocess.run([args.srp_verifier, "add", "--file", tmp, "--user", u, "--group", "2048",
                    "--password-stdin"], input=b"new password\n", check=True,
                   capture_output=True)
    os.replace(tmp, vfile)
    rc, out = peer(peers["boringssl"], srp, u, pw)
    r.check("before reload the old password still works", rc == 0, out)
    # A request in flight (a CGI that takes 2 s) finishes across the graceful restart.
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(zip(("rc", "out"),
                                                             curl(srp, u, pw, "/slow"))))
    thread.start()
    time.sleep(0.7)
    server.reload()
    thread.join(timeout=TIMEOUT)
    r.check("a request in flight finishes across the reload",
            slow.get("rc") == 0 and slow.get("out", "").strip() == f"slow: {u}", str(slow))
    rc, out = peer(peers["boringssl"], srp, u, "new password")
    r.check("after reload the new password works", rc == 0 and f"srp-user: {u}" in out, out)
    rc, out = peer(peers["boringssl"], srp, u, pw)
    r.check("after reload the old password fails", rc != 0 and "alert=bad_record_mac" in out, out)

    # Hostile configuration: a broken verifier file is named, with its line, at startup.
    bad = os.path.join(d, "bad-srpvfile")
    with open(vfile) as f:
        lines = f.read().splitlines()
    lines.insert(1, "V\tnot-base64!\tsalt\tmallory\t2048\t")
    with open(bad, "w") as f:
        f.write("\n".join(lines) + "\n")
    conf = os.path.join(d, "bad.conf")
    with open(server.conf) as f:
        text = f.read().replace(f'"{d}/srpvfile"', f'"{bad}"')
    with open(conf, "w") as f:
        f.write(text.replace(f"{d}/error.log", f"{d}/bad-error.log"))
    rc, out = run([args.lighttpd, "-tt", "-f", conf])
    try:
        with open(os.path.join(d, "bad-error.log")) as f:
            out += f.read()
    except FileNotFoundError:
        pass
    r.check("broken verifier file: startup fails naming file and line",
            rc != 0 and f"{bad}:2" in out, out)
    short_seed = os.path.join(d, "short-seed")
    with open(short_seed, "wb") as f:
        f.write(os.urandom(8))
    with open(conf, "w") as f:
        f.write(text.replace(f'"{bad}"', f'"{d}/srpvfile"').replace(f'"{d}/seed"',
                                                                   f'"{short_seed}"'))
    rc, out = run([args.lighttpd, "-tt", "-f", conf])
    r.check("a seed file under 16 bytes: startup fails naming it",
            rc != 0 and f"{short_seed}: 8 bytes" in out, out)
    with open(conf, "w") as f:
        f.write(text.replace(f'"{bad}"', f'"{d}/missing-srpvfile"'))
    rc, out = run([args.lighttpd, "-tt", "-f", conf])
    r.check("a missing verifier file: startup fails naming it",
            rc != 0 and f"{d}/missing-srpvfile" in out, out)
    with open(conf, "w") as f:
        f.write(text.replace("ssl.srp.fake-user-seed-file", "ssl.srp.min-group = 2000\n#"))
    rc, out = run([args.lighttpd, "-tt", "-f", conf])
    r.check("bad ssl.srp.min-group: startup fails", rc != 0 and "ssl.srp.min-group" in out, out)


if __name__ == "__main__":
    sys.exit(main())
