"""Authentication through autobahn-python (asyncio) against the second
router instance (realm "secure", no anonymous access; see
interop/README.md).

    /usr/bin/python3 auth.py --ws URL --tcp HOST:PORT --seed HEX

--seed is the 32-byte Ed25519 seed (hex) whose public key run.sh wrote into
the config for svc-key. Signatures come from autobahn-python's own helpers:
autobahn.wamp.auth.compute_wcs / derive_key for WAMP-CRA and
autobahn.wamp.cryptosign.CryptosignKey for WAMP-Cryptosign.
"""

import argparse
import asyncio
import binascii
import sys

import nacl.signing

from common import CheckFailed, Client, JoinRefused, Reporter, check, check_equal, connect, expect_error, setup_logging
from autobahn.wamp import auth
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.wamp.types import PublishOptions

REALM = "secure"
TICKET = "s3cret"
CRA_SECRET = "cra-secret"
SALTED_SECRET = "salt-secret"
SALT = {"salt": "salt123", "iterations": 1000, "keylen": 32}


class AuthClient(Client):
    """Joins with the authentication given in config.extra:
    authmethods, authid, authextra and answer(challenge) -> signature (or a
    future of one). Every CHALLENGE is kept in challenges."""

    def __init__(self, config, loop):
        super().__init__(config, loop)
        self.challenges = []

    def onConnect(self):
        a = self.config.extra
        self.join(self.config.realm, authmethods=a.get("authmethods"), authid=a.get("authid"),
                  authextra=a.get("authextra"))

    def onChallenge(self, challenge):
        self.challenges.append(challenge)
        return self.config.extra["answer"](challenge)


def ticket(value):
    def answer(ch):
        if ch.method != "ticket":
            raise CheckFailed(f"CHALLENGE method {ch.method}")
        return value
    return answer


def wampcra(secret, use_salt=True):
    def answer(ch):
        if ch.method != "wampcra":
            raise CheckFailed(f"CHALLENGE method {ch.method}")
        key = secret.encode("utf8")
        if use_salt and "salt" in ch.extra:
            key = auth.derive_key(secret, ch.extra["salt"], ch.extra["iterations"], ch.extra["keylen"])
        return auth.compute_wcs(key, ch.extra["challenge"]).decode("ascii")
    return answer


