"""Python-to-Python checks across serializers, through wampgate.

    /usr/bin/python3 cross.py --ws URL --tcp HOST:PORT

Needs peer.py running (CBOR over RawSocket TCP). This script joins with
MessagePack and JSON over WebSocket and with CBOR over RawSocket, so every
value crosses the router from one serializer to another.
"""

import argparse
import asyncio
import sys

from common import CheckFailed, JoinRefused, Reporter, check, check_equal, connect, expect_error, setup_logging
from autobahn.wamp.types import CallResult, PublishOptions
from peer import BLOB

TWO53 = 2**53
I64MAX = 2**63 - 1
I64MIN = -(2**63)
U64MAX = 2**64 - 1


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ws", required=True)
    ap.add_argument("--tcp", required=True)
    ap.add_argument("--realm", default="realm1")
    opt = ap.parse_args()

    r = Reporter("cross/python", [
        "join", "bytes-cbor-to-msgpack", "bytes-cbor-to-json", "bytes-msgpack-to-cbor",
        "bigints-msgpack-call-cbor-callee", "bigints-cbor-result-to-msgpack",
        "bigints-pubsub-msgpack-to-cbor", "bigints-pubsub-cbor-to-msgpack", "int64-uint64-extremes",
        "realm-isolation", "unknown-realm-refused",
    ])
    conns = {}

    def need(*names):
        missing = [n for n in names if n not in conns]
        if missing:
            raise CheckFailed(f"sessions did not join: {', '.join(missing)}")
        return [conns[n].session for n in names]

    async def join():
        conns["msgpack"] = await connect("ws", opt.ws, opt.realm, serializer="msgpack")
        conns["json"] = await connect("ws", opt.ws, opt.realm, serializer="json")
        conns["cbor"] = await connect("tcp", opt.tcp, opt.realm)
        for want, c in conns.items():
            check_equal(c.serializer_id, want, "serializer in use")

    await r.check("join", join, 8.0)

    async def bytes_cbor_to_msgpack():
        (mp,) = need("msgpack")
        check_equal(await mp.call("interop.py.blob"), BLOB, "bytes from the CBOR callee")

    await r.check("bytes-cbor-to-msgpack", bytes_cbor_to_msgpack)

    async def bytes_cbor_to_json():
        (js,) = need("json")
        # autobahn-python's JSON serializer maps "\u0000"+base64 back to bytes.
        check_equal(await js.call("interop.py.blob"), BLOB, "bytes from the CBOR callee over JSON")

    await r.check("bytes-cbor-to-json", bytes_cbor_to_json)

    async def bytes_msgpack_to_cbor():
        (mp,) = need("msgpack")
        res = await mp.call("interop.py.describe", BLOB, blob=BLOB)
        check(isinstance(res, CallResult), f"expected a CallResult, got {res!r}")
        check_equal(list(res.results), [["bytes", repr(BLOB)]], "what the CBOR callee received")
        check_equal(res.kwresults, {"blob": ["bytes", repr(BLOB)]}, "what the CBOR callee received (kwargs)")

    await r.check("bytes-msgpack-to-cbor", bytes_msgpack_to_cbor)

    async def bigints_call():
        (mp,) = need("msgpack")
        res = await mp.call("interop.py.describe", TWO53, I64MAX, n=TWO53)
        check_equal(list(res.results), [["int", str(TWO53)], ["int", str(I64MAX)]], "what the CBOR callee received")
        check_equal(res.kwresults, {"n": ["int", str(TWO53)]}, "what the CBOR callee received (kwargs)")
        res = await mp.call("interop.py.echo", TWO53, I64MAX, n=I64MAX)
        check_equal(list(res.results), [TWO53, I64MAX], "echoed args")
        check_equal(res.kwresults, {"n": I64MAX}, "echoed kwargs")

    await r.check("bigints-msgpack-call-cbor-callee", bigints_call)

    async def bigints_result():
        (mp,) = need("msgpack")
        res = await mp.call("interop.py.bigints")
        check_equal(list(res.results), [TWO53, I64MAX], "result computed on the CBOR side")

    await r.check("bigints-cbor-result-to-msgpack", bigints_result)

    async def pubsub(pub_name, sub_name, topic, values):
        pub, sub = need(pub_name, sub_name)
        got = asyncio.get_running_loop().create_future()

        def on_event(*args, **kwargs):
            if not got.done():
                got.set_result((list(args), kwargs))

        s = await sub.subscribe(on_event, topic)
        try:
            await pub.publish(topic, *values, last=values[-1], options=PublishOptions(acknowledge=True))
            args, kwargs = await got
        finally:
            await s.unsubscribe()
        check_equal(args, list(values), f"event args at the {sub_name} subscriber")
        check_equal(kwargs, {"last": values[-1]}, f"event kwargs at the {sub_name} subscriber")

    await r.check("bigints-pubsub-msgpack-to-cbor",
                  lambda: pubsub("msgpack", "cbor", "interop.cross.big1", [TWO53, I64MAX]))
    await r.check("bigints-pubsub-cbor-to-msgpack",
                  lambda: pubsub("cbor", "msgpack", "interop.cross.big2", [TWO53, I64MAX]))

    async def extremes():
        # Both serializers carry the whole int64 and uint64 range natively.
        (mp,) = need("msgpack")
        values = [I64MIN, U64MAX, -1, 0, 2**32, -(2**32)]
        res = await mp.call("interop.py.describe", *values)
        check_equal(list(res.results), [["int", str(v)] for v in values], "what the CBOR callee received")
        res = await mp.call("interop.py.echo", *values)
        check_equal(list(res.results), values, "echoed back to msgpack")
        await pubsub("cbor", "msgpack", "interop.cross.big3", values)

    await r.check("int64-uint64-extremes", extremes)

    async def realm_isolation():
        # The router serves realm1 (everything above, peer.py included) and
        # realm2. Nothing may cross between them.
        r1, r1pub = need("cbor", "msgpack")
        # Control: the procedure exists in realm1.
        check_equal(await r1pub.call("interop.py.add", 1, 2), 3, "realm1 call to interop.py.add")
        other = [await connect("ws", opt.ws, "realm2", serializer="msgpack") for _ in range(2)]
        try:
            r2, r2pub = other[0].session, other[1].session
            e = await expect_error(r2.call("interop.py.add", 1, 2), "realm2 call to a realm1 procedure")
            check_equal(e.error, "wamp.error.no_such_procedure", "realm2 call to a realm1 procedure")
            topic = "interop.cross.realms"
            loop = asyncio.get_running_loop()
            got1, got2 = [], loop.create_future()
            marker = loop.create_future()

            def on1(*args):
                got1.append(list(args))
                if args == ("realm1 marker",) and not marker.done():
                    marker.set_result(None)

            await r1.subscribe(on1, topic)
            await r2.subscribe(lambda *a: got2.done() or got2.set_result(list(a)), topic)
            await r2pub.publish(topic, "realm2 only", options=PublishOptions(acknowledge=True))
            check_equal(await got2, ["realm2 only"], "event at the realm2 subscriber")
            # realm1 gets a marker afterwards; a leaked realm2 event would
            # have reached the realm1 subscriber before it.
            await r1pub.publish(topic, "realm1 marker", options=PublishOptions(acknowledge=True))
            await marker
            check_equal(got1, [["realm1 marker"]], "events at the realm1 subscriber")
        finally:
            for c in other:
                c.close()

    await r.check("realm-isolation", realm_isolation)

    async def unknown_realm():
        try:
            c = await connect("tcp", opt.tcp, "interop.no.such.realm")
        except JoinRefused as e:
            check_equal(e.reason, "wamp.error.no_such_realm", "ABORT reason")
        else:
            c.close()
            raise CheckFailed("joined a realm the router does not serve")

    await r.check("unknown-realm-refused", unknown_realm)

    for c in conns.values():
        try:
            await c.leave(2.0)
        except Exception:  # noqa: BLE001 - cleanup only
            c.close()
    return r.finish()


if __name__ == "__main__":
    setup_logging()
    sys.exit(asyncio.run(main()))
