#!/usr/bin/env python3
"""srp-bridge on its own, against real devices: the demo device (lighttpd with TLS-SRP),
gnutls-serv with a verifier file made by srptool, a TLS server with a certificate only, plain
HTTP, a closed port, and hand-made hostile TLS-SRP servers (B = 0, a group that is not an
RFC 5054 group).

    test_bridge.py --bridge BIN --lighttpd BIN --srp-verifier BIN [--netns]

`cargo xtask bridge test` builds the three programs and runs this under `unshare -n` with
--netns: everything then happens in a private network namespace (gnutls-serv binds every
interface), whose loopback this script brings up. The bridge is driven as the browser drives
it: native messages on its standard input and output, HTTP requests to
HOST.PORT.localhost:PORT on 127.0.0.1 with the token header. Every wait is bounded; prints one
line per check and a tally, exits 1 if any check failed.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import queue
import re
import secrets
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "device", "tests"))
from results import Results  # noqa: E402

N_2048 = int(
    "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050"
    "A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50"
    "E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B8"
    "55F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773B"
    "CA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748"
    "544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6"
    "AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB6"
    "94B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73", 16)

results = Results()


def check(name, ok, detail=""):
    results.check(name, ok, detail if isinstance(detail, str) else repr(detail))


SCRATCH = tempfile.mkdtemp(prefix="srp-bridge-test-")
# Every password any test uses: none may appear in anything the bridge writes.
PASSWORDS = set()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


# -- the bridge, driven through native messaging ---------------------------------------------
class Bridge:
    count = 0

    def __init__(self, binary):
        Bridge.count += 1
        self.stderr_path = os.path.join(SCRATCH, f"bridge-{Bridge.count}.stderr")
        self.stdout_log = []
        self.events = []
        # An empty home and working folder of its own: the bridge must leave them empty.
        self.home = os.path.join(SCRATCH, f"bridge-{Bridge.count}.home")
        os.mkdir(self.home)
        env = dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=self.home,
                   XDG_CACHE_HOME=self.home, XDG_DATA_HOME=self.home, TMPDIR=self.home)
        self.proc = subprocess.Popen(
            [binary, "native-host", "--listen", "127.0.0.1:0"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"), cwd=self.home, env=env)
        self.next_id = 0
        status = self.ask({"type": "status"})
        self.listen = status["bridge"]["listen"]
        self.port = int(self.listen.rsplit(":", 1)[1])
        self.token = status["bridge"]["token"]

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message):
        body = json.dumps(message).encode()
        self.send_raw(struct.pack("=I", len(body)) + body)

    def read(self, timeout=60):
        """The next message from the bridge, or None at its end or after `timeout`."""
        out = self.proc.stdout
        deadline = time.time() + timeout
        buf = b""
        need = 4
        length = None
        while len(buf) < need:
            left = deadline - time.time()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                return None
            chunk = os.read(out.fileno(), need - len(buf))
            if not chunk:
                return None
            buf += chunk
            if length is None and len(buf) == 4:
                length = struct.unpack("=I", buf)[0]
                need = 4 + length
        raw = buf[4:]
        self.stdout_log.append(raw)
        return json.loads(raw)

    def ask(self, message, timeout=60):
        """Sends a message with a new id and returns the reply with that id (events seen on
        the way are kept in self.events)."""
        self.next_id += 1
        message = dict(message, id=self.next_id)
        self.send(message)
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = self.read(deadline - time.time())
            if reply is None:
                return None
            if reply.get("id") == self.next_id:
                return reply
            self.events.append(reply)
        return None

    def login(self, device, user, password):
        PASSWORDS.add(password)
        reply = self.ask({"type": "login", "device": device, "user": user, "password": password})
        return (reply or {}).get("device", {})

    def request(self, device, path="/", method="GET", body=None, headers=None, token=True,
                host=None, timeout=60):
        name = host or f"{bridge_name(device)}:{self.port}"
        h = {"Host": name}
        if token:
            h["srp-bridge-token"] = self.token
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return (r.status, r.read().decode(errors="replace"),
                    {k.lower(): v for k, v in r.getheaders()})
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")


def bridge_name(device):
    host, port = device.rsplit(":", 1)
    return f"{host}.{port}.localhost"


# -- devices ---------------------------------------------------------------------------------
class DemoDevice:
    """device/run_device.py (lighttpd with TLS-SRP, 3072-bit group, user admin)."""

    def __init__(self, args):
        self.https, self.http = free_port(), free_port()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "device", "run_device.py"), "--lighttpd",
             args.lighttpd, "--srp-verifier", args.srp_verifier, "--https",
             f"127.0.0.1:{self.https}", "--http", f"127.0.0.1:{self.http}",
             "--state", os.path.join(SCRATCH, "device")],
            stdout=subprocess.PIPE, stderr=open(os.path.join(SCRATCH, "device.log"), "wb"),
            text=True, start_new_session=True)
        self.password = None
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.proc.stdout], daemon=True).start()
        deadline = time.time() + 60
        while time.time() < deadline and self.password is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            m = re.match(r"first user: (\S+) password: (\S+)", line)
            if m:
                self.user, self.password = m.group(1), m.group(2)
        if self.password is None:
            self.stop()
            raise SystemExit("the demo device did not start (see device.log)")
        PASSWORDS.add(self.password)
        self.device = f"127.0.0.1:{self.https}"

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def gnutls_files(bits_by_user):
    """A tpasswd made by srptool: user -> (group bits, password)."""
    index = {1536: 2, 2048: 3, 3072: 4}
    conf = os.path.join(SCRATCH, "tpasswd.conf")
    tpasswd = os.path.join(SCRATCH, "tpasswd")
    subprocess.run(["srptool", "--create-conf", conf], check=True, capture_output=True)
    # gnutls-serv derives unknown users from index 1, which --create-conf leaves out.
    lines = open(conf).read().splitlines()
    line3 = next(l for l in lines if l.startswith("3:"))
    with open(conf, "w") as f:
        f.write("1:" + line3[2:] + "\n" + "\n".join(lines) + "\n")
    open(tpasswd, "w").close()
    for user, (bits, password) in bits_by_user.items():
        PASSWORDS.add(password)
        subprocess.run(["srptool", "--passwd", tpasswd, "--passwd-conf", conf, "-i",
                        str(index[bits]), "-u", user], input=password + "\n", text=True,
                       check=True, capture_output=True)
    return tpasswd, conf


class GnutlsServ:
    def __init__(self, tpasswd, conf):
        self.port = free_port()
        self.log = os.path.join(SCRATCH, f"gnutls-serv-{self.port}.log")
        self.proc = subprocess.Popen(
            ["gnutls-serv", "--http", "--port", str(self.port), "--srppasswd", tpasswd,
             "--srppasswdconf", conf, "--priority", "NORMAL:-KX-ALL:+SRP"],
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_port(self.port, self.proc):
            raise SystemExit(f"gnutls-serv did not start (see {self.log})")
        self.device = f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class LoopbackServer:
    """A TCP server on 127.0.0.1: a thread of its own accepts connections and hands each, with
    a 10 s timeout, to `self.answer`, one at a time."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.device = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(10)
            try:
                self.answer(conn)
            except OSError:  # ssl.SSLError too
                pass
            finally:
                conn.close()


