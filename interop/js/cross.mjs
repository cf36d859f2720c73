// Node clients (JSON over WebSocket) against the Python peer (peer.py,
// autobahn-python with CBOR over RawSocket TCP), through wampgate.
//
//   node cross.mjs --ws URL
//
// peer.py must be running and registered (run.sh waits for its READY).

import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Wampy } from 'wampy';
import {
  autobahn, Reporter, Deferred, assert, assertEqual, expectReject, connectAutobahn, closeQuietly,
  describe, withTimeout, log, show, sleep,
} from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    ws: { type: 'string' },
    realm: { type: 'string', default: 'realm1' },
  },
});

// Must match BLOB in py/peer.py.
const BLOB = Buffer.concat([Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]), Buffer.from('wampgate')]);

// RecordingJSON is autobahn-js's JSON serializer that also keeps the raw
// text of what it received, so number formatting on the wire can be checked.
class RecordingJSON extends autobahn.serializer.JSONSerializer {
  constructor() {
    super();
    this.received = [];
  }

  unserialize(payload) {
    this.received.push(String(payload));
    if (this.received.length > 200) {
      this.received.shift();
    }
    return super.unserialize(payload);
  }
}

const r = new Reporter('cross/js', [
  'join', 'autobahn-js-calls-python', 'python-error-args-to-js', 'python-publish-to-js-subscribers',
  'python-bytes-to-js-json', 'two53-python-to-js-json',
  'autobahn-js-disclose-to-python-callee', 'wampy-disclose-to-python-callee',
  'autobahn-js-disclose-to-python-subscriber', 'wampy-disclose-to-python-subscriber',
  'python-progressive-to-autobahn-js', 'python-progressive-to-wampy', 'autobahn-js-progressive-to-python',
  'autobahn-js-cancel-kill-python-callee',
]);

const recorder = new RecordingJSON();
let AB; // autobahn-js session
let W; // wampy client
let WW; // wampy's WELCOME details
const need = () => assert(AB && W, 'clients did not join');

await r.check('join', async () => {
  AB = await connectAutobahn({ type: 'websocket', url: opt.ws, serializers: [recorder] }, opt.realm);
  assertEqual(AB.conn.transport.info.protocol, 'wamp.2.json', 'autobahn-js negotiated protocol');
  W = new Wampy(opt.ws, {
    ws: WebSocket,
    realm: opt.realm,
    autoReconnect: false,
    onError: (e) => log('wampy onError:', describe(e)),
  });
  WW = await withTimeout(W.connect(), 5000, 'wampy connect');
}, 8000);

await r.check('autobahn-js-calls-python', async () => {
  need();
  assertEqual(await AB.session.call('interop.py.add', [2, 40]), 42, 'interop.py.add(2, 40)');
  const args = [1, 'two', { three: [3, 3.5] }, true, null];
  const kwargs = { k: 'v', nested: { list: [1, 2] } };
  const res = await AB.session.call('interop.py.echo', args, kwargs);
  assert(res instanceof autobahn.Result, `expected a Result, got ${show(res)}`);
  assertEqual([res.args, res.kwargs], [args, kwargs], 'echo from the Python callee');
});

await r.check('python-error-args-to-js', async () => {
  need();
  const want = {
    error: 'com.example.interop.py_failure',
    args: ['from python', 3, { nested: [1, 'two'] }],
    kwargs: { code: 7, detail: { ok: false } },
  };
  const e = await expectReject(AB.session.call('interop.py.fail', []), 'autobahn-js call');
  assert(e instanceof autobahn.Error, `autobahn-js: expected autobahn.Error, got ${describe(e)}`);
  assertEqual({ error: e.error, args: e.args, kwargs: e.kwargs }, want, 'autobahn-js error');
  const we = await expectReject(W.call('interop.py.fail'), 'wampy call');
  assertEqual({ error: we.errorUri, args: we.argsList, kwargs: we.argsDict }, want, 'wampy error');
});

