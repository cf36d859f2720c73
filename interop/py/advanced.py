"""Advanced Profile features through autobahn-python (asyncio), against the
default router instance.

    /usr/bin/python3 advanced.py --ws URL --tcp HOST:PORT

A (publisher/caller) joins over WebSocket with autobahn's default (CBOR),
B over RawSocket TCP (CBOR) and C over WebSocket with MessagePack, all in
realm1. The session meta cases that kill sessions run in realm2, where no
other program has sessions at the time.
"""

import argparse
import asyncio
import sys

from common import (
    ApplicationError, CheckFailed, Reporter, Skip, check, check_equal, connect, expect_error,
    setup_logging, wait_until,
)
from autobahn.wamp import message
from autobahn.wamp.types import CallOptions, CallResult, PublishOptions, RegisterOptions, SubscribeOptions

U = "interop.adv.abpy"
ACK = PublishOptions(acknowledge=True)


def uri(s):
    return f"{U}.{s}"


def details_opts(**kw):
    return SubscribeOptions(details_arg="details", **kw)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ws", required=True)
    ap.add_argument("--tcp", required=True)
    opt = ap.parse_args()

    r = Reporter("advanced/autobahn-python", [
        "join",
        "pattern-subscribe-prefix", "pattern-subscribe-wildcard",
        "pattern-register-prefix", "pattern-register-wildcard", "pattern-register-precedence",
        "shared-register-roundrobin", "shared-register-policy-conflict",
        "blackwhite-exclude", "blackwhite-eligible", "blackwhite-exclude-authid", "blackwhite-eligible-authrole",
        "publisher-identification", "caller-identification", "publisher-exclusion-exclude-me-false",
        "event-retention", "progressive-results",
        "cancel-skip", "cancel-kill", "cancel-killnowait",
        "session-meta-count-list-get", "session-meta-on-join-on-leave", "session-meta-kill",
        "session-meta-kill-errors", "session-meta-kill-by-authid", "session-meta-kill-by-authrole",
        "session-meta-kill-all", "session-meta-kill-all-no-testament-or-meta-events",
        "registration-meta", "subscription-meta",
        "testament-on-connection-loss", "testament-flush", "testament-scopes-order",
    ])
    conns = {}
    extra = []  # sessions opened by single cases
    loop = asyncio.get_running_loop()

    def need():
        missing = [n for n in "ABC" if n not in conns]
        if missing:
            raise CheckFailed(f"sessions did not join: {', '.join(missing)}")
        return conns["A"].session, conns["B"].session, conns["C"].session

    async def open_session(realm="realm1", kind="ws"):
        c = await connect(kind, opt.ws if kind == "ws" else opt.tcp, realm)
        extra.append(c)
        return c

    def inbox():
        got = []

        def on_event(*args, details=None, **kwargs):
            got.append((list(args), kwargs, details))
        return got, on_event

    async def join():
        conns["A"] = await connect("ws", opt.ws, "realm1")
        conns["B"] = await connect("tcp", opt.tcp, "realm1")
        conns["C"] = await connect("ws", opt.ws, "realm1", serializer="msgpack")
        ids = {c.details.authid for c in conns.values()}
        check(len(ids) == 3, f"anonymous sessions share authids: {ids}")
        for who, c in conns.items():
            check_equal(c.details.authmethod, "anonymous", f"{who}: authmethod")

    await r.check("join", join, 8.0)

    async def pattern_subscribe_prefix():
        a, b, _ = need()
        got, fn = inbox()
        await b.subscribe(fn, uri("pfx.sensor"), options=details_opts(match="prefix"))
        await a.publish(uri("pfx.other.x"), "not matching", options=ACK)
        await a.publish(uri("pfx.sensor.temp.1"), "deep", options=ACK)
        await a.publish(uri("pfx.sensor.hum"), "shallow", options=ACK)
        await wait_until(lambda: len(got) >= 2, 3, "no two events for the prefix subscription")
        await asyncio.sleep(0.05)
        check_equal([(g[0], g[2].topic) for g in got],
                    [(["deep"], uri("pfx.sensor.temp.1")), (["shallow"], uri("pfx.sensor.hum"))],
                    "events (args, details.topic)")

    await r.check("pattern-subscribe-prefix", pattern_subscribe_prefix)

    async def pattern_subscribe_wildcard():
        a, b, _ = need()
        got, fn = inbox()
        await b.subscribe(fn, uri("wc..status"), options=details_opts(match="wildcard"))
        await a.publish(uri("wc.dev1.status"), 1, options=ACK)
        await a.publish(uri("wc.dev1.status.extra"), "too long", options=ACK)
        await a.publish(uri("wc.dev2.other"), "other", options=ACK)
        await a.publish(uri("wc.dev2.status"), 2, options=ACK)
        await wait_until(lambda: len(got) >= 2, 3, "no two events for the wildcard subscription")
        await asyncio.sleep(0.05)
        check_equal([(g[0], g[2].topic) for g in got],
                    [([1], uri("wc.dev1.status")), ([2], uri("wc.dev2.status"))], "events (args, details.topic)")

    await r.check("pattern-subscribe-wildcard", pattern_subscribe_wildcard)

    regs = {}

    async def register_pattern(label, procedure, match=None):
        if label in regs:
            return

        def handler(*args, details=None, **kwargs):
            return CallResult(label, details.procedure)

        _, b, _ = need()
        regs[label] = await b.register(handler, procedure, options=RegisterOptions(match=match, details_arg="details"))

    async def pattern_register_prefix():
        a, _, _ = need()
        await register_pattern("prefix-a", uri("reg.a"), "prefix")
        res = await a.call(uri("reg.a.x.y"))
        check_equal(list(res.results), ["prefix-a", uri("reg.a.x.y")], "callee label and INVOCATION details.procedure")

    await r.check("pattern-register-prefix", pattern_register_prefix)

    async def pattern_register_wildcard():
        a, _, _ = need()
        await register_pattern("wildcard-b-c", uri("reg..b.c"), "wildcard")
        res = await a.call(uri("reg.z.b.c"))
        check_equal(list(res.results), ["wildcard-b-c", uri("reg.z.b.c")], "callee label and INVOCATION details.procedure")
        e = await expect_error(a.call(uri("reg.z.b")), "call with one component too few")
        check_equal(e.error, "wamp.error.no_such_procedure", "error uri")

    await r.check("pattern-register-wildcard", pattern_register_wildcard)

    async def pattern_register_precedence():
        a, _, _ = need()
        await register_pattern("prefix-a", uri("reg.a"), "prefix")
        await register_pattern("wildcard-b-c", uri("reg..b.c"), "wildcard")
        await register_pattern("exact", uri("reg.a.b.c"))
        await register_pattern("prefix-a-b", uri("reg.a.b"), "prefix")
        await register_pattern("wildcard-a-e", uri("reg.a..e"), "wildcard")
        await register_pattern("wildcard-long-run", uri("reg.w.b2.c33..e5"), "wildcard")
        await register_pattern("wildcard-short-run", uri("reg.w.b2..d4.e5"), "wildcard")
        want = [
            ("reg.a.b.c", "exact"),
            ("reg.a.b.e", "prefix-a-b"),
            ("reg.a.x.e", "prefix-a"),
            ("reg.q.b.c", "wildcard-b-c"),
            ("reg.w.b2.c33.d4.e5", "wildcard-long-run"),
        ]
        got = []
        for p, _ in want:
            res = await a.call(uri(p))
            got.append((p, res.results[0], res.results[1]))
        # autobahn-python shows the registered URI when INVOCATION has no
        # details.procedure, which is right for the exact registration.
        check_equal(got, [(p, label, uri(p)) for p, label in want], "chosen registration and details.procedure per call")

    await r.check("pattern-register-precedence", pattern_register_precedence)

    async def shared_roundrobin():
        a, b, c = need()
        p = uri("shared.rr")
        await b.register(lambda: "B", p, options=RegisterOptions(invoke="roundrobin"))
        await c.register(lambda: "C", p, options=RegisterOptions(invoke="roundrobin"))
        seq = [await a.call(p) for _ in range(6)]
        first = seq[0]
        second = "C" if first == "B" else "B"
        check_equal(seq, [first, second] * 3, "callees of six calls in a row")

    await r.check("shared-register-roundrobin", shared_roundrobin)

    async def shared_conflict():
        a, _, _ = need()
        p = uri("shared.rr")
        e = await expect_error(a.register(lambda: "A", p, options=RegisterOptions(invoke="first")), "REGISTER with invoke=first")
        check_equal(e.error, "wamp.error.procedure_already_exists", "error uri")
        e = await expect_error(a.register(lambda: "A", p, options=RegisterOptions(invoke="single")), "REGISTER with invoke=single")
        check_equal(e.error, "wamp.error.procedure_already_exists", "error uri (single)")

    await r.check("shared-register-policy-conflict", shared_conflict)

    bw = [0]

    async def deliveries(**options):
        a, b, c = need()
        bw[0] += 1
        topic = uri(f"bw.t{bw[0]}")
        got_b, fn_b = inbox()
        got_c, fn_c = inbox()
        await b.subscribe(fn_b, topic, options=details_opts())
        await c.subscribe(fn_c, topic, options=details_opts())
        await a.publish(topic, "filtered", options=PublishOptions(acknowledge=True, **options))
        await a.publish(topic, "marker", options=ACK)

        def marked(got):
            return any(g[0] == ["marker"] for g in got)
        await wait_until(lambda: marked(got_b) and marked(got_c), 3, "no marker event at B and C")
        return [who for who, got in (("B", got_b), ("C", got_c)) if any(g[0] == ["filtered"] for g in got)]

    def sid(name):
        return conns[name].session.session_id

    def authid(name):
        return conns[name].details.authid

    async def bw_exclude():
        need()
        check_equal(await deliveries(exclude=[sid("B")]), ["C"], "receivers with exclude=[B]")

    await r.check("blackwhite-exclude", bw_exclude)

    async def bw_eligible():
        need()
        check_equal(await deliveries(eligible=[sid("C")]), ["C"], "receivers with eligible=[C]")
        check_equal(await deliveries(eligible=[sid("B"), sid("C")], exclude=[sid("B")]), ["C"],
                    "receivers with eligible=[B,C], exclude=[B]")

    await r.check("blackwhite-eligible", bw_eligible)

    async def bw_authid():
        need()
        check_equal(await deliveries(exclude_authid=[authid("B")]), ["C"], "receivers with exclude_authid=[B.authid]")
        check_equal(await deliveries(eligible_authid=[authid("B")]), ["B"], "receivers with eligible_authid=[B.authid]")

    await r.check("blackwhite-exclude-authid", bw_authid)

    async def bw_authrole():
        need()
        role = conns["B"].details.authrole
        check_equal(await deliveries(eligible_authrole=[role]), ["B", "C"], f"receivers with eligible_authrole=[{role}]")
        check_equal(await deliveries(eligible_authrole=["interop_nobody"]), [], "receivers with eligible_authrole=[interop_nobody]")
        check_equal(await deliveries(exclude_authrole=[role]), [], f"receivers with exclude_authrole=[{role}]")

    await r.check("blackwhite-eligible-authrole", bw_authrole)

    async def no_disclose_me():
        raise Skip("autobahn-python 22.7.1 cannot ask for disclosure: PublishOptions and CallOptions (and "
                   "message.Publish/Call) have no disclose_me; the autobahn-python subscriber and callee side "
                   "(EventDetails.publisher*, CallDetails.caller*) is checked in cross/js/*-disclose-to-python-*")

    await r.check("publisher-identification", no_disclose_me)
    await r.check("caller-identification", no_disclose_me)

    async def exclude_me_false():
        a, _, _ = need()
        got, fn = inbox()
        topic = uri("exclme")
        await a.subscribe(fn, topic, options=details_opts())
        await a.publish(topic, "default", options=ACK)
        await a.publish(topic, "excluded", options=PublishOptions(acknowledge=True, exclude_me=True))
        await a.publish(topic, "own", options=PublishOptions(acknowledge=True, exclude_me=False))
        await wait_until(lambda: len(got) >= 1, 3, "no exclude_me=False event at the publisher")
        await asyncio.sleep(0.05)
        check_equal([g[0] for g in got], [["own"]], "events the publisher received from itself")

    await r.check("publisher-exclusion-exclude-me-false", exclude_me_false)

    async def retention():
        a, b, c = need()
        topic = uri("retained")
        await a.publish(topic, "old", n=1, options=PublishOptions(acknowledge=True, retain=True))
        await a.publish(topic, "kept", b"\x00raw", n=2, options=PublishOptions(acknowledge=True, retain=True))
        await a.publish(topic, "not kept", n=3, options=ACK)
        got_b, fn_b = inbox()
        got_c, fn_c = inbox()
        await b.subscribe(fn_b, topic, options=details_opts(get_retained=True))
        await c.subscribe(fn_c, topic, options=details_opts())
        await wait_until(lambda: len(got_b) >= 1, 3, "no retained event on subscribe with get_retained=True")
        await a.publish(topic, "live", options=ACK)
        await wait_until(lambda: len(got_b) >= 2 and len(got_c) >= 1, 3, "no live event")
        check_equal([(g[0], g[1], bool(g[2].retained)) for g in got_b],
                    [(["kept", b"\x00raw"], {"n": 2}, True), (["live"], {}, False)],
                    "events (args, kwargs, details.retained) with get_retained=True (B, RawSocket CBOR)")
        check_equal([(g[0], bool(g[2].retained)) for g in got_c], [(["live"], False)], "events without get_retained")

    await r.check("event-retention", retention)

    async def progressive():
        a, b, _ = need()

        async def stream(n, details=None):
            check(details.progress is not None, "INVOCATION without receive_progress")
            for i in range(1, n + 1):
                details.progress(i, step=i)
                await asyncio.sleep(0.01)
            return CallResult("done", steps=n)

        await b.register(stream, uri("prog"), options=RegisterOptions(details_arg="details"))
        seen = []
        res = await a.call(uri("prog"), 3, options=CallOptions(on_progress=lambda *args, **kw: seen.append((list(args), kw))))
        check_equal(seen, [([1], {"step": 1}), ([2], {"step": 2}), ([3], {"step": 3})], "progressive results")
        check_equal((list(res.results), res.kwresults), (["done"], {"steps": 3}), "final result")

    await r.check("progressive-results", progressive)

    # cancel: B (autobahn-python, announces call_canceling) is the callee.
    # autobahn-python's own API cancels only by cancelling the call future,
    # which sends CANCEL without a mode (autobahn-python/*/cancel covers it);
    # the modes are sent with the library's message.Cancel(mode=...).
    # The callee answers (normally, or with an error once interrupted) only
    # when the case releases it after the caller got its ERROR, or after
    # 3 s; so the order shows whether the router waited for the callee.
    slow = {"started": [], "interrupted": [], "answered": [], "release": None}

    async def ensure_slow():
        _, b, _ = need()
        if "registered" in slow:
            return

        async def slow_proc(tag):
            slow["started"].append(tag)
            try:
                try:
                    await asyncio.wait_for(asyncio.shield(slow["release"]), 3)
                except asyncio.TimeoutError:
                    pass
            except asyncio.CancelledError:
                slow["interrupted"].append(tag)
                try:
                    await asyncio.wait_for(asyncio.shield(slow["release"]), 3)
                except asyncio.TimeoutError:
                    pass
                slow["answered"].append(tag)
                # With kill the caller must get exactly this error.
                raise ApplicationError("com.example.interop.interrupted", tag)
            slow["answered"].append(tag)
            return "not canceled"

        await b.register(slow_proc, uri("slow"))
        await b.register(lambda: "pong", uri("ping"))
        slow["registered"] = True

    async def cancel_case(mode, want_error, want_interrupt):
        a, b, _ = need()
        await ensure_slow()
        slow["release"] = loop.create_future()
        before = len(b.received)
        call = a.call(uri("slow"), mode)
        rids = [rid for rid, req in a._call_reqs.items() if req.on_reply is call]
        check(len(rids) == 1, f"cannot find the CALL request id ({len(rids)} matches)")
        await wait_until(lambda: mode in slow["started"], 3, "no INVOCATION at the callee")
        if want_interrupt and want_error != "wamp.error.canceled":
            # kill: the router waits for the callee, so release it once it
            # has been interrupted.
            async def release_when_interrupted():
                await wait_until(lambda: mode in slow["interrupted"], 3, "no INTERRUPT at the callee")
                slow["release"].set_result(None)
            releaser = asyncio.ensure_future(release_when_interrupted())
        else:
            releaser = None
        a._transport.send(message.Cancel(rids[0], mode=mode))
        e = await expect_error(call, f"call cancelled with mode {mode}")
        early = mode not in slow["answered"]
        if not slow["release"].done():
            slow["release"].set_result(None)
        if releaser is not None:
            await releaser
        check_equal(e.error, want_error, "error uri at the caller")
        if want_error == "wamp.error.canceled":
            check(early, "the caller got its ERROR only after the callee answered: the router waited for the callee")
        # The callee's answer comes after the ERROR; the router must drop it
        # (autobahn-python would close the session on a reply it does not
        # expect, and the call below would fail).
        await wait_until(lambda: mode in slow["answered"], 3, "no answer from the callee")
        await asyncio.sleep(0.1)
        interrupts = [m for m in b.received[before:] if isinstance(m, message.Interrupt)]
        if want_interrupt:
            check_equal([m.mode for m in interrupts], [mode], "INTERRUPT mode at the callee")
            check(mode in slow["interrupted"], "the callee's invocation was not cancelled")
        else:
            check_equal(len(interrupts), 0, "INTERRUPT messages at the callee")
            check(mode not in slow["interrupted"], "the callee's invocation was cancelled")
        check_equal(await a.call(uri("ping")), "pong", "call afterwards")

    await r.check("cancel-skip", lambda: cancel_case("skip", "wamp.error.canceled", False))
    await r.check("cancel-kill", lambda: cancel_case("kill", "com.example.interop.interrupted", True))
    await r.check("cancel-killnowait", lambda: cancel_case("killnowait", "wamp.error.canceled", True))

    # ---- session meta API (realm2)

    meta = {}

    async def meta_session():
        if "M" not in meta:
            meta["M"] = await open_session("realm2")
        return meta["M"].session

    async def count_list_get():
        m = await meta_session()
        v = await open_session("realm2", "tcp")
        for _ in range(5):
            lst = await m.call("wamp.session.list")
            count = await m.call("wamp.session.count")
            again = await m.call("wamp.session.list")
            if isinstance(lst, list) and count == len(lst) and sorted(again) == sorted(lst):
                break
            await asyncio.sleep(0.1)
        check(isinstance(lst, list), f"wamp.session.list returned {lst!r}")
        check_equal(count, len(lst), "wamp.session.count vs the length of wamp.session.list")
        check(m.session_id in lst and v.session.session_id in lst, f"list {lst} lacks the two sessions")
        check_equal(await m.call("wamp.session.count", ["interop_nobody"]), 0, "count filtered by an unused authrole")
        d = await m.call("wamp.session.get", v.session.session_id)
        check(isinstance(d, dict), f"wamp.session.get returned {d!r}")
        check_equal((d.get("session"), d.get("authid"), d.get("authrole"), d.get("authmethod")),
                    (v.session.session_id, v.details.authid, v.details.authrole, "anonymous"), "wamp.session.get")
        await v.leave()

    await r.check("session-meta-count-list-get", count_list_get)

    async def join_leave():
        m = await meta_session()
        joins, leaves = [], []
        await m.subscribe(lambda d: joins.append(d), "wamp.session.on_join")
        await m.subscribe(lambda *a: leaves.append(list(a)), "wamp.session.on_leave")
        v = await open_session("realm2", "tcp")
        vid = v.session.session_id
        await wait_until(lambda: any(isinstance(d, dict) and d.get("session") == vid for d in joins), 3, "no on_join")
        d = [d for d in joins if d.get("session") == vid][0]
        check_equal((d.get("authid"), d.get("authrole"), d.get("authmethod")),
                    (v.details.authid, v.details.authrole, "anonymous"), "on_join details")
        await v.leave()
        await wait_until(lambda: any(x and x[0] == vid for x in leaves), 3, "no on_leave")
        check_equal([x for x in leaves if x[0] == vid][0], [vid, v.details.authid, v.details.authrole],
                    "on_leave [session, authid, authrole]")

    await r.check("session-meta-on-join-on-leave", join_leave)

    async def kill():
        m = await meta_session()
        v1 = await open_session("realm2", "tcp")
        v2 = await open_session("realm2")
        res = await m.call("wamp.session.kill", v1.session.session_id)
        check_equal(res, None, "wamp.session.kill result")
        d = await asyncio.wait_for(asyncio.shield(v1.session.left), 3)
        check_equal(d.reason, "wamp.close.killed", "GOODBYE reason at the killed session (RawSocket)")
        await m.call("wamp.session.kill", v2.session.session_id, reason="com.example.interop.kicked", message="bye now")
        d = await asyncio.wait_for(asyncio.shield(v2.session.left), 3)
        check_equal((d.reason, d.message), ("com.example.interop.kicked", "bye now"), "GOODBYE with kill(reason, message)")

    await r.check("session-meta-kill", kill)

    async def kill_errors():
        m = await meta_session()
        e = await expect_error(m.call("wamp.session.kill", 4242424242), "kill of an unknown session")
        check_equal(e.error, "wamp.error.no_such_session", "error uri (unknown)")
        e = await expect_error(m.call("wamp.session.kill", m.session_id), "kill of the caller itself")
        check_equal(e.error, "wamp.error.no_such_session", "error uri (own session)")

    await r.check("session-meta-kill-errors", kill_errors)

    async def kill_by_authid():
        m = await meta_session()
        v = await open_session("realm2", "tcp")
        w = await open_session("realm2")
        vid = v.session.session_id  # autobahn-python clears it on leave
        res = await m.call("wamp.session.kill_by_authid", v.details.authid)
        check_equal(res, [vid], "kill_by_authid result (list of killed session IDs)")
        d = await asyncio.wait_for(asyncio.shield(v.session.left), 3)
        check_equal(d.reason, "wamp.close.killed", "GOODBYE reason")
        check(not w.session.left.done(), "a session with another authid was killed too")
        await w.leave()

    await r.check("session-meta-kill-by-authid", kill_by_authid)

    async def kill_by_authrole():
        m = await meta_session()
        before = await m.call("wamp.session.list")
        v = await open_session("realm2", "tcp")
        w = await open_session("realm2")
        res = await m.call("wamp.session.kill_by_authrole", v.details.authrole, message="role removed")
        check_equal(res, len(before) - 1 + 2, "kill_by_authrole result (count)")
        for x in (v, w):
            d = await asyncio.wait_for(asyncio.shield(x.session.left), 3)
            check_equal((d.reason, d.message), ("wamp.close.killed", "role removed"), "GOODBYE reason and message")
        check(not meta["M"].session.left.done(), "kill_by_authrole killed the caller")

    await r.check("session-meta-kill-by-authrole", kill_by_authrole)

    async def kill_all():
        m = await meta_session()
        v = await open_session("realm2", "tcp")
        w = await open_session("realm2")
        res = await m.call("wamp.session.kill_all")
        check_equal(res, 2, "kill_all result (count)")
        for x in (v, w):
            d = await asyncio.wait_for(asyncio.shield(x.session.left), 3)
            check_equal(d.reason, "wamp.close.killed", "GOODBYE reason")
            # The router may list a killed session until its GOODBYE reply
            # arrived; once the transport is closed it must be gone.
            await asyncio.wait_for(asyncio.shield(x.session.disconnected), 3)
        check_equal(await m.call("wamp.session.list"), [m.session_id], "sessions left in realm2 after the killed ones closed")

    await r.check("session-meta-kill-all", kill_all)

    async def kill_all_quiet():
        # wamp-spec.md 6.19 and 7.1: kill_all publishes neither testaments
        # nor session meta events for the sessions it kills.
        m = await meta_session()
        topic = uri("testament.kill_all")
        got, fn = inbox()
        leaves = []
        await m.subscribe(fn, topic, options=details_opts())
        await m.subscribe(lambda *a: leaves.append(list(a)), "wamp.session.on_leave")
        v = await open_session("realm2", "tcp")
        vid = v.session.session_id
        await v.session.call("wamp.session.add_testament", topic, ["testament"], {})
        check_equal(await m.call("wamp.session.kill_all"), 1, "kill_all result (count)")
        await asyncio.wait_for(asyncio.shield(v.session.disconnected), 3)
        await asyncio.sleep(0.1)
        await m.publish(topic, "marker", options=PublishOptions(acknowledge=True, exclude_me=False))
        await wait_until(lambda: any(g[0] == ["marker"] for g in got), 3, "no marker event")
        check_equal([g[0] for g in got], [["marker"]], "events on the testament topic (the testament must not be published)")
        check_equal([x for x in leaves if x and x[0] == vid], [], "on_leave events for the session kill_all killed")

    await r.check("session-meta-kill-all-no-testament-or-meta-events", kill_all_quiet)

    # ---- registration and subscription meta API (realm1)

    async def registration_meta():
        a, b, c = need()
        events = []
        for t in ("on_create", "on_register", "on_unregister", "on_delete"):
            await a.subscribe(lambda *args, t=t: events.append((t, list(args))), f"wamp.registration.{t}")
        p = uri("meta.reg")
        reg = await b.register(lambda: 1, p, options=RegisterOptions(invoke="roundrobin"))
        await c.register(lambda: 2, p, options=RegisterOptions(invoke="roundrobin"))

        def mine(e):
            return (e[1][1].get("id") if e[0] == "on_create" else e[1][1]) == reg.id
        await wait_until(lambda: len([e for e in events if mine(e)]) >= 3, 3, "no on_create and two on_register")
        create, reg_b, reg_c = [e for e in events if mine(e)][:3]
        check_equal(create[0], "on_create", "first meta event")
        d = create[1][1]
        check_equal((create[1][0], d.get("id"), d.get("uri"), d.get("match"), d.get("invoke")),
                    (b.session_id, reg.id, p, "exact", "roundrobin"), "on_create [session, RegistrationDetails]")
        check_equal((reg_b, reg_c), (("on_register", [b.session_id, reg.id]), ("on_register", [c.session_id, reg.id])),
                    "on_register events")
        lists = await a.call("wamp.registration.list")
        check(isinstance(lists, dict) and reg.id in lists.get("exact", []), f"wamp.registration.list {lists} lacks {reg.id}")
        check(regs and regs["prefix-a"].id in lists.get("prefix", []), "wamp.registration.list prefix lacks the prefix registration")
        check_equal(await a.call("wamp.registration.lookup", p), reg.id, "lookup")
        check_equal(await a.call("wamp.registration.lookup", uri("reg..b.c"), {"match": "wildcard"}), regs["wildcard-b-c"].id,
                    "lookup (wildcard)")
        check_equal(await a.call("wamp.registration.match", uri("reg.a.x.e")), regs["prefix-a"].id, "match (best match)")
        check_equal(await a.call("wamp.registration.match", uri("meta.none")), None, "match without any")
        g = await a.call("wamp.registration.get", reg.id)
        check_equal((g.get("id"), g.get("uri"), g.get("match"), g.get("invoke")), (reg.id, p, "exact", "roundrobin"), "get")
        check_equal(sorted(await a.call("wamp.registration.list_callees", reg.id)), sorted([b.session_id, c.session_id]),
                    "list_callees")
        check_equal(await a.call("wamp.registration.count_callees", reg.id), 2, "count_callees")
        e = await expect_error(a.call("wamp.registration.list_callees", 4242424242), "list_callees of an unknown registration")
        check_equal(e.error, "wamp.error.no_such_registration", "error uri")
        # The session that causes a meta event receives it too.
        own = await a.register(lambda: 0, uri("meta.own"))
        await wait_until(lambda: ("on_register", [a.session_id, own.id]) in events, 3,
                         "no on_register for the subscriber's own registration")

    await r.check("registration-meta", registration_meta)

    async def subscription_meta():
        a, b, c = need()
        events = []
        for t in ("on_create", "on_subscribe", "on_unsubscribe", "on_delete"):
            await a.subscribe(lambda *args, t=t: events.append((t, list(args))), f"wamp.subscription.{t}")
        topic = uri("meta.sub")
        sub = await b.subscribe(lambda *a: None, topic)
        wc = await c.subscribe(lambda *a: None, uri("meta..x"), options=SubscribeOptions(match="wildcard"))

        def mine(e):
            return (e[1][1].get("id") if e[0] == "on_create" else e[1][1]) == sub.id
        await wait_until(lambda: len([e for e in events if mine(e)]) >= 2, 3, "no on_create and on_subscribe")
        create, subscribe = [e for e in events if mine(e)][:2]
        d = create[1][1]
        check_equal((create[0], create[1][0], d.get("id"), d.get("uri"), d.get("match")),
                    ("on_create", b.session_id, sub.id, topic, "exact"), "on_create [session, SubscriptionDetails]")
        check_equal(subscribe, ("on_subscribe", [b.session_id, sub.id]), "on_subscribe")
        lists = await a.call("wamp.subscription.list")
        check(isinstance(lists, dict) and sub.id in lists.get("exact", []) and wc.id in lists.get("wildcard", []),
              f"wamp.subscription.list {lists} lacks {sub.id} (exact) or {wc.id} (wildcard)")
        check_equal(await a.call("wamp.subscription.lookup", topic), sub.id, "lookup")
        check_equal(await a.call("wamp.subscription.lookup", uri("meta..x"), {"match": "wildcard"}), wc.id, "lookup (wildcard)")
        check_equal(await a.call("wamp.subscription.lookup", uri("meta.none")), None, "lookup of an unused topic")
        check_equal(sorted(await a.call("wamp.subscription.match", uri("meta.sub")) or []), [sub.id], "match (exact only)")
        check_equal(await a.call("wamp.subscription.match", uri("meta.none.y")), None, "match without any")
        g = await a.call("wamp.subscription.get", wc.id)
        check_equal((g.get("id"), g.get("uri"), g.get("match")), (wc.id, uri("meta..x"), "wildcard"), "get")
        check_equal(await a.call("wamp.subscription.list_subscribers", sub.id), [b.session_id], "list_subscribers")
        check_equal(await a.call("wamp.subscription.count_subscribers", sub.id), 1, "count_subscribers")
        e = await expect_error(a.call("wamp.subscription.list_subscribers", 4242424242), "list_subscribers of an unknown subscription")
        check_equal(e.error, "wamp.error.no_such_subscription", "error uri")
        await sub.unsubscribe()
        await wait_until(lambda: len([e for e in events if mine(e)]) >= 4, 3, "no on_unsubscribe and on_delete")
        check_equal([e for e in events if mine(e)][2:],
                    [("on_unsubscribe", [b.session_id, sub.id]), ("on_delete", [b.session_id, sub.id])],
                    "on_unsubscribe then on_delete")

    await r.check("subscription-meta", subscription_meta)

    async def testament_loss():
        a, _, _ = need()
        topic = uri("testament.loss")
        got, fn = inbox()
        await a.subscribe(fn, topic, options=details_opts())
        v = await open_session("realm1", "tcp")
        vid = v.session.session_id
        res = await v.session.call("wamp.session.add_testament", topic, ["gone", vid], {"how": "abort"})
        check_equal(res, None, "add_testament result")
        await asyncio.sleep(0.05)
        check_equal(got, [], "events before the connection was lost")
        v.protocol.transport.abort()  # the TCP connection just goes away, no GOODBYE
        await wait_until(lambda: len(got) >= 1, 3, "no testament event")
        check_equal((got[0][0], got[0][1]), (["gone", vid], {"how": "abort"}), "testament event")

    await r.check("testament-on-connection-loss", testament_loss)

    async def testament_flush():
        a, _, _ = need()
        topic = uri("testament.flushed")
        got, fn = inbox()
        await a.subscribe(fn, topic, options=details_opts())
        v = await open_session("realm1")
        await v.session.call("wamp.session.add_testament", topic, ["flushed"], {})
        await v.session.call("wamp.session.flush_testaments")
        await v.session.call("wamp.session.add_testament", topic, ["kept"], {})
        await v.leave()
        await wait_until(lambda: len(got) >= 1, 3, "no testament event")
        await a.publish(topic, "marker", options=PublishOptions(acknowledge=True, exclude_me=False))
        await wait_until(lambda: any(g[0] == ["marker"] for g in got), 3, "no marker event")
        check_equal([g[0] for g in got], [["kept"], ["marker"]], "events: the flushed testament must not be published")

    await r.check("testament-flush", testament_flush)

    async def testament_scopes():
        # Without session resumption, "detached" testaments come before
        # "destroyed" ones, each bucket in the order added.
        a, _, _ = need()
        topic = uri("testament.scopes")
        got, fn = inbox()
        await a.subscribe(fn, topic, options=details_opts())
        v = await open_session("realm1", "tcp")
        await v.session.call("wamp.session.add_testament", topic, ["destroyed-1"], {})
        await v.session.call("wamp.session.add_testament", topic, ["detached-1"], {}, scope="detached")
        await v.session.call("wamp.session.add_testament", topic, ["destroyed-2"], {}, scope="destroyed")
        await v.session.call("wamp.session.add_testament", topic, ["detached-2"], {}, scope="detached")
        await v.leave()
        await wait_until(lambda: len(got) >= 4, 3, "no four testament events")
        check_equal([g[0][0] for g in got], ["detached-1", "detached-2", "destroyed-1", "destroyed-2"], "order of the testaments")

    await r.check("testament-scopes-order", testament_scopes)

    for c in list(conns.values()) + extra + list(meta.values()):
        c.close()
    return r.finish()


if __name__ == "__main__":
    setup_logging()
    sys.exit(asyncio.run(main()))
