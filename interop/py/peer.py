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
from autobahn.wamp.types import CallResult, PublishOptions

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
