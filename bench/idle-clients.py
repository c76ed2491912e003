#!/usr/bin/env python3
"""Holds many authenticated, idle Postgres-protocol clients open, for bench/idle-clients.sh.

Each client logs in with SCRAM-SHA-256 (the key is derived once per salt, as in bench/login-stages.py),
reads up to ReadyForQuery and then sends nothing. Commands come one a line on stdin, answers go one a line
to stdout:

  open N     log clients in until N are open   -> "opened N SECONDS" or "error MESSAGE"
  close      close every client                -> "closed"
  (end of input closes them too)

  bench/idle-clients.py --port 6543 --user bench.bench --database bench --password secret
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


class Login:
    def __init__(self, args):
        self.args = args
        self.keys = {}  # (salt, iterations) -> (ClientKey, StoredKey)
        self.lock = threading.Lock()

    @staticmethod
    def recv_exact(sock, n):
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

    @staticmethod
    def send(sock, tag, payload):
        sock.sendall(tag + struct.pack("!I", len(payload) + 4) + payload)

    def keys_for(self, salt, iterations):
        key = (salt, iterations)
        with self.lock:
            if key not in self.keys:
                salted = hashlib.pbkdf2_hmac("sha256", self.args.password.encode(), salt, iterations)
                client_key = hmac.new(salted, b"Client Key", "sha256").digest()
                self.keys[key] = (client_key, hashlib.sha256(client_key).digest())
            return self.keys[key]

    def one(self):
        a = self.args
        sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
        try:
            params = b"user\0" + a.user.encode() + b"\0database\0" + a.database.encode() + b"\0"
            params += b"application_name\0idle-clients\0"
            body = struct.pack("!I", 196608) + params + b"\0"
            sock.sendall(struct.pack("!I", len(body) + 4) + body)
            tag, body = self.recv_message(sock)
            if tag != b"R" or struct.unpack("!I", body[:4])[0] != 10:
                raise RuntimeError(f"expected AuthenticationSASL, got {tag!r} {body[:80]!r}")
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
            self.send(sock, b"p", final_without_proof + b",p=" + base64.b64encode(proof))
            while True:
                tag, body = self.recv_message(sock)
                if tag == b"E":
                    raise RuntimeError("server error: " + body.decode(errors="replace").replace("\0", " ").strip())
                if tag == b"Z":
                    break
            sock.settimeout(None)
            return sock
        except BaseException:
            sock.close()
            raise


def open_until(login, clients, target, parallel):
    """Logs clients in, `parallel` at a time, until `target` are open; raises the first failure."""
    errors = []
    lock = threading.Lock()
    missing = [target - len(clients)]

    def worker():
        while True:
            with lock:
                if errors or missing[0] <= 0:
                    return
                missing[0] -= 1
            try:
                sock = login.one()
            except Exception as e:  # reported by the caller
                with lock:
                    errors.append(e)
                return
            with lock:
                clients.append(sock)

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", default=os.environ.get("PGPASSWORD", ""))
    p.add_argument("--database", default="postgres")
    p.add_argument("--parallel", type=int, default=8, help="logins in flight at once (default 8)")
    p.add_argument("--timeout", type=float, default=30, help="seconds a login may take (default 30)")
    args = p.parse_args()

    login = Login(args)
    clients = []
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "open" and len(words) == 2:
            started = time.monotonic()
            try:
                open_until(login, clients, int(words[1]), args.parallel)
                print(f"opened {len(clients)} {time.monotonic() - started:.1f}", flush=True)
            except Exception as e:
                print(f"error after {len(clients)} clients: {e}".replace("\n", " "), flush=True)
        elif words[0] == "close":
            for sock in clients:
                sock.close()
            clients.clear()
            print("closed", flush=True)
        else:
            print(f"error unknown command: {line.strip()}", flush=True)
    for sock in clients:
        sock.close()


if __name__ == "__main__":
    main()
