// wampy.js (Node, with the ws package) against wampgate over WebSocket.
//
//   node wampy-suite.mjs --name NAME --ws URL --serializer json|msgpack|cbor
//
// Two clients: A is caller and publisher, B is callee and subscriber.

import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Wampy } from 'wampy';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import { MsgpackSerializer } from 'wampy/MsgpackSerializer.js';
import { CborSerializer } from 'wampy/CborSerializer.js';
import { Reporter, Deferred, assert, assertEqual, expectReject, withTimeout, describe, log, show } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    name: { type: 'string' },
    ws: { type: 'string' },
    serializer: { type: 'string', default: 'json' },
    realm: { type: 'string', default: 'realm1' },
  },
});

const serializers = {
  json: () => new JsonSerializer(),
  msgpack: () => new MsgpackSerializer(),
  cbor: () => new CborSerializer(),
};
if (!serializers[opt.serializer]) {
  throw new Error(`unknown serializer ${opt.serializer}`);
}

// wampy's msgpack serializer uses msgpackr's defaults, which decode every
// uint64 (any ID above 2^32) as a BigInt. IDs stay within 2^53, so they are
// compared as numbers.
const num = (v) => (typeof v === 'bigint' && v <= 2n ** 53n ? Number(v) : v);

// wampy.subscribe without options sends {match: undefined, get_retained:
// undefined}. JSON drops undefined and cbor-x writes CBOR undefined, but
// msgpackr writes it as an ext type (d4 00 00), which is no WAMP value, so a
// router rightly refuses it. Spell the options out for msgpack.
const subscribeOptions = opt.serializer === 'msgpack' ? { match: 'exact', get_retained: false } : undefined;

const name = opt.name;
const uri = (s) => `interop.wampy.${name.replace(/[^a-z0-9_]/g, '_')}.${s}`;

const r = new Reporter(`wampy/${name}`, ['join', 'call-args-kwargs', 'pubsub', 'call-error-args', 'leave']);

// newClient connects one wampy client; closed resolves when its WebSocket
// closed.
async function newClient() {
  const closed = new Deferred();
  const w = new Wampy(opt.ws, {
    ws: WebSocket,
    realm: opt.realm,
    autoReconnect: false,
    serializer: serializers[opt.serializer](),
    onClose: () => closed.resolve(),
    onError: (e) => log('wampy onError:', describe(e)),
  });
  const welcome = await withTimeout(w.connect(), 5000, 'wampy connect');
  return { w, welcome, closed: closed.promise };
}

let A;
let B;
const need = () => assert(A && B, 'clients did not join');

await r.check('join', async () => {
  A = await newClient();
  B = await newClient();
  for (const [who, c] of [['A', A], ['B', B]]) {
    const id = num(c.w.getSessionId());
    assert(Number.isSafeInteger(id) && id > 0, `${who}: bad session id ${show(id)}`);
    // wampy falls back to JSON silently when the router picks another
    // subprotocol, so check what was negotiated.
    assertEqual(c.w._ws && c.w._ws.protocol, `wamp.2.${opt.serializer}`, `${who}: negotiated protocol`);
    const roles = c.welcome.roles || {};
    assert(roles.broker && roles.broker.features && roles.dealer && roles.dealer.features,
      `${who}: WELCOME roles lack broker/dealer features: ${show(roles)}`);
  }
}, 8000);

await r.check('call-args-kwargs', async () => {
  need();
  let seen;
  await B.w.register(uri('echo'), ({ argsList, argsDict }) => {
    seen = { argsList, argsDict };
    return { argsList: [...argsList].reverse(), argsDict: { ...argsDict, echoed: true } };
  });
  const argsList = [1, 'two', { three: 3 }, [4, [5]], true, -7];
  const argsDict = { a: 1, nested: { c: [1, 2] } };
  const res = await A.w.call(uri('echo'), { argsList, argsDict });
  assertEqual(seen, { argsList, argsDict }, 'callee payload');
  assertEqual(res.argsList, [...argsList].reverse(), 'result args');
  assertEqual(res.argsDict, { ...argsDict, echoed: true }, 'result kwargs');
});

await r.check('pubsub', async () => {
  need();
  const got = new Deferred();
  await B.w.subscribe(uri('topic'), (ev) => got.resolve(ev), subscribeOptions);
  // wampy always publishes with acknowledge=true.
  const pub = await A.w.publish(uri('topic'), { argsList: ['hello', 42], argsDict: { k: [1, 2, 3] } });
  const pubId = num(pub.publicationId);
  assert(Number.isSafeInteger(pubId) && pubId > 0, `PUBLISHED without an id: ${show(pub)}`);
  const ev = await got.promise;
  assertEqual(ev.argsList, ['hello', 42], 'event args');
  assertEqual(ev.argsDict, { k: [1, 2, 3] }, 'event kwargs');
});

await r.check('call-error-args', async () => {
  need();
  await B.w.register(uri('fail'), () => {
    // wampy turns a thrown {error, argsList, argsDict} into ERROR(INVOCATION).
    throw { error: 'com.example.interop.failed', argsList: ['bad input', 7], argsDict: { code: 42 } };
  });
  const e = await expectReject(A.w.call(uri('fail'), ['x']), 'call');
  assertEqual(e.errorUri, 'com.example.interop.failed', `error uri (${describe(e)})`);
  assertEqual(e.argsList, ['bad input', 7], 'error args');
  assertEqual(e.argsDict, { code: 42 }, 'error kwargs');
});

await r.check('leave', async () => {
  need();
  for (const [who, c] of [['A', A], ['B', B]]) {
    // disconnect sends GOODBYE and resolves once the router answered and
    // the WebSocket closed.
    await withTimeout(c.w.disconnect(), 3000, `${who}: disconnect`);
    await withTimeout(c.closed, 3000, `${who}: WebSocket close`);
    assert(!c.w.getSessionId(), `${who}: still has a session id after leave`);
  }
  A = B = null;
});

for (const c of [A, B]) {
  try {
    c?.w.abort();
  } catch {
    // the WebSocket is already gone
  }
}
process.exit(r.finish());