class CertificateServer(LoopbackServer):
    """TLS with a certificate and no SRP: what most HTTPS servers are."""

    def __init__(self):
        key, cert = os.path.join(SCRATCH, "key.pem"), os.path.join(SCRATCH, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                        "/CN=localhost", "-days", "2", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        super().__init__()

    def answer(self, conn):
        with self.ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1024)


class HostileServer(LoopbackServer):
    """A TLS 1.2 server by hand that answers every ClientHello with TLS-SRP and a
    ServerKeyExchange the client must refuse: B = 0 (which would make the premaster secret
    known without the password), or a group that is not an RFC 5054 group."""

    def __init__(self, kind):
        self.kind = kind
        self.hellos = 0
        super().__init__()

    def server_flight(self):
        def hs(t, body):
            return struct.pack("!B", t) + len(body).to_bytes(3, "big") + body
        ri = struct.pack("!HHB", 0xFF01, 1, 0)
        hello = (struct.pack("!H", 0x0303) + secrets.token_bytes(32) + b"\x00"
                 + struct.pack("!HB", 0xC01D, 0) + struct.pack("!H", len(ri)) + ri)
        n = N_2048 if self.kind == "zero-b" else N_2048 - 2  # odd, not a known group
        nb = n.to_bytes(256, "big")
        b = b"\x00" if self.kind == "zero-b" else secrets.token_bytes(256)
        salt = secrets.token_bytes(16)
        ske = (struct.pack("!H", len(nb)) + nb + b"\x00\x01\x02" + struct.pack("!B", len(salt))
               + salt + struct.pack("!H", len(b)) + b)
        flight = hs(2, hello) + hs(12, ske) + hs(14, b"")
        return struct.pack("!BHH", 22, 0x0303, len(flight)) + flight

    def answer(self, conn):
        header = conn.recv(5, socket.MSG_WAITALL)
        if len(header) == 5 and header[0] == 22:
            conn.recv(struct.unpack("!H", header[3:5])[0], socket.MSG_WAITALL)
            self.hellos += 1
            conn.sendall(self.server_flight())
            conn.recv(1024)  # the client's alert


