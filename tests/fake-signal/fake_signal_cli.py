#!/usr/bin/env python3
"""Fake signal-cli HTTP daemon (python3 stdlib only) for driving Hermes' Signal adapter offline.

Speaks the three endpoints gateway/platforms/signal.py uses:
  GET  /api/v1/check                -> 200 (connect() health check, signal.py:274)
  GET  /api/v1/events?account=...   -> text/event-stream kept open (SSE listener, signal.py:334-378)
  POST /api/v1/rpc                  -> JSON-RPC 2.0 result (send/sendTyping/sendReaction, signal.py:779)
plus one test-only control endpoint:
  POST /inject   body = message text (e.g. "/restart"), optional ?from=+E164
                 -> pushes a signal-cli "receive" envelope to every open SSE stream, as if a
                    Signal user had sent that text in a DM to the bot account. Replies with JSON
                    {"delivered_to": N} (N = number of SSE clients that got it).
  GET  /state    -> JSON {"sse_clients": N, "rpc_count": N}

Every request and every JSON-RPC call is appended as one JSON line to --log.
Usage: fake_signal_cli.py --port 18080 --log rpc.jsonl [--sender +15550001111]
"""
import argparse
import json
import queue
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

_lock = threading.Lock()
_clients = []  # list[queue.Queue]
_rpc_count = 0
ARGS = None


def _log(obj):
    obj["t"] = time.time()
    with _lock, open(ARGS.log, "a") as f:
        f.write(json.dumps(obj) + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # SSE body is close-delimited

    def log_message(self, fmt, *a):
        pass

    def _json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlparse(self.path)
        _log({"req": "GET", "path": self.path})
        if u.path == "/api/v1/check":
            return self._json(200, {})
        if u.path == "/state":
            with _lock:
                return self._json(200, {"sse_clients": len(_clients), "rpc_count": _rpc_count})
        if u.path == "/api/v1/events":
            q = queue.Queue()
            with _lock:
                _clients.append(q)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(b":ok\n\n")
                self.wfile.flush()
                while True:
                    try:
                        item = q.get(timeout=10)
                    except queue.Empty:
                        item = b":keepalive\n\n"
                    self.wfile.write(item)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            finally:
                with _lock:
                    if q in _clients:
                        _clients.remove(q)
            return
        self._json(404, {"error": "not found"})

    def do_POST(self):
        global _rpc_count
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if u.path == "/api/v1/rpc":
            try:
                req = json.loads(raw or b"{}")
            except ValueError:
                req = {}
            with _lock:
                _rpc_count += 1
            _log({"req": "RPC", "method": req.get("method"), "params": req.get("params")})
            return self._json(200, {"jsonrpc": "2.0", "id": req.get("id"),
                                    "result": {"timestamp": int(time.time() * 1000)}})
        if u.path == "/inject":
            text = raw.decode("utf-8", "replace")
            sender = (parse_qs(u.query).get("from") or [ARGS.sender])[0]
            ts = int(time.time() * 1000)
            env = {
                "envelope": {
                    "source": sender, "sourceNumber": sender,
                    "sourceUuid": str(uuid.uuid5(uuid.NAMESPACE_OID, sender)),
                    "sourceName": "Test User", "sourceDevice": 1, "timestamp": ts,
                    "dataMessage": {"timestamp": ts, "message": text, "expiresInSeconds": 0,
                                    "viewOnce": False},
                },
                "account": ARGS.account,
            }
            frame = ("event: receive\ndata: " + json.dumps(env) + "\n\n").encode()
            with _lock:
                targets = list(_clients)
            for q in targets:
                q.put(frame)
            _log({"req": "INJECT", "text": text, "from": sender, "delivered_to": len(targets)})
            return self._json(200, {"delivered_to": len(targets)})
        self._json(404, {"error": "not found"})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--log", default="/dev/null")
    p.add_argument("--sender", default="+15550001111")
    p.add_argument("--account", default="+15550009999")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), H)
    srv.daemon_threads = True
    print(f"fake signal-cli on 127.0.0.1:{ARGS.port}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
