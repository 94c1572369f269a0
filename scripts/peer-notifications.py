#!/usr/bin/env python3
"""The load bench's peer: the Python `genesys-notifications` client consuming the same
presence stream from the simulator as the daemon, in its own process, so the bench can
report peer CPU / daemon CPU on one machine in one run (issue 15).

Usage: peer-notifications.py BASE CLIENT_ID CLIENT_SECRET USERS_FILE MARK [MARK...]

It takes a token (client credentials), creates one channel per 1,000 topics, opens each
with the library's documented `await Channel(uri, topics)` and consumes it with
`async for`. It prints `ready` once every channel is subscribed, then `mark N CPU` (its CPU seconds so far, also after `ready`) each time
the count of notifications reaches a cumulative MARK, and exits after the last one.

Two shims make the 2022 library run on Python 3.11 without changing its per-message work
(ujson parse, `match` on the message, the debug log call):
- Python 3.11 forbids bare coroutines in `asyncio.wait`; the connection's `recv()` is
  wrapped so it returns a Task.
- Its hard-coded 1 s websocket keepalive (`ping_interval=1, ping_timeout=1`) drops the
  socket when a full-speed stream delays the pong, losing frames; it is turned off.
The library's default logger is replaced by one at WARNING through its `logger` argument,
so its per-message debug line is formatted (as the library always does) but not written.
"""

import asyncio
import base64
import json
import logging
import sys
import time
import types
import urllib.request

import websockets
from genesys_notifications import channel as gn_channel
from genesys_notifications import Channel

TOPICS_PER_CHANNEL = 1000


class _TaskRecv:
    """The library's connection, with `recv()` returning a Task (Python 3.11 shim)."""

    def __init__(self, conn):
        self._conn = conn

    def recv(self):
        return asyncio.ensure_future(self._conn.recv())

    def __getattr__(self, name):
        return getattr(self._conn, name)


async def _connect_without_keepalive(uri, **_ignored):
    return _TaskRecv(await websockets.connect(uri, ping_interval=None, ping_timeout=None, max_queue=None))


# The library calls `websockets.connect(...)` through its module global.
gn_channel.websockets = types.SimpleNamespace(connect=_connect_without_keepalive)


def _post(url, headers, body):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _token(base, cid, secret):
    basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    return _post(f"{base}/oauth/token", headers, b"grant_type=client_credentials")["access_token"]


def _channel_uri(base, token):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return _post(f"{base}/api/v2/notifications/channels", headers, b"{}")["connectUri"]


async def _consume(ch, counter, wake):
    async for n in ch:
        if n.get("topicName", "").startswith("v2.users."):
            counter[0] += 1
            if counter[0] >= counter[1]:
                wake.set()


async def main(base, cid, secret, users_file, marks):
    with open(users_file) as f:
        users = [line.strip() for line in f if line.strip()]
    token = _token(base, cid, secret)
    quiet = logging.getLogger("peer-channel")
    quiet.setLevel(logging.WARNING)
    topics = [f"v2.users.{u}.presence" for u in users]
    channels = []
    for i in range(0, len(topics), TOPICS_PER_CHANNEL):
        uri = _channel_uri(base, token)
        ch = Channel(uri, topics[i : i + TOPICS_PER_CHANNEL], logger=quiet)
        # Its README's `notifications = await Channel(...)` yields None (`initialize()`
        # returns nothing); the awaited Channel itself is the iterator.
        await ch
        channels.append(ch)
    counter = [0, marks[0]]
    wake = asyncio.Event()
    tasks = [asyncio.create_task(_consume(ch, counter, wake)) for ch in channels]
    print(f"ready {time.process_time():.6f}", flush=True)
    for mark in marks:
        counter[1] = mark
        while counter[0] < mark:
            wake.clear()
            await wake.wait()
        print(f"mark {counter[0]} {time.process_time():.6f}", flush=True)
    for t in tasks:
        t.cancel()


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:5], [int(m) for m in sys.argv[5:]]))
