#!/usr/bin/env python3
"""Repeated logins against a Postgres-protocol endpoint, stopped at a chosen stage, and the CPU a
process (pgmux, PgBouncer, ...) spends per login meanwhile.

pgbench -C spends most of its time in the client's own SCRAM key derivation (PBKDF2, 4096 rounds), so
it cannot log in fast enough to show a pooler's cost per login. This client derives the key once per
salt and then logs in as fast as the pooler lets it, optionally pausing between steps (--busy-rounds)
as pgbench would.

Stages (each includes the ones before):
  tcp      connect and close
  ssl      SSLRequest, answered 'N' (TLS is not attempted)
  startup  StartupMessage, answered with AuthenticationSASL; then hang up
  login    the whole SCRAM-SHA-256 exchange up to ReadyForQuery, then Terminate
  query    the same, plus one "SELECT 1" before Terminate

CPU is the target's exact on-CPU time over all its threads (/proc/PID/task/*/schedstat), so run this on
the same machine as the target, as a user who can read its /proc entries.

  bench/login-stages.py --port 6543 --user app.tenant --password secret --pid 12345 --stage login
"""
import argparse
import base64
import hashlib
import hmac
import os
import socket
import struct
import sys
import threading
import time

STAGES = ("tcp", "ssl", "startup", "login", "query")


def target_cpu_ns(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total


class Client:
    def __init__(self, args):
        self.args = args
        self.keys = {}  # (salt, iterations) -> (ClientKey, StoredKey)

    def recv_exact(self, sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError("server closed the connection")
            data += chunk
        return data

    def recv_message(self, sock):
        header = self.recv_exact(sock, 5)
        length = struct.unpack("!I", header[1:])[0] - 4
        return header[:1], self.recv_exact(sock, length)

    def send(self, sock, tag, payload):
        sock.sendall(tag + struct.pack("!I", len(payload) + 4) + payload)

    def keys_for(self, salt, iterations):
        key = (salt, iterations)
        if key not in self.keys:
            salted = hashlib.pbkdf2_hmac("sha256", self.args.password.encode(), salt, iterations)
            client_key = hmac.new(salted, b"Client Key", "sha256").digest()
            self.keys[key] = (client_key, hashlib.sha256(client_key).digest())
        return self.keys[key]

    def one(self):
        a = self.args
        sock = socket.create_connection((a.host, a.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if a.stage == "tcp":
                return
            sock.sendall(struct.pack("!II", 8, 80877103))
            if self.recv_exact(sock, 1) != b"N":
                raise RuntimeError("the server offered TLS; this tool speaks plain text only")
            if a.stage == "ssl":
                return
            params = b"user\0" + a.user.encode() + b"\0database\0" + a.database.encode() + b"\0"
            if a.application_name:
                params += b"application_name\0" + a.application_name.encode() + b"\0"
            body = struct.pack("!I", 196608) + params + b"\0"
            sock.sendall(struct.pack("!I", len(body) + 4) + body)
            tag, body = self.recv_message(sock)
            if tag != b"R" or struct.unpack("!I", body[:4])[0] != 10:
                raise RuntimeError(f"expected AuthenticationSASL, got {tag!r} {body[:80]!r}")
            if a.stage == "startup":
                return
            nonce = base64.b64encode(os.urandom(18))
            first_bare = b"n=,r=" + nonce
            first = b"n,," + first_bare
            self.send(sock, b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first)
            tag, body = self.recv_message(sock)
            if tag != b"R":
                raise RuntimeError(f"expected AuthenticationSASLContinue, got {tag!r} {body[:80]!r}")
            server_first = body[4:]
            attrs = dict(item.split(b"=", 1) for item in server_first.split(b","))
            salt = base64.b64decode(attrs[b"s"])
            client_key, stored_key = self.keys_for(salt, int(attrs[b"i"]))
            final_without_proof = b"c=biws,r=" + attrs[b"r"]
            auth_message = first_bare + b"," + server_first + b"," + final_without_proof
            signature = hmac.new(stored_key, auth_message, "sha256").digest()
            proof = bytes(x ^ y for x, y in zip(client_key, signature))
            if a.busy_rounds:
                hashlib.pbkdf2_hmac("sha256", b"busy", salt, a.busy_rounds)  # pgbench-like client work
            self.send(sock, b"p", final_without_proof + b",p=" + base64.b64encode(proof))
            self.until_ready(sock)
            if a.stage == "query":
                self.send(sock, b"Q", b"SELECT 1\0")
                self.until_ready(sock)
            self.send(sock, b"X", b"")
        finally:
            sock.close()

    def until_ready(self, sock):
        while True:
            tag, body = self.recv_message(sock)
            if tag == b"E":
                raise RuntimeError("server error: " + body.decode(errors="replace"))
            if tag == b"Z":
                return


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", default=os.environ.get("PGPASSWORD", ""))
    p.add_argument("--database", default="postgres")
    p.add_argument("--application-name", default="pgbench")
    p.add_argument("--stage", choices=STAGES, default="login")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--parallel", type=int, default=4, help="logins in flight at once (default 4)")
    p.add_argument("--busy-rounds", type=int, default=0,
                   help="PBKDF2 rounds of client work before the last SCRAM message, to slow the rate as pgbench does")
    p.add_argument("--pid", type=int, help="process whose CPU per login is reported")
    args = p.parse_args()

    client = Client(args)
    done = [0] * args.parallel
    errors = []
    deadline = time.monotonic() + args.seconds

    def worker(i):
        try:
            while time.monotonic() < deadline:
                client.one()
                done[i] += 1
        except Exception as e:  # reported below; the other workers go on until the deadline
            errors.append(e)

    cpu_before = target_cpu_ns(args.pid) if args.pid else 0
    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = target_cpu_ns(args.pid) - cpu_before if args.pid else 0
    logins = sum(done)
    line = f"stage={args.stage} parallel={args.parallel} logins={logins} rate={logins / elapsed:.0f}/s"
    if args.pid and logins:
        line += f" cpu={cpu / logins / 1000:.0f}us/login"
    print(line)
    if errors:
        print(f"{len(errors)} worker(s) failed, first: {errors[0]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
