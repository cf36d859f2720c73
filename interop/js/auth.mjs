// Authentication through autobahn-js and wampy.js against the second router
// instance (realm "secure", no anonymous access; see interop/README.md).
//
//   node auth.mjs --ws URL --rawsocket HOST:PORT --seed HEX
//
// --seed is the 32-byte Ed25519 seed (hex) whose public key run.sh wrote
// into the config for svc-key.

import { parseArgs } from 'node:util';
import { Wampy } from 'wampy';
import * as wampyCra from 'wampy/wampcra.js';
import * as wampyCS from 'wampy/cryptosign.js';
import {
  autobahn, Reporter, JoinRefused, assert, assertEqual, expectReject, connectAutobahn, closeQuietly,
  describe, show,
} from './lib.mjs';
import { connectWampy, abortQuietly } from './wampy-lib.mjs';

const { values: opt } = parseArgs({
  options: { ws: { type: 'string' }, rawsocket: { type: 'string' }, seed: { type: 'string' } },
});

const REALM = 'secure';
const TICKET = 's3cret';
const CRA_SECRET = 'cra-secret';
const SALTED_SECRET = 'salt-secret';
const SALT = { salt: 'salt123', iterations: 1000, keylen: 32 };

const nacl = autobahn.nacl; // tweetnacl, autobahn-js's own dependency
const keyPair = nacl.sign.keyPair.fromSeed(Buffer.from(opt.seed, 'hex'));
const otherKey = nacl.sign.keyPair.fromSeed(nacl.randomBytes(32)); // not in the config
const hex = (b) => Buffer.from(b).toString('hex');

const ws = () => ({ type: 'websocket', url: opt.ws, serializers: [new autobahn.serializer.JSONSerializer()] });
const rs = () => {
  const i = opt.rawsocket.lastIndexOf(':');
  return { type: 'rawsocket', host: opt.rawsocket.slice(0, i), port: Number(opt.rawsocket.slice(i + 1)) };
};

const r = new Reporter('auth', [
  'autobahn-js/ticket', 'autobahn-js/wampcra', 'autobahn-js/wampcra-challenge-contents', 'autobahn-js/wampcra-salted',
  'autobahn-js/cryptosign', 'autobahn-js/cryptosign-without-authid', 'autobahn-js/rawsocket-wampcra',
  'autobahn-js/ticket-wrong', 'autobahn-js/wampcra-wrong-secret', 'autobahn-js/wampcra-salted-wrong-secret',
  'autobahn-js/cryptosign-unknown-key', 'autobahn-js/unknown-authid', 'autobahn-js/anonymous-refused',
  'autobahn-js/denied-action',
  'wampy/ticket', 'wampy/wampcra', 'wampy/wampcra-salted', 'wampy/cryptosign',
  'wampy/ticket-wrong', 'wampy/wampcra-wrong-secret', 'wampy/anonymous-refused', 'wampy/denied-action',
]);

const open = [];

// join connects with autobahn-js; answer(method, extra) computes the
// signature. Every CHALLENGE is kept in challenges.
async function join(authid, authmethods, answer, { transport = ws(), authextra } = {}) {
  const challenges = [];
  const c = await connectAutobahn(transport, REALM, 5000, {
    authid,
    authmethods,
    authextra,
    onchallenge: (session, method, extra) => {
      challenges.push({ method, extra });
      return answer(method, extra);
    },
  });
  open.push(c);
  c.challenges = challenges;
  return c;
}

function checkWelcome(c, authid, authmethod) {
  assertEqual([c.details.authid, c.details.authrole, c.details.authmethod], [authid, 'backend', authmethod],
    'WELCOME authid, authrole, authmethod');
  assert(Number.isSafeInteger(c.session.id) && c.session.id > 0, `bad session id ${show(c.session.id)}`);
}

// The router slows down a host that keeps failing to authenticate (the
// answer to its next attempt waits 250 ms, doubling up to 5 s) and forgets
// the failures on a success. forgive logs in once after each refusal, so
// every case starts with a clean slate and stays fast.
async function forgive() {
  const c = await connectAutobahn(ws(), REALM, 8000, {
    authid: 'svc-ticket', authmethods: ['ticket'], onchallenge: () => TICKET,
  });
  closeQuietly(c);
}

async function refused(p, want) {
  const e = await expectReject(p, 'join');
  await forgive();
  assert(e instanceof JoinRefused, `expected the join to be refused, got ${describe(e)}`);
  assertEqual(e.reason, want, 'ABORT reason');
}