def cryptosign(key):
    def answer(ch):
        if ch.method != "cryptosign":
            raise CheckFailed(f"CHALLENGE method {ch.method}")
        return key.sign_challenge(ch)  # a future of the hex signature
    return answer


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ws", required=True)
    ap.add_argument("--tcp", required=True)
    ap.add_argument("--seed", required=True)
    opt = ap.parse_args()

    key = CryptosignKey.from_bytes(binascii.a2b_hex(opt.seed))
    other = CryptosignKey(nacl.signing.SigningKey.generate(), can_sign=True)  # not in the config

    r = Reporter("auth/autobahn-python", [
        "ticket", "wampcra", "wampcra-salted", "cryptosign",
        "rawsocket-ticket", "rawsocket-wampcra-salted", "rawsocket-cryptosign",
        "ticket-wrong", "wampcra-wrong-secret", "wampcra-salted-wrong-secret", "cryptosign-unknown-key",
        "unknown-authid", "anonymous-refused", "denied-action",
    ])
    opened = []

    async def join(authid, methods, answer, kind="ws", authextra=None):
        target = opt.ws if kind == "ws" else opt.tcp
        c = await connect(kind, target, REALM, cls=AuthClient,
                          extra={"authid": authid, "authmethods": methods, "answer": answer, "authextra": authextra})
        opened.append(c)
        return c

    def check_welcome(c, authid, authmethod):
        d = c.details
        check_equal((d.authid, d.authrole, d.authmethod, d.realm), (authid, "backend", authmethod, REALM),
                    "WELCOME authid, authrole, authmethod, realm")
        check_equal(len(c.session.challenges), 1, "number of CHALLENGEs")

    async def forgive():
        # The router slows down a host that keeps failing to authenticate
        # (its next attempt waits 250 ms, doubling up to 5 s) and forgets
        # the failures on a success: log in once after each refusal, so
        # every case starts with a clean slate and stays fast.
        c = await connect("ws", opt.ws, REALM, cls=AuthClient, timeout=8.0,
                          extra={"authid": "svc-ticket", "authmethods": ["ticket"], "answer": ticket(TICKET)})
        c.close()

    async def refused(coro, want):
        try:
            c = await coro
        except JoinRefused as e:
            await forgive()
            check_equal(e.reason, want, "ABORT reason")
        else:
            c.close()
            raise CheckFailed(f"joined as {c.details.authid}/{c.details.authrole}, want ABORT {want}")

    async def ok(authid, methods, answer, authmethod, kind="ws", authextra=None):
        c = await join(authid, methods, answer, kind, authextra)
        check_welcome(c, authid, authmethod)
        return c

    await r.check("ticket", lambda: ok("svc-ticket", ["ticket"], ticket(TICKET), "ticket"))
    await r.check("wampcra", lambda: ok("svc-cra", ["wampcra"], wampcra(CRA_SECRET), "wampcra"))

    async def salted(kind):
        c = await ok("svc-salted", ["wampcra"], wampcra(SALTED_SECRET), "wampcra", kind)
        x = c.session.challenges[0].extra
        check_equal({k: x.get(k) for k in SALT}, SALT, "CHALLENGE salt, iterations, keylen")

    await r.check("wampcra-salted", lambda: salted("ws"))

    async def cs(kind):
        c = await ok("svc-key", ["cryptosign"], cryptosign(key), "cryptosign", kind, {"pubkey": key.public_key()})
        ch = c.session.challenges[0].extra.get("challenge")
        check(isinstance(ch, str) and len(ch) == 64, f"CHALLENGE challenge {ch!r}")

    await r.check("cryptosign", lambda: cs("ws"))
    await r.check("rawsocket-ticket", lambda: ok("svc-ticket", ["ticket"], ticket(TICKET), "ticket", "tcp"))
    await r.check("rawsocket-wampcra-salted", lambda: salted("tcp"))
    await r.check("rawsocket-cryptosign", lambda: cs("tcp"))

    failed = "wamp.error.authentication_failed"
    await r.check("ticket-wrong", lambda: refused(join("svc-ticket", ["ticket"], ticket("wrong")), failed))
    await r.check("wampcra-wrong-secret", lambda: refused(join("svc-cra", ["wampcra"], wampcra("not-the-secret")), failed))
    # The right secret but without the salt: the signature is wrong.
    await r.check("wampcra-salted-wrong-secret",
                  lambda: refused(join("svc-salted", ["wampcra"], wampcra(SALTED_SECRET, use_salt=False)), failed))
    await r.check("cryptosign-unknown-key", lambda: refused(
        join("svc-key", ["cryptosign"], cryptosign(other), authextra={"pubkey": other.public_key()}), failed))
    await r.check("unknown-authid", lambda: refused(join("interop-nobody", ["wampcra"], wampcra(CRA_SECRET), "tcp"), failed))

    async def anonymous():
        await refused(connect("ws", opt.ws, REALM), "wamp.error.no_auth_method")
        await refused(join(None, ["anonymous"], ticket("x"), "tcp"), "wamp.error.no_auth_method")

    await r.check("anonymous-refused", anonymous)

    async def denied():
        callee = await join("svc-key", ["cryptosign"], cryptosign(key), "tcp", {"pubkey": key.public_key()})
        c = await join("svc-salted", ["wampcra"], wampcra(SALTED_SECRET))
        await callee.session.register(lambda x: x, "interop.auth.py_echo")
        e = await expect_error(c.session.call("admin.reset"), "call to admin.reset")
        check_equal(e.error, "wamp.error.not_authorized", "error uri (call admin.reset)")
        e = await expect_error(c.session.register(lambda: 1, "admin.py"), "register admin.py")
        check_equal(e.error, "wamp.error.not_authorized", "error uri (register admin.py)")
        check(not c.session.left.done(), "the session closed after the denied action")
        check_equal(await c.session.call("interop.auth.py_echo", "still usable"), "still usable", "call after the denied ones")
        pub = await c.session.publish("admin.events", "ok", options=PublishOptions(acknowledge=True))
        check(pub is not None and pub.id > 0, f"PUBLISHED to admin.events: {pub!r}")

    await r.check("denied-action", denied)

    for c in opened:
        c.close()
    return r.finish()


if __name__ == "__main__":
    setup_logging()
    sys.exit(asyncio.run(main()))
