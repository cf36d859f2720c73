// autobahn-js (Node) against wampgate over one transport/serializer.
//
//   node autobahn-suite.mjs --name NAME --ws URL --serializer json|msgpack|cbor
//   node autobahn-suite.mjs --name NAME --rawsocket HOST:PORT
//   node autobahn-suite.mjs --name NAME --unix PATH
//
// Two sessions share the transport kind: A is caller and publisher, B is
// callee and subscriber. Every case has its own deadline.

import { parseArgs } from 'node:util';
import {
  autobahn, Reporter, Deferred, assert, assertEqual, expectReject, connectAutobahn,
  closeQuietly, describe, sleep, show,
} from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    name: { type: 'string' },
    ws: { type: 'string' },
    serializer: { type: 'string', default: 'json' },
    rawsocket: { type: 'string' },
    unix: { type: 'string' },
    realm: { type: 'string', default: 'realm1' },
  },
});

let transport;
let wantProtocol;
if (opt.ws) {
  const sers = {
    json: () => new autobahn.serializer.JSONSerializer(),
    msgpack: () => new autobahn.serializer.MsgpackSerializer(),
    cbor: () => new autobahn.serializer.CBORSerializer(),
  };
  if (!sers[opt.serializer]) {
    throw new Error(`unknown serializer ${opt.serializer}`);
  }
  // autobahn-js offers one subprotocol per serializer in the list.
  transport = { type: 'websocket', url: opt.ws, serializers: [sers[opt.serializer]()] };
  wantProtocol = `wamp.2.${opt.serializer}`;
} else if (opt.rawsocket) {
  const i = opt.rawsocket.lastIndexOf(':');
  transport = { type: 'rawsocket', host: opt.rawsocket.slice(0, i), port: Number(opt.rawsocket.slice(i + 1)) };
  wantProtocol = 'wamp.2.json'; // the Node RawSocket transport speaks JSON only
} else if (opt.unix) {
  transport = { type: 'rawsocket', path: opt.unix };
  wantProtocol = 'wamp.2.json';
} else {
  throw new Error('one of --ws, --rawsocket, --unix is required');
}

const name = opt.name;
const uri = (s) => `interop.abjs.${name.replace(/[^a-z0-9_]/g, '_')}.${s}`;

const r = new Reporter(`autobahn-js/${name}`, [
  'join', 'call-args-kwargs', 'pubsub-acknowledge', 'call-error-args-kwargs',
  'no-such-procedure', 'progressive-results', 'call-timeout', 'leave',
]);

let A; // caller / publisher
let B; // callee / subscriber
const need = () => assert(A && B, 'sessions did not join');

await r.check('join', async () => {
  // Fresh copies: autobahn-js fills in defaults on the options object.
  A = await connectAutobahn({ ...transport }, opt.realm);
  B = await connectAutobahn({ ...transport }, opt.realm);
  for (const [who, c] of [['A', A], ['B', B]]) {
    assert(Number.isSafeInteger(c.session.id) && c.session.id > 0, `${who}: bad session id ${show(c.session.id)}`);
    assertEqual(c.conn.transport.info.protocol, wantProtocol, `${who}: negotiated protocol`);
    const roles = c.details.roles || {};
    assert(roles.broker && roles.dealer, `${who}: WELCOME roles lack broker/dealer: ${show(roles)}`);
  }
  assert(A.session.id !== B.session.id, 'both sessions got the same id');
}, 8000);

await r.check('call-args-kwargs', async () => {
  need();
  let seen;
  await B.session.register(uri('echo'), (args, kwargs, details) => {
    seen = { args, kwargs, procedure: details.procedure };
    return new autobahn.Result([...args].reverse(), { ...kwargs, echoed: true });
  });
  const args = [1, 'two', { three: 3 }, [4, [5]], true, null, -7, 2.5];
  const kwargs = { a: 1, b: 'x', nested: { c: [1, 2], d: { e: 'f' } }, empty: {} };
  const res = await A.session.call(uri('echo'), args, kwargs);
  assert(res instanceof autobahn.Result, `expected a Result, got ${show(res)}`);
  assertEqual(seen.args, args, 'callee args');
  assertEqual(seen.kwargs, kwargs, 'callee kwargs');
  assertEqual(res.args, [...args].reverse(), 'result args');
  assertEqual(res.kwargs, { ...kwargs, echoed: true }, 'result kwargs');
});