const craSign = (secret) => (method, extra) => {
  assertEqual(method, 'wampcra', 'CHALLENGE method');
  return autobahn.auth_cra.sign(secret, extra.challenge);
};
const saltedSign = (secret) => (method, extra) => {
  assertEqual(method, 'wampcra', 'CHALLENGE method');
  const key = autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen);
  return autobahn.auth_cra.sign(key, extra.challenge);
};
const csSign = (kp) => (method, extra) => {
  assertEqual(method, 'cryptosign', 'CHALLENGE method');
  return autobahn.auth_cryptosign.sign_challenge(kp, extra);
};

let CRA; // the wampcra session, for the challenge contents case

await r.check('autobahn-js/ticket', async () => {
  const c = await join('svc-ticket', ['ticket'], (method) => {
    assertEqual(method, 'ticket', 'CHALLENGE method');
    return TICKET;
  });
  checkWelcome(c, 'svc-ticket', 'ticket');
  assertEqual(c.challenges.length, 1, 'number of CHALLENGEs');
});

await r.check('autobahn-js/wampcra', async () => {
  CRA = await join('svc-cra', ['wampcra'], craSign(CRA_SECRET));
  checkWelcome(CRA, 'svc-cra', 'wampcra');
  assert(!('salt' in CRA.challenges[0].extra), `unsalted user got a salt: ${show(CRA.challenges[0].extra)}`);
});

await r.check('autobahn-js/wampcra-challenge-contents', () => {
  assert(CRA, 'the wampcra session did not join');
  const text = CRA.challenges[0].extra.challenge;
  assert(typeof text === 'string', `challenge is not a string: ${show(text)}`);
  const c = JSON.parse(text);
  assertEqual([c.authid, c.authrole, c.authmethod, c.session], ['svc-cra', 'backend', 'wampcra', CRA.session.id],
    'challenge authid, authrole, authmethod, session (= the WELCOME session ID)');
  assert(typeof c.nonce === 'string' && c.nonce.length >= 16, `challenge nonce ${show(c.nonce)}`);
  assert(typeof c.timestamp === 'string' && !Number.isNaN(Date.parse(c.timestamp)), `challenge timestamp ${show(c.timestamp)}`);
});

await r.check('autobahn-js/wampcra-salted', async () => {
  const c = await join('svc-salted', ['wampcra'], saltedSign(SALTED_SECRET));
  checkWelcome(c, 'svc-salted', 'wampcra');
  const x = c.challenges[0].extra;
  assertEqual({ salt: x.salt, iterations: x.iterations, keylen: x.keylen }, SALT, 'CHALLENGE salt, iterations, keylen');
});

await r.check('autobahn-js/cryptosign', async () => {
  const c = await join('svc-key', ['cryptosign'], csSign(keyPair), { authextra: { pubkey: hex(keyPair.publicKey) } });
  checkWelcome(c, 'svc-key', 'cryptosign');
  const x = c.challenges[0].extra;
  assert(typeof x.challenge === 'string' && /^[0-9a-f]{64}$/.test(x.challenge), `CHALLENGE challenge ${show(x.challenge)}`);
});

await r.check('autobahn-js/cryptosign-without-authid', async () => {
  // The way autobahn-js's own cryptosign helper (auth_cryptosign.
  // create_connection) connects: no authid, the router finds the user by
  // the public key, with autobahn-js's null authextra fields.
  const authextra = { pubkey: hex(keyPair.publicKey), trustroot: null, challenge: null, channel_binding: null };
  const c = await join(undefined, ['cryptosign'], csSign(keyPair), { authextra });
  checkWelcome(c, 'svc-key', 'cryptosign');
});

await r.check('autobahn-js/rawsocket-wampcra', async () => {
  const c = await join('svc-cra', ['wampcra'], craSign(CRA_SECRET), { transport: rs() });
  checkWelcome(c, 'svc-cra', 'wampcra');
});

await r.check('autobahn-js/ticket-wrong', () =>
  refused(join('svc-ticket', ['ticket'], () => 'wrong'), 'wamp.error.authentication_failed'));
await r.check('autobahn-js/wampcra-wrong-secret', () =>
  refused(join('svc-cra', ['wampcra'], craSign('not-the-secret')), 'wamp.error.authentication_failed'));
await r.check('autobahn-js/wampcra-salted-wrong-secret', () =>
  // The right secret, but without the salt: the signature is wrong.
  refused(join('svc-salted', ['wampcra'], craSign(SALTED_SECRET)), 'wamp.error.authentication_failed'));
await r.check('autobahn-js/cryptosign-unknown-key', () =>
  refused(join('svc-key', ['cryptosign'], csSign(otherKey), { authextra: { pubkey: hex(otherKey.publicKey) } }),
    'wamp.error.authentication_failed'));
await r.check('autobahn-js/unknown-authid', () =>
  refused(join('interop-nobody', ['ticket'], () => TICKET), 'wamp.error.authentication_failed'));
