#!/usr/bin/env python3
"""lighttpd's CPU per new and per resumed TLS connection: TLS-SRP (2048, 3072) against
certificate TLS (ECDHE-RSA 2048), the same client (Debian's curl 7.88 on OpenSSL 3.0), in one run.

    bench_lighttpd.py --lighttpd BIN --srp-verifier BIN [--count N]
                      [--rounds R]

One lighttpd with two TLS sockets on 127.0.0.1: TLS-SRP without certificate, and a certificate
(RSA 2048) without SRP, both TLS 1.2. For each case one curl process makes N connections
(`Connection: close`: a handshake and one small request each), and lighttpd's CPU time
(user + system, from /proc/PID/stat) before and after gives the server's CPU per connection.
New connections: `--no-sessionid`, a full handshake each. Resumed connections: curl keeps the
first connection's session and resumes it on the N - 1 others (checked in its verbose output);
the server CPU of one new connection of the same round is subtracted before dividing by N - 1.
curl 7.88 sends no session_ticket extension (its OpenSSL backend sets SSL_OP_NO_TICKET), so
it resumes by session ID: lighttpd's session cache is enabled here
(`server.feature-flags += ( "ssl.session-cache" => "enable" )`; off by default, as lighttpd
prefers tickets, which it does issue: see test_lighttpd.py). The cases alternate R rounds so
that load from other processes spreads over all of them; the table shows the median round.
Prints a Markdown table.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lighttpd", required=True)
    ap.add_argument("--srp-verifier", required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="lighttpd-bench-")
    try:
        vfile = os.path.join(d, "srpvfile")
        for bits in (2048, 3072):
            fmt = [] if os.path.exists(vfile) else ["--format", "openssl"]
            subprocess.run([args.srp_verifier, "add", "--file", vfile, "--user", f"user{bits}",
                            "--group", str(bits), "--password-stdin", *fmt],
                           input=b"password\n", check=True, capture_output=True)
        os.makedirs(f"{d}/www")
        with open(f"{d}/www/index.html", "w") as f:
            f.write("ok\n")
        with open(os.path.join(d, "seed"), "wb") as f:
            f.write(os.urandom(32))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                        "/CN=localhost", "-days", "2", "-keyout", f"{d}/key.pem",
                        "-out", f"{d}/cert.pem"], check=True, capture_output=True)
        http, srp, cert = free_port(), free_port(), free_port()
        with open(f"{d}/lighttpd.conf", "w") as f:
            f.write(f"""
server.modules = ( "mod_openssl" )
server.feature-flags += ( "ssl.session-cache" => "enable" )
server.document-root = "{d}/www"
server.bind = "127.0.0.1"
server.port = {http}
server.errorlog = "{d}/error.log"
$SERVER["socket"] == "127.0.0.1:{srp}" {{
    ssl.engine = "enable"
    ssl.srp.verifier-file = "{vfile}"
    ssl.srp.fake-user-seed-file = "{d}/seed"
}}
$SERVER["socket"] == "127.0.0.1:{cert}" {{
    ssl.engine = "enable"
    ssl.pemfile = "{d}/cert.pem"
    ssl.privkey = "{d}/key.pem"
    ssl.openssl.ssl-conf-cmd = ( "MinProtocol" => "TLSv1.2", "MaxProtocol" => "TLSv1.2" )
}}
""")
        server = subprocess.Popen([args.lighttpd, "-D", "-f", f"{d}/lighttpd.conf"])
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    for port in (srp, cert):
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("lighttpd did not start")
                    time.sleep(0.1)
            srp_creds = ["--tlsauthtype", "SRP", "--tlspassword", "password", "--tlsuser"]
            cases = [
                ("TLS-SRP 2048 (SRP-AES-256-CBC-SHA)", srp, srp_creds + ["user2048"]),
                ("TLS-SRP 3072 (SRP-AES-256-CBC-SHA)", srp, srp_creds + ["user3072"]),
                ("ECDHE-RSA 2048 (ECDHE-RSA-AES128-GCM-SHA256)", cert,
                 ["--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"]),
            ]
            results = {(name, resume): [] for name, _, _ in cases for resume in (False, True)}
            for _ in range(args.rounds):
                for name, port, creds in cases:
                    for resume in (False, True):
                        session = ["-v"] if resume else ["--no-sessionid"]
                        argv = ["curl", "-sS", "-k", "--http1.1", "--tls-max", "1.2", *session,
                                "-H", "Connection: close", "-o", "/dev/null", "-w",
                                "%{http_code}\\n", *creds,
                                f"https://127.0.0.1:{port}/index.html?[1-{args.count}]"]
                        before = cpu_seconds(server.pid)
                        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
                        after = cpu_seconds(server.pid)
                        if p.returncode != 0 or p.stdout.count("200") != args.count:
                            raise SystemExit(f"{name}: {p.stdout[-500:]}{p.stderr[-500:]}")
                        if not resume:
                            results[(name, resume)].append((after - before) / args.count)
                            continue
                        reused = p.stderr.count("SSL re-using session ID")
                        if reused != args.count - 1:
                            raise SystemExit(f"{name}: {reused} of {args.count - 1} resumed")
                        full = results[(name, False)][-1]
                        results[(name, resume)].append((after - before - full) / (args.count - 1))
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "unknown CPU")
    print(f"CPU: {cpu}, {os.cpu_count()} cores; {args.count} connections per case, "
          f"median of {args.rounds} rounds\n")
    print("| lighttpd socket | server CPU per new connection | per resumed connection "
          "| all rounds (new; resumed) |")
    print("|---|---|---|---|")
    for name, _, _ in cases:
        new, resumed = results[(name, False)], results[(name, True)]
        print(f"| {name} | {statistics.median(new) * 1000:.2f} ms "
              f"| {statistics.median(resumed) * 1000:.2f} ms | "
              + ", ".join(f"{x * 1000:.2f}" for x in new) + "; "
              + ", ".join(f"{x * 1000:.2f}" for x in resumed) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