await r.check('python-publish-to-js-subscribers', async () => {
  need();
  const topic = 'interop.cross.from_python';
  const gotAB = new Deferred();
  const gotW = new Deferred();
  await AB.session.subscribe(topic, (args, kwargs) => gotAB.resolve({ args, kwargs }));
  await W.subscribe(topic, (ev) => gotW.resolve({ args: ev.argsList, kwargs: ev.argsDict }));
  // peer.py publishes from its CBOR RawSocket session and returns once the
  // router acknowledged the publication.
  const pubId = await AB.session.call('interop.py.publish', [topic, 'from python', 1, [2, 3]], { k: 'v', n: { m: 4 } });
  assert(Number.isSafeInteger(pubId) && pubId > 0, `publication id ${show(pubId)}`);
  const want = { args: ['from python', 1, [2, 3]], kwargs: { k: 'v', n: { m: 4 } } };
  assertEqual(await gotAB.promise, want, 'event at the autobahn-js subscriber');
  assertEqual(await gotW.promise, want, 'event at the wampy subscriber');
});

await r.check('python-bytes-to-js-json', async () => {
  need();
  const res = await AB.session.call('interop.py.blob');
  // autobahn-js does not apply the WAMP binary convention itself, so the
  // JSON client sees the "\u0000" + base64 string (a Buffer would be fine
  // too if it ever decoded it).
  if (Buffer.isBuffer(res) || res instanceof Uint8Array) {
    log('autobahn-js returned bytes as a Buffer');
    assertEqual(Buffer.from(res).toString('hex'), BLOB.toString('hex'), 'bytes');
    return;
  }
  assert(typeof res === 'string', `expected a string or Buffer, got ${show(res)}`);
  assert(res.startsWith('\u0000'), `string does not start with U+0000: ${show(res)}`);
  assertEqual(res, '\u0000' + BLOB.toString('base64'), 'binary convention string');
});

await r.check('two53-python-to-js-json', async () => {
  need();
  const before = recorder.received.length;
  const res = await AB.session.call('interop.py.two53');
  assert(res === 9007199254740992, `got ${show(res)}, want 9007199254740992`);
  // The number must be written as a plain JSON integer, not as a float or
  // with an exponent; JSON.parse would hide that.
  const texts = recorder.received.slice(before).filter((t) => JSON.parse(t)[0] === 50);
  assert(texts.length === 1, `expected one RESULT, saw ${texts.length}`);
  assert(/\[9007199254740992\]/.test(texts[0]), `RESULT on the wire: ${texts[0]}`);
});

await r.check('autobahn-js-disclose-to-python-callee', async () => {
  need();
  const res = await AB.session.call('interop.py.whoami', [], {}, { disclose_me: true });
  // CallDetails.procedure: autobahn-python fills in the registered URI
  // when INVOCATION does not name one.
  assertEqual(res && res.args, [AB.session.id, AB.details.authid, AB.details.authrole, 'interop.py.whoami'],
    'CallDetails (caller, caller_authid, caller_authrole, procedure) at the Python callee');
  const plain = await AB.session.call('interop.py.whoami');
  assertEqual(plain && plain.args, [null, null, null, 'interop.py.whoami'], 'CallDetails without disclose_me');
});

await r.check('wampy-disclose-to-python-callee', async () => {
  need();
  const res = await W.call('interop.py.whoami', null, { disclose_me: true });
  assertEqual(res.argsList, [W.getSessionId(), WW.authid, WW.authrole, 'interop.py.whoami'],
    'CallDetails (caller, caller_authid, caller_authrole, procedure) at the Python callee');
});

await r.check('autobahn-js-disclose-to-python-subscriber', async () => {
  need();
  // peer.py subscribes interop.py.watch with match=prefix.
  await AB.session.publish('interop.py.watch.ab', ['ab-disclosed'], {}, { acknowledge: true, disclose_me: true });
  await AB.session.publish('interop.py.watch.ab', ['ab-plain'], {}, { acknowledge: true });
  const d = await AB.session.call('interop.py.seen_event', ['ab-disclosed']);
  assertEqual(d && d.args, [AB.session.id, AB.details.authid, AB.details.authrole, 'interop.py.watch.ab'],
    'EventDetails (publisher, publisher_authid, publisher_authrole, topic) at the Python subscriber');
  const p = await AB.session.call('interop.py.seen_event', ['ab-plain']);
  assertEqual(p && p.args, [null, null, null, 'interop.py.watch.ab'], 'EventDetails without disclose_me');
});

