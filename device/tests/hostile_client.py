#!/usr/bin/env python3
"""A hostile TLS-SRP client: a TLS 1.2 handshake by hand up to the ClientKeyExchange, with a
chosen A, to check that a server refuses the values that would let anyone in without the
password (A = 0, N, 2N, ... make the premaster secret S = 0; A >= N is out of range). RFC 5054
section 2.5.4: the server must abort with illegal_parameter.

    hostile_client.py HOST PORT USER A-KIND

A-KIND is one of: zero, n, 2n, n+1, long (N with a leading 0x01 byte: more bytes than N), valid
(a proper random A, the control case: the server then waits for the Finished message, and
answers our made-up one with bad_record_mac). Prints one line, `alert=NAME` (the fatal alert
the server sent) or `no-alert`, and exits 0; exits 2 when the handshake did not get as far as
the ServerKeyExchange (then the line says why).
"""

import os
import secrets
import socket
import struct
import sys

ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure",
          47: "illegal_parameter", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
          71: "insufficient_security", 80: "internal_error", 115: "unknown_psk_identity"}
SRP_SHA_WITH_AES_128_CBC_SHA = 0xC01D
SRP_SHA_WITH_AES_256_CBC_SHA = 0xC020


def record(content_type, body):
    return struct.pack("!BHH", content_type, 0x0303, len(body)) + body


def handshake(msg_type, body):
    return struct.pack("!B", msg_type) + len(body).to_bytes(3, "big") + body


def client_hello(user):
    suites = [SRP_SHA_WITH_AES_128_CBC_SHA, SRP_SHA_WITH_AES_256_CBC_SHA, 0x00FF]
    srp_ext = struct.pack("!HHB", 12, len(user) + 1, len(user)) + user
    body = (struct.pack("!H", 0x0303) + secrets.token_bytes(32) + b"\x00"
            + struct.pack("!H", 2 * len(suites)) + b"".join(struct.pack("!H", s) for s in suites)
            + b"\x01\x00" + struct.pack("!H", len(srp_ext)) + srp_ext)
    return handshake(1, body)


class Reader:
    """Reads records; hands out handshake messages and reports alerts."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.hs = b""

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def record(self):
        content_type, _version, length = struct.unpack("!BHH", self._exact(5))
        return content_type, self._exact(length)

    def message(self):
        """The next handshake message (type, body); raises Alert on an alert record."""
        while True:
            if len(self.hs) >= 4:
                length = int.from_bytes(self.hs[1:4], "big")
                if len(self.hs) >= 4 + length:
                    msg_type, body = self.hs[0], self.hs[4:4 + length]
                    self.hs = self.hs[4 + length:]
                    return msg_type, body
            content_type, data = self.record()
            if content_type == 21:
                raise Alert(data[1])
            if content_type != 22:
                raise ValueError(f"unexpected record type {content_type}")
            self.hs += data


class Alert(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.name = ALERTS.get(code, str(code))


def vector(data, offset, size_len):
    length = int.from_bytes(data[offset:offset + size_len], "big")
    start = offset + size_len
    return data[start:start + length], start + length


def hostile_a(kind, n):
    n_int = int.from_bytes(n, "big")
    values = {"zero": 0, "n": n_int, "2n": 2 * n_int, "n+1": n_int + 1}
    if kind in values:
        value = values[kind]
        return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if kind == "long":
        return b"\x01" + n
    if kind == "valid":
        return pow(2, secrets.randbits(256), n_int).to_bytes(len(n), "big")
    raise SystemExit(f"unknown A kind {kind}")


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    host, port, user, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4]
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(record(22, client_hello(user)))
        reader = Reader(sock)
        try:
            n = None
            while True:
                msg_type, body = reader.message()
                if msg_type == 12:  # ServerKeyExchange: N, g, s, B
                    n, offset = vector(body, 0, 2)
                elif msg_type == 14:  # ServerHelloDone
                    break
        except (Alert, EOFError, ValueError) as e:
            print(f"before-key-exchange: {getattr(e, 'name', e)}")
            return 2
        if n is None:
            print("before-key-exchange: no ServerKeyExchange")
            return 2
        a = hostile_a(kind, n)
        sock.sendall(record(22, handshake(16, struct.pack("!H", len(a)) + a)))
        if kind == "valid":
            # ChangeCipherSpec and a made-up encrypted Finished: the server cannot decrypt it.
            sock.sendall(record(20, b"\x01") + record(22, os.urandom(64)))
        sock.settimeout(5)
        try:
            content_type, data = reader.record()
        except (EOFError, socket.timeout, ConnectionError):
            print("no-alert")
            return 0
        if content_type == 21 and len(data) == 2:
            print(f"alert={ALERTS.get(data[1], data[1])}")
        else:
            print(f"no-alert record={content_type}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
