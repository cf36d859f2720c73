"""Graceful shutdown as autobahn-python sees it.

    /usr/bin/python3 shutdown.py --ws URL --tcp HOST:PORT [--wait SECONDS]

Joins over WebSocket and over RawSocket TCP, prints READY on stdout, then
waits for the router's GOODBYE (run.sh sends the router SIGTERM after
READY). Each session must see reason wamp.close.system_shutdown, and its
transport must close afterwards.
"""

import argparse
import asyncio
import sys

from common import CheckFailed, Reporter, check_equal, connect, log, setup_logging


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ws", required=True)
    ap.add_argument("--tcp", required=True)
    ap.add_argument("--realm", default="realm1")
    ap.add_argument("--wait", type=float, default=20, help="seconds to wait for the GOODBYE after READY")
    opt = ap.parse_args()

    r = Reporter("shutdown", ["autobahn-python-ws-sees-system-shutdown", "autobahn-python-rawsocket-sees-system-shutdown"])
    conns = {}
    for kind, target in (("ws", opt.ws), ("rawsocket", opt.tcp)):
        try:
            conns[kind] = await connect("ws" if kind == "ws" else "tcp", target, opt.realm)
        except Exception as e:  # noqa: BLE001 - reported below
            log(f"shutdown: {kind} join failed: {e!r}")
    print("READY", flush=True)

    async def observe(kind):
        if kind not in conns:
            raise CheckFailed("session did not join")
        s = conns[kind].session
        details = await asyncio.shield(s.left)
        check_equal(details.reason, "wamp.close.system_shutdown", "GOODBYE reason from the router")
        await asyncio.shield(s.disconnected)

    # Both sessions are watched at once: the router says GOODBYE to all.
    await asyncio.gather(
        r.check("autobahn-python-ws-sees-system-shutdown", lambda: observe("ws"), opt.wait),
        r.check("autobahn-python-rawsocket-sees-system-shutdown", lambda: observe("rawsocket"), opt.wait),
    )
    for c in conns.values():
        c.close()
    return r.finish()


if __name__ == "__main__":
    setup_logging()
    sys.exit(asyncio.run(main()))