await r.check('wampy-disclose-to-python-subscriber', async () => {
  need();
  await W.publish('interop.py.watch.w', ['w-disclosed'], { disclose_me: true });
  const d = await W.call('interop.py.seen_event', ['w-disclosed']);
  assertEqual(d.argsList, [W.getSessionId(), WW.authid, WW.authrole, 'interop.py.watch.w'],
    'EventDetails (publisher, publisher_authid, publisher_authrole, topic) at the Python subscriber');
});

await r.check('python-progressive-to-autobahn-js', async () => {
  need();
  const progress = [];
  const res = await new Promise((resolve, reject) => {
    AB.session.call('interop.py.progress', [3], {}, { receive_progress: true }).then(resolve, reject, (p) => progress.push(p));
  });
  assertEqual(progress.map((p) => (p instanceof autobahn.Result ? [p.args, p.kwargs] : p)),
    [[[1], { step: 1 }], [[2], { step: 2 }], [[3], { step: 3 }]], 'progressive results from the Python callee');
  assert(res instanceof autobahn.Result, `final result: ${show(res)}`);
  assertEqual([res.args, res.kwargs], [['done'], { steps: 3 }], 'final result');
});

await r.check('python-progressive-to-wampy', async () => {
  need();
  const progress = [];
  const res = await W.call('interop.py.progress', [2], { progress_callback: (p) => progress.push([p.argsList, p.argsDict]) });
  assertEqual(progress, [[[1], { step: 1 }], [[2], { step: 2 }]], 'progressive results from the Python callee');
  assertEqual([res.argsList, res.argsDict], [['done'], { steps: 2 }], 'final result');
});

await r.check('autobahn-js-progressive-to-python', async () => {
  need();
  await AB.session.register('interop.js.progress', async (args, kwargs, details) => {
    assert(typeof details.progress === 'function', 'no receive_progress in INVOCATION');
    details.progress(['a'], { i: 1 });
    details.progress(['b'], { i: 2 });
    return new autobahn.Result(['end', args[0]], { n: 2 });
  });
  const res = await AB.session.call('interop.py.call_progressive', ['interop.js.progress', 'x']);
  assert(res instanceof autobahn.Result, `expected a Result, got ${show(res)}`);
  assertEqual(res.args, [[[['a'], { i: 1 }], [['b'], { i: 2 }]], [['end', 'x'], { n: 2 }]],
    '[progressive results, final result] as the Python caller saw them');
});

await r.check('autobahn-js-cancel-kill-python-callee', async () => {
  // mode=kill is the one cancel mode autobahn-js keeps the call for (see
  // wamp-spec.md section 12). The Python callee announces call_canceling:
  // it gets INTERRUPT and its answer to it is what the caller must see.
  need();
  const call = AB.session.call('interop.py.interruptible', ['js-kill']);
  await sleep(200); // the INVOCATION is at the callee by then
  call.cancel({ mode: 'kill' });
  const e = await expectReject(call, 'call cancelled with mode kill');
  assert(e instanceof autobahn.Error, `expected autobahn.Error, got ${describe(e)}`);
  assertEqual([e.error, e.args], ['com.example.interop.interrupted', ['js-kill']], 'ERROR from the interrupted callee');
  const interrupted = await AB.session.call('interop.py.interrupted');
  assert(Array.isArray(interrupted) && interrupted.includes('js-kill'), `Python callee's interrupted calls: ${show(interrupted)}`);
  assert(AB.session.isOpen, 'the autobahn-js session closed');
});

closeQuietly(AB);
try {
  if (W) {
    await withTimeout(W.disconnect(), 2000, 'wampy disconnect');
  }
} catch (e) {
  log('wampy disconnect:', describe(e));
}
process.exit(r.finish());
