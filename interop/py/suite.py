"""autobahn-python (asyncio) against wampgate over one transport.

    /usr/bin/python3 suite.py --name NAME --ws URL
    /usr/bin/python3 suite.py --name NAME --tcp HOST:PORT
    /usr/bin/python3 suite.py --name NAME --unix PATH

autobahn's own serializer choice is kept: over WebSocket it offers CBOR
first (batched variants included), over RawSocket it asks for CBOR. Two
sessions: A is caller and publisher, B is callee and subscriber.
"""

import argparse
import asyncio
import sys

from common import (
    ApplicationError, CheckFailed, Reporter, check, check_equal, connect, expect_error,
    setup_logging, wait_until,
)
from autobahn.wamp.types import CallResult, PublishOptions, RegisterOptions, SubscribeOptions


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--ws")
    g.add_argument("--tcp")
    g.add_argument("--unix")
    ap.add_argument("--realm", default="realm1")
    opt = ap.parse_args()
    kind, target = ("ws", opt.ws) if opt.ws else ("tcp", opt.tcp) if opt.tcp else ("unix", opt.unix)
    name = opt.name
    safe = "".join(c if c.isalnum() else "_" for c in name.lower())

    def uri(s):
        return f"interop.abpy.{safe}.{s}"

    r = Reporter(f"autobahn-python/{name}", [
        "join", "call-args-kwargs", "pubsub-acknowledge", "call-error-args-kwargs",
        "no-such-procedure", "cancel", "cancel-interrupts-callee", "leave",
    ])
    conns = {}

    def need():
        if "A" not in conns or "B" not in conns:
            raise CheckFailed("sessions did not join")
        return conns["A"].session, conns["B"].session

    async def join():
        conns["A"] = await connect(kind, target, opt.realm)
        conns["B"] = await connect(kind, target, opt.realm)
        for who, c in conns.items():
            sid = c.session.session_id
            check(isinstance(sid, int) and 0 < sid <= 2**53, f"{who}: bad session id {sid!r}")
            # autobahn-python's default: CBOR, the first serializer it offers
            # (WebSocket) or asks for (RawSocket).
            check_equal(c.serializer_id, "cbor", f"{who}: serializer in use")
            if kind == "ws":
                check_equal(c.protocol.websocket_protocol_in_use, "wamp.2.cbor", f"{who}: WebSocket subprotocol")
            check(c.details.realm == opt.realm, f"{who}: joined realm {c.details.realm!r}")
        check(conns["A"].session.session_id != conns["B"].session.session_id, "both sessions got the same id")

    await r.check("join", join, 8.0)

    async def call_args_kwargs():
        a, b = need()
        seen = {}

        def echo(*args, **kwargs):
            seen["args"], seen["kwargs"] = list(args), kwargs
            return CallResult(*reversed(args), echoed=True, **kwargs)

        await b.register(echo, uri("echo"))
        args = [1, "two", {"three": 3}, [4, [5]], True, None, -7, 2.5, b"\x00\xffraw"]
        kwargs = {"a": 1, "b": "x", "nested": {"c": [1, 2], "d": {"e": "f"}}, "empty": {}}
        res = await a.call(uri("echo"), *args, **kwargs)
        check_equal(seen.get("args"), args, "callee args")
        check_equal(seen.get("kwargs"), kwargs, "callee kwargs")
        check(isinstance(res, CallResult), f"expected a CallResult, got {res!r}")
        check_equal(list(res.results), list(reversed(args)), "result args")
        check_equal(res.kwresults, dict(kwargs, echoed=True), "result kwargs")

    await r.check("call-args-kwargs", call_args_kwargs)

    async def pubsub_acknowledge():
        a, b = need()
        got = asyncio.get_running_loop().create_future()

        def on_event(*args, details=None, **kwargs):
            if not got.done():
                got.set_result((list(args), kwargs, details))

        await b.subscribe(on_event, uri("topic"), options=SubscribeOptions(details_arg="details"))
        pub = await a.publish(uri("topic"), "hello", 42, k=[1, 2, 3], options=PublishOptions(acknowledge=True))
        check(pub is not None and isinstance(pub.id, int) and pub.id > 0, f"PUBLISHED without an id: {pub!r}")
        args, kwargs, details = await got
        check_equal(args, ["hello", 42], "event args")
        check_equal(kwargs, {"k": [1, 2, 3]}, "event kwargs")
        check_equal(details.publication, pub.id, "EVENT publication id vs PUBLISHED id")

    await r.check("pubsub-acknowledge", pubsub_acknowledge)

    async def call_error():
        a, b = need()

        def fail(*args, **kwargs):
            raise ApplicationError("com.example.interop.failed", "bad input", 7, {"why": "test"}, code=42, hint=["a", "b"])

        await b.register(fail, uri("fail"))
        e = await expect_error(a.call(uri("fail"), "x"), "call")
        check_equal(e.error, "com.example.interop.failed", "error uri")
        check_equal(list(e.args), ["bad input", 7, {"why": "test"}], "error args")
        check_equal(e.kwargs, {"code": 42, "hint": ["a", "b"]}, "error kwargs")

    await r.check("call-error-args-kwargs", call_error)

    async def no_such_procedure():
        a, _ = need()
        e = await expect_error(a.call(uri("missing"), 1), "call")
        check_equal(e.error, "wamp.error.no_such_procedure", "error uri")

    await r.check("no-such-procedure", no_such_procedure)

    interrupted = asyncio.get_running_loop().create_future()

    async def cancel():
        a, b = need()
        started = asyncio.get_running_loop().create_future()

        async def slow():
            started.set_result(None)
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                # autobahn-python cancels the invocation on INTERRUPT.
                if not interrupted.done():
                    interrupted.set_result(None)
                raise
            return "not canceled"

        await b.register(slow, uri("slow"), options=RegisterOptions())
        call = a.call(uri("slow"))
        rids = [rid for rid, req in a._call_reqs.items() if req.on_reply is call]
        check(len(rids) == 1, f"cannot find the CALL request id ({len(rids)} matches)")
        rid = rids[0]
        await asyncio.wait_for(started, 3)
        # autobahn-python cancels a call by cancelling its future: it sends
        # CANCEL (no mode) and keeps the request until the router's ERROR.
        call.cancel()
        try:
            await call
        except asyncio.CancelledError:
            pass
        else:
            raise CheckFailed("call future was not cancelled")
        await wait_until(lambda: any(m.request == rid for m in a.errors), 3, "no ERROR for the canceled CALL")
        err = [m for m in a.errors if m.request == rid][0]
        check_equal(err.request_type, 48, "ERROR request type")
        check_equal(err.error, "wamp.error.canceled", "ERROR uri")
        check(rid not in a._call_reqs, "call still pending after the ERROR")
        # The session is still usable.
        res = await a.call(uri("echo"), "ok")
        check_equal(list(res.results), ["ok"], "call after cancel")

    await r.check("cancel", cancel)

    async def cancel_interrupts_callee():
        need()
        # The callee announced call_canceling, so the router's default
        # (killnowait) interrupts it.
        await asyncio.wait_for(asyncio.shield(interrupted), 3)

    await r.check("cancel-interrupts-callee", cancel_interrupts_callee)

    async def leave():
        need()
        for who in ("A", "B"):
            c = conns.pop(who)
            details = await c.leave()
            check_equal(details.reason, "wamp.close.goodbye_and_out", f"{who}: router GOODBYE reply reason")

    await r.check("leave", leave)

    for c in conns.values():
        c.close()
    return r.finish()


if __name__ == "__main__":
    setup_logging()
    sys.exit(asyncio.run(main()))