await r.check('pubsub-acknowledge', async () => {
  need();
  const got = new Deferred();
  await B.session.subscribe(uri('topic'), (args, kwargs, details) => got.resolve({ args, kwargs, details }));
  const pub = await A.session.publish(uri('topic'), ['hello', 42], { k: [1, 2, 3] }, { acknowledge: true });
  assert(pub && Number.isSafeInteger(pub.id) && pub.id > 0, `PUBLISHED without a publication id: ${show(pub)}`);
  const ev = await got.promise;
  assertEqual(ev.args, ['hello', 42], 'event args');
  assertEqual(ev.kwargs, { k: [1, 2, 3] }, 'event kwargs');
  assertEqual(ev.details.publication, pub.id, 'EVENT publication id vs PUBLISHED id');
});

await r.check('call-error-args-kwargs', async () => {
  need();
  await B.session.register(uri('fail'), () => {
    throw new autobahn.Error('com.example.interop.failed', ['bad input', 7, { why: 'test' }], { code: 42, hint: ['a', 'b'] });
  });
  const e = await expectReject(A.session.call(uri('fail'), ['x']), 'call');
  assert(e instanceof autobahn.Error, `expected autobahn.Error, got ${describe(e)}`);
  assertEqual(e.error, 'com.example.interop.failed', 'error uri');
  assertEqual(e.args, ['bad input', 7, { why: 'test' }], 'error args');
  assertEqual(e.kwargs, { code: 42, hint: ['a', 'b'] }, 'error kwargs');
});

await r.check('no-such-procedure', async () => {
  need();
  const e = await expectReject(A.session.call(uri('missing'), [1]), 'call');
  assert(e instanceof autobahn.Error, `expected autobahn.Error, got ${describe(e)}`);
  assertEqual(e.error, 'wamp.error.no_such_procedure', 'error uri');
});

await r.check('progressive-results', async () => {
  need();
  let hadProgress;
  await B.session.register(uri('progress'), async (args, kwargs, details) => {
    hadProgress = typeof details.progress === 'function';
    if (!hadProgress) {
      throw new autobahn.Error('com.example.interop.no_receive_progress', ['INVOCATION.Details lacked receive_progress']);
    }
    for (let i = 1; i <= 3; i++) {
      details.progress([i], { step: i });
      await sleep(20);
    }
    return new autobahn.Result(['done'], { steps: 3 });
  });
  const progress = [];
  const call = A.session.call(uri('progress'), [], {}, { receive_progress: true });
  // autobahn-js reports progressive results through the when.js progress
  // callback (third argument of then).
  const res = await new Promise((resolve, reject) => {
    call.then(resolve, reject, (p) => progress.push(p));
  });
  assert(hadProgress, 'callee was not offered progressive results');
  assertEqual(progress.map((p) => (p instanceof autobahn.Result ? [p.args, p.kwargs] : p)),
    [[[1], { step: 1 }], [[2], { step: 2 }], [[3], { step: 3 }]], 'progressive results');
  assert(res instanceof autobahn.Result, `final result: ${show(res)}`);
  assertEqual([res.args, res.kwargs], [['done'], { steps: 3 }], 'final result');
});

await r.check('call-timeout', async () => {
  need();
  const yielded = new Deferred();
  await B.session.register(uri('slow'), async () => {
    await sleep(2000);
    setTimeout(yielded.resolve, 200); // the late YIELD has reached the router by then
    return 'too late';
  });
  const t0 = Date.now();
  const e = await expectReject(A.session.call(uri('slow'), [], {}, { timeout: 300 }), 'call with timeout 300 ms');
  const took = Date.now() - t0;
  assert(e instanceof autobahn.Error, `expected autobahn.Error, got ${describe(e)}`);
  assertEqual(e.error, 'wamp.error.timeout', 'error uri');
  // Well before the callee answers at 2000 ms; slack for a loaded machine.
  assert(took >= 250 && took < 1800, `timeout error after ${took} ms, want about 300 ms`);
  // The callee's late YIELD must be dropped quietly: both sessions stay
  // usable afterwards.
  await yielded.promise;
  assert(A.session.isOpen && B.session.isOpen, 'a session closed after the late YIELD');
  assertEqual(await A.session.call(uri('echo'), ['still', 'alive']), new autobahn.Result(['alive', 'still'], { echoed: true }), 'call after the timeout');
}, 8000);

await r.check('leave', async () => {
  need();
  for (const [who, c] of [['A', A], ['B', B]]) {
    c.conn.close(); // GOODBYE wamp.close.normal
    const { reason, details } = await c.closed;
    // Connection.onclose reports the router's GOODBYE reply as details.reason.
    assertEqual(details.reason, 'wamp.close.goodbye_and_out', `${who}: router GOODBYE reply reason`);
    assert(reason === 'closed' || reason === 'lost', `${who}: onclose reason ${reason}`);
  }
  A = B = null;
});

closeQuietly(A);
closeQuietly(B);
// autobahn-js may keep timers (auto-ping) alive; do not wait for them.
// stdout is a pipe or file here, which Node writes synchronously.
process.exit(r.finish());
