"""A long-running autobahn-python peer for the cross-client checks.

    /usr/bin/python3 peer.py --tcp HOST:PORT [--lifetime SECONDS]

It joins realm1 over RawSocket TCP with autobahn's default serializer
(CBOR), registers the interop.py.* procedures below, prints READY on stdout
and serves until SIGTERM/SIGINT or until the lifetime runs out. It
leaves with GOODBYE on the way out.
"""

import argparse
import asyncio
import signal
import sys

from common import ApplicationError, connect, log, setup_logging
from autobahn.wamp.types import CallOptions, CallResult, PublishOptions, RegisterOptions, SubscribeOptions

# Bytes that are not valid UTF-8 and include NUL, so no serializer can pass
# them off as text by accident.
BLOB = bytes([0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF]) + b"wampgate"


def describe_values(*args, **kwargs):
    """[type name, repr] for each argument, so a caller can see exactly what
    the CBOR side received."""
    out = [[type(a).__name__, repr(a)] for a in args]
    return CallResult(*out, **{k: [type(v).__name__, repr(v)] for k, v in kwargs.items()})


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", required=True)
    ap.add_argument("--realm", default="realm1")
    ap.add_argument("--lifetime", type=float, default=240)
    opt = ap.parse_args()

    c = await connect("tcp", opt.tcp, opt.realm)
    s = c.session
    log(f"peer: joined session {s.session_id} with {c.serializer_id}")

    async def publish(topic, *args, **kwargs):
        pub = await s.publish(topic, *args, options=PublishOptions(acknowledge=True), **kwargs)
        return pub.id

    def fail(*args, **kwargs):
        raise ApplicationError("com.example.interop.py_failure", "from python", 3, {"nested": [1, "two"]},
                               code=7, detail={"ok": False})

    procs = {
        "interop.py.add": lambda a, b: a + b,
        "interop.py.echo": lambda *args, **kwargs: CallResult(*args, **kwargs),
        "interop.py.describe": describe_values,
        "interop.py.blob": lambda: BLOB,
        "interop.py.two53": lambda: 2**53,
        "interop.py.bigints": lambda: CallResult(2**53, 2**63 - 1),
        "interop.py.fail": fail,
        "interop.py.publish": publish,
    }
    for uri, fn in procs.items():
        await s.register(fn, uri)

    # Advanced Profile cross checks (js/cross.mjs): what the Python side
    # sees of a JS caller or publisher, progressive results both ways and
    # a JS caller cancelling with mode kill.
    def whoami(details=None):
        return CallResult(details.caller, details.caller_authid, details.caller_authrole, details.procedure)

    await s.register(whoami, "interop.py.whoami", options=RegisterOptions(details_arg="details"))

    events = []
    arrived = asyncio.Event()

    def on_watch(*args, details=None, **kwargs):
        events.append((list(args), details))
        arrived.set()

    await s.subscribe(on_watch, "interop.py.watch", options=SubscribeOptions(match="prefix", details_arg="details"))

    async def seen_event(marker):
        """The publisher details of the event whose first argument is marker."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3
        while True:
            for args, d in events:
                if args and args[0] == marker:
                    return CallResult(d.publisher, d.publisher_authid, d.publisher_authrole, d.topic)
            if loop.time() > deadline:
                raise ApplicationError("com.example.interop.no_event", marker)
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                pass

    await s.register(seen_event, "interop.py.seen_event")

    async def progress(n, details=None):
        if details.progress is None:
            raise ApplicationError("com.example.interop.no_receive_progress", "INVOCATION lacked receive_progress")
        for i in range(1, n + 1):
            details.progress(i, step=i)
            await asyncio.sleep(0.01)
        return CallResult("done", steps=n)

    await s.register(progress, "interop.py.progress", options=RegisterOptions(details_arg="details"))

    async def call_progressive(procedure, *args):
        """Calls procedure with receive_progress and returns what came back."""
        seen = []
        res = await s.call(procedure, *args, options=CallOptions(on_progress=lambda *a, **kw: seen.append([list(a), kw])))
        if isinstance(res, CallResult):
            res = [list(res.results), res.kwresults]
        return CallResult(seen, res)

    await s.register(call_progressive, "interop.py.call_progressive")

    interrupted = []

    async def interruptible(tag):
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            interrupted.append(tag)
            raise ApplicationError("com.example.interop.interrupted", tag)
        return "not interrupted"

    await s.register(interruptible, "interop.py.interruptible")
    await s.register(lambda: interrupted, "interop.py.interrupted")

    stop = asyncio.get_running_loop().create_future()

    def request_stop(why):
        if not stop.done():
            stop.set_result(why)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, sig.name)
    s.left.add_done_callback(lambda f: request_stop("session left"))

    print("READY", flush=True)
    try:
        why = await asyncio.wait_for(stop, opt.lifetime)
    except asyncio.TimeoutError:
        why = "lifetime over"
    log(f"peer: stopping ({why})")
    if not s.left.done():
        try:
            await c.leave(2.0)
        except Exception as e:  # noqa: BLE001 - best effort on the way out
            log(f"peer: leave failed: {e!r}")
    c.close()
    return 0


if __name__ == "__main__":
    setup_logging()
    sys.exit(asyncio.run(main()))