await r.check('autobahn-js/anonymous-refused', async () => {
  await refused(connectAutobahn(ws(), REALM), 'wamp.error.no_auth_method');
  await refused(join(undefined, ['anonymous'], () => 'x'), 'wamp.error.no_auth_method');
}, 8000);

await r.check('autobahn-js/denied-action', async () => {
  // Role backend: everything allowed except call and register under
  // "admin." (deny wins).
  const callee = await join('svc-cra', ['wampcra'], craSign(CRA_SECRET));
  const c = await join('svc-ticket', ['ticket'], () => TICKET);
  await callee.session.register('interop.auth.echo', (args) => args[0]);
  let e = await expectReject(c.session.call('admin.reset'), 'call to admin.reset');
  assertEqual(e.error, 'wamp.error.not_authorized', 'error uri (call admin.reset)');
  e = await expectReject(c.session.register('admin.reset', () => 1), 'register admin.reset');
  assertEqual(e.error, 'wamp.error.not_authorized', 'error uri (register admin.reset)');
  assert(c.session.isOpen, 'the session closed after the denied action');
  assertEqual(await c.session.call('interop.auth.echo', ['still usable']), 'still usable', 'call after the denied ones');
  // Only call and register are denied under admin.: publish is not.
  const pub = await c.session.publish('admin.events', ['ok'], {}, { acknowledge: true });
  assert(pub && pub.id > 0, `PUBLISHED to admin.events: ${show(pub)}`);
});

// ---- wampy

async function wjoin(authid, authmethods, onChallenge, authextra) {
  const c = await connectWampy(opt.ws, REALM, { authid, authmethods, onChallenge, authextra });
  open.push(c);
  return c;
}

function checkWampyWelcome(c, authid, authmethod) {
  assertEqual([c.welcome.authid, c.welcome.authrole, c.welcome.authmethod], [authid, 'backend', authmethod],
    'WELCOME authid, authrole, authmethod');
}

async function wrefused(p, want) {
  const e = await expectReject(p, 'wampy connect');
  await forgive();
  assertEqual(e.errorUri, want, `ABORT reason (${describe(e)})`);
}

await r.check('wampy/ticket', async () => {
  checkWampyWelcome(await wjoin('svc-ticket', ['ticket'], () => TICKET), 'svc-ticket', 'ticket');
});
await r.check('wampy/wampcra', async () => {
  // wampy's own helper: it signs with the secret, or with the derived key
  // when the CHALLENGE carries a salt.
  checkWampyWelcome(await wjoin('svc-cra', ['wampcra'], wampyCra.sign(CRA_SECRET)), 'svc-cra', 'wampcra');
});
await r.check('wampy/wampcra-salted', async () => {
  checkWampyWelcome(await wjoin('svc-salted', ['wampcra'], wampyCra.sign(SALTED_SECRET)), 'svc-salted', 'wampcra');
});
await r.check('wampy/cryptosign', async () => {
  const c = await wjoin('svc-key', ['cryptosign'], wampyCS.sign(opt.seed), { pubkey: hex(keyPair.publicKey) });
  checkWampyWelcome(c, 'svc-key', 'cryptosign');
});
await r.check('wampy/ticket-wrong', () =>
  wrefused(wjoin('svc-ticket', ['ticket'], () => 'wrong'), 'wamp.error.authentication_failed'));
await r.check('wampy/wampcra-wrong-secret', () =>
  wrefused(wjoin('svc-cra', ['wampcra'], wampyCra.sign('not-the-secret')), 'wamp.error.authentication_failed'));
await r.check('wampy/anonymous-refused', () =>
  // Without an authid wampy sends no authmethods: an anonymous HELLO.
  wrefused(connectWampy(opt.ws, REALM), 'wamp.error.no_auth_method'));

await r.check('wampy/denied-action', async () => {
  const callee = await wjoin('svc-cra', ['wampcra'], wampyCra.sign(CRA_SECRET));
  const c = await wjoin('svc-ticket', ['ticket'], () => TICKET);
  await callee.w.register('interop.auth.wampy_echo', ({ argsList }) => ({ argsList }));
  let e = await expectReject(c.w.call('admin.reset'), 'call to admin.reset');
  assertEqual(e.errorUri, 'wamp.error.not_authorized', `error uri (${describe(e)})`);
  e = await expectReject(c.w.register('admin.wampy', () => ({})), 'register admin.wampy');
  assertEqual(e.errorUri, 'wamp.error.not_authorized', `error uri (${describe(e)})`);
  assertEqual((await c.w.call('interop.auth.wampy_echo', ['still usable'])).argsList, ['still usable'],
    'call after the denied ones');
});

for (const c of open) {
  if (c.w instanceof Wampy) {
    abortQuietly(c);
  } else {
    closeQuietly(c);
  }
}
process.exit(r.finish());
