"""Shared helpers for the autobahn-python interop checks.

Output protocol, shared with the Node checks and read by interop/run.sh
(stdout only; diagnostics go to stderr):

    PLAN name1 name2 ...   once, before any case runs
    PASS name              a case passed
    FAIL name: reason      a case failed
    SKIP name: reason      the client library cannot do what the case needs

Every planned case that printed none of these is reported as failed by
run.sh. Run with Debian's /usr/bin/python3 (python3-autobahn).
"""

import asyncio
import sys
import time
import traceback

import txaio

txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp import message, serializer as wamp_serializer  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import ComponentConfig, TransportDetails  # noqa: E402

SERIALIZERS = {
    "json": wamp_serializer.JsonSerializer,
    "msgpack": wamp_serializer.MsgPackSerializer,
    "cbor": wamp_serializer.CBORSerializer,
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def one_line(s):
    return " ".join(str(s).split())


class Reporter:
    """Prints the plan, then one PASS/FAIL line per case."""

    def __init__(self, prefix, names):
        self.prefix = prefix
        self.names = [f"{prefix}/{n}" for n in names]
        self.done = set()
        self.failed = 0
        print("PLAN " + " ".join(self.names), flush=True)

    def passed(self, name):
        full = f"{self.prefix}/{name}"
        self.done.add(full)
        print(f"PASS {full}", flush=True)

    def fail(self, name, reason):
        full = f"{self.prefix}/{name}"
        self.done.add(full)
        self.failed += 1
        print(f"FAIL {full}: {one_line(reason)}", flush=True)

    def skip(self, name, reason):
        """Only for what the client library cannot do; reason says what."""
        full = f"{self.prefix}/{name}"
        self.done.add(full)
        print(f"SKIP {full}: {one_line(reason)}", flush=True)

    async def check(self, name, fn, timeout=5.0):
        """Runs the coroutine function fn with a deadline; fn fails by raising,
        and raises Skip for a client limitation."""
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(fn(), timeout)
        except asyncio.TimeoutError:
            self.fail(name, f"did not finish within {timeout:g} s")
            return False
        except Skip as e:
            self.skip(name, str(e))
            return False
        except Exception as e:  # noqa: BLE001 - any error fails the case
            log(traceback.format_exc())
            self.fail(name, describe(e))
            return False
        else:
            self.passed(name)
            return True
        finally:
            log(f"{self.prefix}/{name}: {(time.monotonic() - t0) * 1000:.0f} ms")

    def finish(self):
        for n in self.names:
            if n not in self.done:
                self.failed += 1
                print(f"FAIL {n}: not run", flush=True)
        return 0 if self.failed == 0 else 1


class CheckFailed(Exception):
    pass


class Skip(Exception):
    """Raised by a case the client library cannot run; the message says why."""


class JoinRefused(CheckFailed):
    """The router answered HELLO with ABORT (reason is the ABORT reason)."""

    def __init__(self, reason, message):
        super().__init__(f"join refused: {reason} {message}")
        self.reason = reason


def describe(e):
    if isinstance(e, ApplicationError):
        return f"WAMP error {e.error} args={e.args!r} kwargs={e.kwargs!r}"
    if isinstance(e, CheckFailed):
        return str(e)
    return f"{type(e).__name__}: {e}"


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def check_equal(got, want, what):
    # type() as well: True == 1 and 1.0 == 1 must not hide a changed type.
    if not _same(got, want):
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


async def expect_error(coro, what):
    """Awaits coro and returns the ApplicationError it raised."""
    try:
        res = await coro
    except ApplicationError as e:
        return e
    raise CheckFailed(f"{what}: expected an error, got result {res!r}")


async def wait_until(pred, timeout, what):
    """Polls pred until it is true or the deadline passes."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} within {timeout:g} s")
        await asyncio.sleep(0.01)


class Client(ApplicationSession):
    """An ApplicationSession that reports join/leave/disconnect through
    futures and keeps the ERROR messages it received."""

    def __init__(self, config, loop):
        super().__init__(config)
        self.joined = loop.create_future()
        self.left = loop.create_future()
        self.disconnected = loop.create_future()
        self.errors = []  # message.Error received, newest last
        self.received = []  # every WAMP message received, newest last

    def onMessage(self, msg):
        if isinstance(msg, message.Error):
            self.errors.append(msg)
            del self.errors[:-100]
        self.received.append(msg)
        del self.received[:-300]
        super().onMessage(msg)

    def onConnect(self):
        self.join(self.config.realm)

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        if not self.left.done():
            self.left.set_result(details)
        if not self.joined.done():
            self.joined.set_exception(JoinRefused(details.reason, details.message))
        self.disconnect()

    def onDisconnect(self):
        if not self.disconnected.done():
            self.disconnected.set_result(None)
        if not self.joined.done():
            self.joined.set_exception(CheckFailed("transport closed before join"))


if hasattr(WampRawSocketClientProtocol, "transport_details"):
    RawSocketClientProtocol = WampRawSocketClientProtocol
else:
    class RawSocketClientProtocol(WampRawSocketClientProtocol):
        """Works around a client bug, not a router one: the asyncio RawSocket
        client of autobahn-python 22.7.1 (Debian bookworm) lacks the
        transport_details property that the session reads on WELCOME, so
        every join fails with AttributeError (autobahn-python issue #1592,
        fixed in 22.8.1). The property is all that is added."""

        @property
        def transport_details(self):
            d = self._transport_details
            d.channel_framing = TransportDetails.CHANNEL_FRAMING_RAWSOCKET
            return d


class Conn:
    """A joined session plus the transport-level protocol object."""

    def __init__(self, session, protocol, details):
        self.session = session
        self.protocol = protocol
        self.details = details

    @property
    def serializer_id(self):
        return self.protocol._serializer.SERIALIZER_ID

    async def leave(self, timeout=3.0):
        """Sends GOODBYE and returns the CloseDetails of the router's reply,
        once the transport closed too."""
        self.session.leave()
        details = await asyncio.wait_for(asyncio.shield(self.session.left), timeout)
        await asyncio.wait_for(asyncio.shield(self.session.disconnected), timeout)
        return details

    def close(self):
        """Drops the transport if it is still open (cleanup only)."""
        t = self.protocol.transport
        if t is not None and not t.is_closing():
            t.close()


async def connect(kind, target, realm="realm1", serializer=None, timeout=5.0, cls=Client, extra=None):
    """Connects and joins.

    kind: "ws" (target ws://host:port/path), "tcp" (target host:port) or
    "unix" (target path). serializer: None for autobahn's default choice
    (WebSocket offers CBOR, MessagePack, JSON with batched variants;
    RawSocket uses CBOR), else "json", "msgpack" or "cbor". extra becomes
    the session's config.extra (cls may read it, e.g. for authentication).
    """
    loop = asyncio.get_running_loop()
    txaio.config.loop = loop
    holder = {}

    def make():
        s = cls(ComponentConfig(realm, extra or {}), loop)
        holder["session"] = s
        return s

    ser = SERIALIZERS[serializer]() if serializer else None
    if kind == "ws":
        factory = WampWebSocketClientFactory(make, url=target, serializers=[ser] if ser else None)
        factory.setProtocolOptions(openHandshakeTimeout=timeout, closeHandshakeTimeout=2.0, autoPingInterval=0)
        hostport = target.split("/")[2]
        host, port = hostport.rsplit(":", 1)
        conn = loop.create_connection(factory, host, int(port))
    elif kind == "tcp":
        factory = WampRawSocketClientFactory(make, serializer=ser)
        factory.protocol = RawSocketClientProtocol
        host, port = target.rsplit(":", 1)
        conn = loop.create_connection(factory, host, int(port))
    elif kind == "unix":
        factory = WampRawSocketClientFactory(make, serializer=ser)
        factory.protocol = RawSocketClientProtocol
        conn = loop.create_unix_connection(factory, target)
    else:
        raise ValueError(f"unknown transport kind {kind}")

    _, protocol = await asyncio.wait_for(conn, timeout)
    try:
        session = holder["session"] if "session" in holder else None
        if session is None:
            # The session is created when the transport opens (after the
            # WebSocket or RawSocket handshake).
            await wait_until(lambda: "session" in holder, timeout, "transport handshake")
            session = holder["session"]
        details = await asyncio.wait_for(asyncio.shield(session.joined), timeout)
    except BaseException:
        t = protocol.transport
        if t is not None:
            t.close()
        raise
    return Conn(session, protocol, details)


def setup_logging():
    # autobahn logs through txaio; keep it on stderr and quiet.
    txaio.start_logging(out=sys.stderr, level="warn")