def closed_port():
    return f"127.0.0.1:{free_port()}"


# -- the tests -------------------------------------------------------------------------------
def test_login_and_forwarding(args, demo):
    b = Bridge(args.bridge)
    d = demo.device
    status, body, _ = b.request(d, "/whoami")
    check("a request before login gets the bridge's login page (401)", status == 401, status)
    ev = b.read(timeout=5)
    check("... and the extension a needs-login event for the device",
          ev is not None and ev.get("type") == "needs-login" and ev["device"]["device"] == d, ev)
    st = b.login(d, demo.user, "wrong-" + demo.password)
    check("wrong password: state wrong-password", st.get("state") == "wrong-password", st)
    status, _, _ = b.request(d, "/whoami")
    check("... and no credentials are kept (401 again)", status == 401, status)
    st = b.login(d, demo.user, demo.password)
    check("right password: logged-in with the device's 3072-bit group",
          st.get("state") == "logged-in" and st.get("group_bits") == 3072
          and st.get("url") == f"http://{bridge_name(d)}:{b.port}/", st)
    status, body, _ = b.request(d, "/whoami")
    check("GET /whoami is forwarded over TLS-SRP as the user", status == 200
          and body.strip() == f"srp-user: {demo.user}", (status, body[:200]))
    status, body, headers = b.request(
        d, "/settings", "POST", body="ssid=bridged&channel=11",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Origin": f"http://{bridge_name(d)}:{b.port}", "Sec-Fetch-Site": "same-origin"})
    check("POST /settings is forwarded (303, Location kept relative)", status == 303
          and headers.get("location") == "/", (status, headers))
    status, body, _ = b.request(d, "/settings")
    check("... and the device saved it", status == 200 and "bridged" in body, status)

    # Many requests at once, over several connections.
    def one(i):
        return b.request(d, f"/whoami?{i}")
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(64)))
    ok = sum(1 for s, body, _ in answers if s == 200 and body.strip() == f"srp-user: {demo.user}")
    check("64 concurrent requests (16 at a time): all answered as the user", ok == 64,
          f"{ok}/64")
    log = b.stderr()
    new = len(re.findall(r"new connection", log))
    resumed = len(re.findall(r"new connection \(resumed\)", log))
    check("... over several connections, resumed from the login's session", new >= 2
          and resumed >= 1 and resumed == new, f"{new} new, {resumed} resumed")

    st = b.ask({"type": "logout", "device": d})
    check("logout: state logged-out", st and st["device"]["state"] == "logged-out", st)
    status, _, _ = b.request(d, "/whoami")
    ev = b.read(timeout=5)
    check("after logout the next request asks for a login again (401, needs-login)",
          status == 401 and ev is not None and ev.get("type") == "needs-login", (status, ev))
    st = b.ask({"type": "status", "device": d})
    check("status of the device: logged-out", st and st["devices"][0]["state"] == "logged-out", st)

    # What the bridge refuses.
    b.login(d, demo.user, demo.password)
    status, _, _ = b.request(d, "/whoami", token=False)
    check("a request without the token is refused (403)", status == 403, status)
    status, _, _ = b.request(d, "/whoami", host=f"example.com:{b.port}")
    check("a request for another host is refused (421), not forwarded", status == 421, status)
    status, _, _ = b.request(d, "http://example.com/", host="example.com")
    check("a proxy request (absolute URI) is refused (405)", status == 405, status)
    status, _, _ = b.request(d, "/settings", "POST", body="ssid=evil",
                             headers={"Origin": "https://evil.example",
                                      "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                      "Content-Type": "application/x-www-form-urlencoded"})
    check("a cross-site form post is refused (403)", status == 403, status)
    status, body, _ = b.request(d, "/settings")
    check("... and did not reach the device", "evil" not in body, body[:100])
    return b


def test_password_changed(args, b, demo):
    """The password changed on the device while the bridge holds a login: the next new
    connection fails, the bridge forgets the login, tells the extension (device-state) and
    answers 401, so the browser asks again; the new password then logs in."""
    d = demo.device
    status, body, _ = b.request(d, "/whoami")
    check("logged in before the change", status == 200 and demo.user in body, (status, body))
    new = "changed-" + secrets.token_hex(6)
    PASSWORDS.add(new)
    status, body, _ = b.request(
        d, "/password", "POST", body=f"password={new}",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Origin": f"http://{bridge_name(d)}:{b.port}", "Sec-Fetch-Site": "same-origin"})
    check("POST /password over the bridge: the device changes the password", status == 200
          and "Password changed" in body, (status, body[:200]))
    old, demo.password = demo.password, new
    b.events.clear()
    # The device restarts gracefully (0.2 s later): its connections and sessions go.
    status = None
    deadline = time.time() + 20
    while time.time() < deadline:
        status, body, _ = b.request(d, "/whoami")
        if status != 200:
            break
        time.sleep(0.5)
    ev = b.read(timeout=5)
    while ev is not None and ev.get("type") != "device-state":
        ev = b.read(timeout=5)
    check("the next request after the change: 401 (log in again), not the page",
          status == 401, (status, body[:200]))
    check("... and a device-state event: wrong-password, with the user",
          ev is not None and ev["device"]["device"] == d
          and ev["device"]["state"] == "wrong-password" and ev["device"].get("user") == demo.user,
          ev)
    st = b.ask({"type": "status", "device": d})
    check("... and the status: wrong-password", st and st["devices"][0]["state"] == "wrong-password",
          st)
    st = b.login(d, demo.user, old)
    check("the old password: wrong-password", st.get("state") == "wrong-password", st)
    st = b.login(d, demo.user, new)
    status, body, _ = b.request(d, "/whoami")
    check("the new password: logged-in, and the device's pages again",
          st.get("state") == "logged-in" and status == 200 and demo.user in body, (st, status))


def test_demo_device_dies(args, b, demo):
    d = demo.device
    # A request in flight when the device goes away: stop lighttpd and its admin program,
    # then kill them.
    os.killpg(demo.proc.pid, signal.SIGSTOP)
    result = {}

    def go():
        result["r"] = b.request(d, "/whoami", timeout=90)
    t = threading.Thread(target=go)
    t.start()
    time.sleep(1.5)
    os.killpg(demo.proc.pid, signal.SIGKILL)
    t.join(90)
    status = result.get("r", (None,))[0]
    check("the device dies mid-request: the browser gets an error page (502/504), no hang",
          status in (502, 504), result.get("r", ("no answer",))[:2])
    demo.proc.wait()
    status, _, _ = b.request(d, "/whoami", timeout=60)
    st = b.ask({"type": "status", "device": d})
    check("... the bridge goes on: the next request finds the device unreachable (504)",
          status == 504 and st and st["devices"][0]["state"] == "unreachable", (status, st))


def test_gnutls(args):
    b = Bridge(args.bridge)
    users = {"u2048": (2048, "pw-" + secrets.token_hex(6)), "u1536": (1536, "pw-" + secrets.token_hex(6))}
    tpasswd, conf = gnutls_files(users)
    g = GnutlsServ(tpasswd, conf)
    try:
        st = b.login(g.device, "u2048", users["u2048"][1])
        check("gnutls-serv: right password, logged-in (2048-bit group)",
              st.get("state") == "logged-in" and st.get("group_bits") == 2048, st)
        status, body, _ = b.request(g.device, "/")
        check("gnutls-serv: GET / forwarded (its HTML status page)",
              status == 200 and "GnuTLS" in body, (status, body[:120]))
        st = b.login(g.device, "u2048", "wrong-" + secrets.token_hex(6))
        check("gnutls-serv: wrong password: wrong-password", st.get("state") == "wrong-password", st)
        st = b.login(g.device, "nobody", "pw-" + secrets.token_hex(6))
        check("gnutls-serv: unknown user: wrong-password (a fake user)", st.get("state") == "wrong-password", st)
        st = b.login(g.device, "u1536", users["u1536"][1])
        check("gnutls-serv: a 1536-bit group: group-too-small", st.get("state") == "group-too-small", st)
        # Logged in, then the server goes away mid-request (stopped, then killed).
        b.login(g.device, "u2048", users["u2048"][1])
        g.proc.send_signal(signal.SIGSTOP)
        result = {}

        def go():
            result["r"] = b.request(g.device, "/", timeout=90)
        t = threading.Thread(target=go)
        t.start()
        time.sleep(1.5)
        g.proc.kill()
        t.join(90)
        status = result.get("r", (None,))[0]
        check("gnutls-serv dies mid-request: an error page (502/504)", status in (502, 504),
              result.get("r", ("no answer",))[:2])
    finally:
        g.stop()
    return b


def test_failures(args, demo_http):
    b = Bridge(args.bridge)
    st = b.login(closed_port(), "admin", "pw-closed")
    check("a closed port: unreachable", st.get("state") == "unreachable", st)
    st = b.login(demo_http, "admin", "pw-http")
    check("a plain-HTTP port: not-tls-srp", st.get("state") == "not-tls-srp", st)
    cs = CertificateServer()
    st = b.login(cs.device, "admin", "pw-cert")
    check("a TLS server with a certificate and no SRP: not-tls-srp",
          st.get("state") == "not-tls-srp", st)
    for kind in ("zero-b", "bad-group"):
        h = HostileServer(kind)
        st = b.login(h.device, "admin", "pw-" + kind)
        check(f"a hostile server ({kind}): hostile-device",
              st.get("state") == "hostile-device" and h.hellos == 1, (st, h.hellos))
    st = b.login("not a device", "admin", "pw-x")
    reply = b.ask({"type": "login", "device": "bad host:1", "user": "a", "password": "pw-y"})
    check("a malformed device address: error bad-device",
          reply and reply["type"] == "error" and reply["error"] == "bad-device", reply)
    PASSWORDS.update({"pw-y", "pw-x"})
    return b


def test_malformed_messages(args):
    bridges = []
    b = Bridge(args.bridge)
    bridges.append(b)
    cases = [
        (b"not json", "malformed-message"),
        (b'{"type":"login","device":"127.0.0.1:1","user":"u"}', "malformed-message"),
        (b'{"type":"login","device":"127.0.0.1:1","user":"u","password":42}', "malformed-message"),
        (b'{"type":"fly"}', "malformed-message"),
        (b"[]", "malformed-message"),
        (b"", "malformed-message"),
        (b'{"type":"login","password":"pw-secret-in-broken-message",', "malformed-message"),
        ("{\"type\":\"status\",\"id\":\"\u00e9\"}".encode()[:-3] + b"\xff\"}", "malformed-message"),
    ]
    PASSWORDS.add("pw-secret-in-broken-message")
    for raw, error in cases:
        b.send_raw(struct.pack("=I", len(raw)) + raw)
        reply = b.read(timeout=10)
        check(f"malformed message {raw[:30]!r}: error {error}, the bridge goes on",
              reply is not None and reply.get("type") == "error" and reply.get("error") == error,
              reply)
    st = b.ask({"type": "status"})
    check("... and still answers status afterwards", st is not None and st["type"] == "status", st)

    b2 = Bridge(args.bridge)
    bridges.append(b2)
    b2.send_raw(struct.pack("=I", 0xFFFFFFF0) + b"{}")
    reply = b2.read(timeout=10)
    try:
        code = b2.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
    check("a length of 4 GiB: error message-too-large, then the bridge exits (code 1)",
          reply is not None and reply.get("error") == "message-too-large" and code == 1,
          (reply, code))

    b3 = Bridge(args.bridge)
    bridges.append(b3)
    b3.send_raw(struct.pack("=I", 100) + b'{"type":"st')
    b3.proc.stdin.close()
    reply = b3.read(timeout=10)
    try:
        code = b3.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
    check("a message cut short by the end of input: error, then exit (code 1)",
          reply is not None and reply.get("type") == "error" and code == 1, (reply, code))

    b4 = Bridge(args.bridge)
    bridges.append(b4)
    code = b4.stop()
    check("the browser closing the port ends the bridge (code 0)", code == 0, code)
    return bridges


def test_install(args):
    home = os.path.join(SCRATCH, "home")
    out = subprocess.run([args.bridge, "install", "--home", home, "--chromium-extension-id",
                          "a" * 32], capture_output=True, text=True)
    files = out.stdout.split()
    ok = out.returncode == 0 and len(files) == 3
    manifests = [json.load(open(f)) for f in files] if ok else []
    check("install writes the Chromium, Chrome and Firefox host manifests",
          ok and all(m["name"] == "tls_srp.bridge" and m["type"] == "stdio"
                     and os.path.isabs(m["path"]) for m in manifests)
          and manifests[0]["allowed_origins"] == ["chrome-extension://" + "a" * 32 + "/"]
          and manifests[2]["allowed_extensions"] == ["srp-bridge@tls-srp.invalid"], out)
    bad = subprocess.run([args.bridge, "install", "--home", home, "--chromium-extension-id",
                          "not-an-id"], capture_output=True, text=True)
    check("install refuses a malformed Chromium extension id", bad.returncode != 0, bad.stderr)
    out = subprocess.run([args.bridge, "uninstall", "--home", home], capture_output=True, text=True)
    check("uninstall removes them", out.returncode == 0
          and not any(os.path.exists(f) for f in files), out.stdout)


def test_logs(bridges):
    texts = []
    for b in bridges:
        b.stop()
        texts.append(("stderr", b.stderr()))
        texts.append(("stdout", b"".join(b.stdout_log).decode(errors="replace")))
    leaked = [(where, p) for where, t in texts for p in PASSWORDS if p and p in t]
    check(f"no password ({len(PASSWORDS)} used) in the bridges' logs or messages",
          not leaked and len(PASSWORDS) >= 5, leaked)
    panics = [t for where, t in texts if "panicked" in t]
    check("no panic in any bridge's log", not panics, panics[:1])
    written = [(b.home, os.listdir(b.home)) for b in bridges if os.listdir(b.home)]
    check(f"no file written into the {len(bridges)} bridges' homes, working folders and TMPDIR",
          not written, written)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bridge", required=True)
    ap.add_argument("--lighttpd", required=True)
    ap.add_argument("--srp-verifier", required=True)
    ap.add_argument("--netns", action="store_true",
                    help="running in a new network namespace: bring up its loopback first")
    args = ap.parse_args()
    args.bridge = os.path.abspath(args.bridge)
    started = time.monotonic()
    if args.netns:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    bridges = []
    demo = DemoDevice(args)
    try:
        bridges.append(test_login_and_forwarding(args, demo))
        bridges.append(test_failures(args, f"127.0.0.1:{demo.http}"))
        test_password_changed(args, bridges[0], demo)
        test_demo_device_dies(args, bridges[0], demo)
    finally:
        if demo.proc.poll() is None:
            demo.stop()
    bridges.append(test_gnutls(args))
    bridges.extend(test_malformed_messages(args))
    test_install(args)
    test_logs(bridges)
    status = results.summary("srp-bridge", started)
    if status:
        print(f"(logs kept in {SCRATCH})")
    else:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
