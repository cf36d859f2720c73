// Advanced Profile features through autobahn-js (JSON over WebSocket),
// against the default router instance (realm1 and realm2 open to anonymous).
//
//   node advanced-autobahn.mjs --ws URL
//
// Sessions: A publishes and calls, B and C subscribe and register (realm1);
// the session meta API cases that kill sessions run in realm2, which no
// other program uses while this one runs.

import { parseArgs } from 'node:util';
import {
  autobahn, Reporter, Deferred, assert, assertEqual, expectReject, connectAutobahn,
  closeQuietly, closeWithoutGoodbye, describe, sleep, show,
} from './lib.mjs';
import { ADVERTISED, waitUntil, idsOf } from './advanced-common.mjs';

const { values: opt } = parseArgs({ options: { ws: { type: 'string' } } });

const transport = () => ({ type: 'websocket', url: opt.ws, serializers: [new autobahn.serializer.JSONSerializer()] });
const U = 'interop.adv.abjs';
const uri = (s) => `${U}.${s}`;

const r = new Reporter('advanced/autobahn-js', [
  'join-features',
  'pattern-subscribe-prefix', 'pattern-subscribe-wildcard', 'pattern-subscribe-overlap',
  'pattern-register-prefix', 'pattern-register-wildcard', 'pattern-register-precedence',
  'shared-register-roundrobin', 'shared-register-policy-conflict', 'shared-register-first-last',
  'blackwhite-exclude', 'blackwhite-eligible', 'blackwhite-exclude-authid', 'blackwhite-eligible-authrole',
  'blackwhite-publisher-needs-exclude-me-false',
  'publisher-identification', 'caller-identification', 'caller-identification-disclose-caller',
  'publisher-exclusion-exclude-me-false',
  'event-retention', 'event-retention-respects-exclude', 'progressive-results-pattern-registration',
  'cancel-kill-callee-without-canceling',
  'session-meta-count-list-get', 'session-meta-on-join-on-leave', 'session-meta-kill',
  'session-meta-kill-errors', 'session-meta-kill-by-authid', 'session-meta-kill-by-authrole',
  'session-meta-kill-all', 'registration-meta', 'subscription-meta', 'meta-events-on-session-close',
  'testament-on-goodbye', 'testament-on-close-without-goodbye',
]);

let A;
let B;
let C;
const need = () => assert(A && B && C, 'sessions did not join');
const others = []; // sessions opened by single cases, closed at the end

async function open(realm = 'realm1') {
  const c = await connectAutobahn(transport(), realm);
  others.push(c);
  return c;
}

// inbox returns an event handler that records every event, and the list.
function inbox() {
  const got = [];
  const fn = (args, kwargs, ev) => got.push({ args, kwargs, ev });
  return { got, fn };
}

await r.check('join-features', async () => {
  A = await connectAutobahn(transport());
  B = await connectAutobahn(transport());
  C = await connectAutobahn(transport());
  const roles = A.details.roles;
  for (const [role, names] of Object.entries(ADVERTISED)) {
    const f = (roles[role] && roles[role].features) || {};
    const missing = names.filter((n) => f[n] !== true);
    assert(missing.length === 0, `WELCOME ${role} features lack ${missing.join(', ')}: ${show(f)}`);
  }
  for (const [who, c] of [['A', A], ['B', B], ['C', C]]) {
    assert(typeof c.details.authid === 'string' && c.details.authid !== '', `${who}: WELCOME without authid`);
    assertEqual(c.details.authmethod, 'anonymous', `${who}: authmethod`);
  }
  assert(new Set([A.details.authid, B.details.authid, C.details.authid]).size === 3,
    'anonymous sessions share an authid, so the authid cases below would be meaningless');
}, 8000);

await r.check('pattern-subscribe-prefix', async () => {
  need();
  const b = inbox();
  await B.session.subscribe(uri('pfx.sensor'), b.fn, { match: 'prefix' });
  await A.session.publish(uri('pfx.other.x'), ['not matching'], {}, { acknowledge: true });
  await A.session.publish(uri('pfx.sensor.temp.1'), ['deep'], {}, { acknowledge: true });
  await A.session.publish(uri('pfx.sensor.hum'), ['shallow'], {}, { acknowledge: true });
  await waitUntil(() => b.got.length >= 2, 3000, 'two events for the prefix subscription');
  await sleep(50);
  assertEqual(b.got.map((e) => [e.args, e.ev.topic]),
    [[['deep'], uri('pfx.sensor.temp.1')], [['shallow'], uri('pfx.sensor.hum')]],
    'events (args, details.topic) at the prefix subscriber');
});

await r.check('pattern-subscribe-wildcard', async () => {
  need();
  const b = inbox();
  await B.session.subscribe(uri('wc..status'), b.fn, { match: 'wildcard' });
  await A.session.publish(uri('wc.dev1.status'), [1], {}, { acknowledge: true });
  await A.session.publish(uri('wc.dev1.status.extra'), ['too long'], {}, { acknowledge: true });
  await A.session.publish(uri('wc.dev2.other'), ['other last component'], {}, { acknowledge: true });
  await A.session.publish(uri('wc.dev2.status'), [2], {}, { acknowledge: true });
  await waitUntil(() => b.got.length >= 2, 3000, 'two events for the wildcard subscription');
  await sleep(50);
  assertEqual(b.got.map((e) => [e.args, e.ev.topic]),
    [[[1], uri('wc.dev1.status')], [[2], uri('wc.dev2.status')]], 'events (args, details.topic) at the wildcard subscriber');
});

await r.check('pattern-subscribe-overlap', async () => {
  // No precedence in PubSub: each matching subscription gets its own EVENT,
  // all with the same publication ID.
  need();
  const got = { exact: [], prefix: [], wildcard: [] };
  const topic = uri('ovl.a.b');
  await B.session.subscribe(topic, (a, k, ev) => got.exact.push(ev));
  await B.session.subscribe(uri('ovl.a'), (a, k, ev) => got.prefix.push(ev), { match: 'prefix' });
  await B.session.subscribe(uri('ovl..b'), (a, k, ev) => got.wildcard.push(ev), { match: 'wildcard' });
  const pub = await A.session.publish(topic, ['x'], {}, { acknowledge: true });
  await waitUntil(() => got.exact.length && got.prefix.length && got.wildcard.length, 3000,
    `an event on each of the three subscriptions (exact ${got.exact.length}, prefix ${got.prefix.length}, `
    + `wildcard ${got.wildcard.length})`);
  await sleep(50);
  for (const [kind, evs] of Object.entries(got)) {
    assertEqual(evs.length, 1, `${kind} subscription: number of events`);
    assertEqual(evs[0].publication, pub.id, `${kind} subscription: publication id`);
    assertEqual(evs[0].topic, topic, `${kind} subscription: topic`);
  }
});

// Registrations for the pattern cases; each handler answers with its label
// and the procedure the INVOCATION named.
const patternRegs = {};
async function registerPattern(label, procedure, match) {
  if (!patternRegs[label]) {
    patternRegs[label] = await B.session.register(procedure, (args, kwargs, details) =>
      new autobahn.Result([label, details.procedure]), match ? { match } : undefined);
  }
}

await r.check('pattern-register-prefix', async () => {
  need();
  await registerPattern('prefix-a', uri('reg.a'), 'prefix');
  const res = await A.session.call(uri('reg.a.x.y'));
  assertEqual(res && res.args, ['prefix-a', uri('reg.a.x.y')], 'callee label and INVOCATION details.procedure');
});

await r.check('pattern-register-wildcard', async () => {
  need();
  await registerPattern('wildcard-b-c', uri('reg..b.c'), 'wildcard');
  const res = await A.session.call(uri('reg.z.b.c'));
  assertEqual(res && res.args, ['wildcard-b-c', uri('reg.z.b.c')], 'callee label and INVOCATION details.procedure');
  const e = await expectReject(A.session.call(uri('reg.z.b.c.d')), 'call with one component too many');
  assertEqual(e.error, 'wamp.error.no_such_procedure', 'error uri');
});

await r.check('pattern-register-precedence', async () => {
  need();
  // Exact beats prefix beats wildcard; the longer prefix wins; between
  // wildcards the longer literal run before the first wildcard wins.
  // (autobahn-js shows the registered URI when INVOCATION has no
  // details.procedure, which is right for the exact registration.)
  await registerPattern('prefix-a', uri('reg.a'), 'prefix');
  await registerPattern('wildcard-b-c', uri('reg..b.c'), 'wildcard');
  await registerPattern('exact', uri('reg.a.b.c'));
  await registerPattern('prefix-a-b', uri('reg.a.b'), 'prefix');
  await registerPattern('wildcard-a-e', uri('reg.a..e'), 'wildcard');
  await registerPattern('wildcard-long-run', uri('reg.w.b2.c33..e5'), 'wildcard');
  await registerPattern('wildcard-short-run', uri('reg.w.b2..d4.e5'), 'wildcard');
  const want = [
    ['reg.a.b.c', 'exact'], // also matches prefixes reg.a, reg.a.b and wildcard reg..b.c
    ['reg.a.b.e', 'prefix-a-b'], // also prefix reg.a and wildcard reg.a..e
    ['reg.a.x.e', 'prefix-a'], // also wildcard reg.a..e
    ['reg.q.b.c', 'wildcard-b-c'],
    ['reg.w.b2.c33.d4.e5', 'wildcard-long-run'],
  ];
  const got = [];
  for (const [p] of want) {
    const res = await A.session.call(uri(p));
    got.push([p, res && res.args && res.args[0], res && res.args && res.args[1]]);
  }
  assertEqual(got, want.map(([p, label]) => [p, label, uri(p)]), 'chosen registration and details.procedure per call');
  const e = await expectReject(A.session.call(uri('reg.q')), 'call that matches nothing');
  assertEqual(e.error, 'wamp.error.no_such_procedure', 'error uri');
});

await r.check('shared-register-roundrobin', async () => {
  need();
  const p = uri('shared.rr');
  await B.session.register(p, () => 'B', { invoke: 'roundrobin' });
  await C.session.register(p, () => 'C', { invoke: 'roundrobin' });
  const seq = [];
  for (let i = 0; i < 6; i++) {
    seq.push(await A.session.call(p));
  }
  const first = seq[0];
  const second = first === 'B' ? 'C' : 'B';
  assertEqual(seq, [first, second, first, second, first, second], 'callees of six calls in a row');
});

await r.check('shared-register-policy-conflict', async () => {
  need();
  const p = uri('shared.rr'); // registered with roundrobin above
  const e = await expectReject(A.session.register(p, () => 'A', { invoke: 'random' }), 'REGISTER with invoke=random');
  assertEqual(e.error, 'wamp.error.procedure_already_exists', 'error uri');
  const e2 = await expectReject(A.session.register(p, () => 'A'), 'REGISTER with the default policy (single)');
  assertEqual(e2.error, 'wamp.error.procedure_already_exists', 'error uri (single)');
  // Same policy still joins the group.
  await A.session.register(p, () => 'A', { invoke: 'roundrobin' });
});

await r.check('shared-register-first-last', async () => {
  // first: always the oldest registration; last: always the newest.
  need();
  for (const [policy, want] of [['first', 'B'], ['last', 'C']]) {
    const p = uri(`shared.${policy}`);
    await B.session.register(p, () => 'B', { invoke: policy });
    await C.session.register(p, () => 'C', { invoke: policy });
    const seq = [];
    for (let i = 0; i < 3; i++) {
      seq.push(await A.session.call(p));
    }
    assertEqual(seq, [want, want, want], `callees with invoke=${policy}`);
  }
});

// deliveries publishes to a topic both B and C subscribe, with options, then
// a marker everyone gets, and returns who received the first event.
let bwTopic = 0;
async function deliveries(options) {
  const topic = uri(`bw.t${++bwTopic}`);
  const b = inbox();
  const c = inbox();
  await B.session.subscribe(topic, b.fn);
  await C.session.subscribe(topic, c.fn);
  await A.session.publish(topic, ['filtered'], {}, { acknowledge: true, ...options });
  await A.session.publish(topic, ['marker'], {}, { acknowledge: true });
  const marked = (x) => x.got.some((e) => e.args[0] === 'marker');
  await waitUntil(() => marked(b) && marked(c), 3000, 'the marker event at B and C');
  const who = [];
  if (b.got.some((e) => e.args[0] === 'filtered')) who.push('B');
  if (c.got.some((e) => e.args[0] === 'filtered')) who.push('C');
  return who;
}

await r.check('blackwhite-exclude', async () => {
  need();
  assertEqual(await deliveries({ exclude: [B.session.id] }), ['C'], 'receivers with exclude=[B]');
});

await r.check('blackwhite-eligible', async () => {
  need();
  assertEqual(await deliveries({ eligible: [B.session.id] }), ['B'], 'receivers with eligible=[B]');
  assertEqual(await deliveries({ eligible: [B.session.id, C.session.id], exclude: [C.session.id] }), ['B'],
    'receivers with eligible=[B,C] and exclude=[C]');
});

await r.check('blackwhite-exclude-authid', async () => {
  need();
  assertEqual(await deliveries({ exclude_authid: [C.details.authid] }), ['B'], 'receivers with exclude_authid=[C.authid]');
  assertEqual(await deliveries({ eligible_authid: [C.details.authid] }), ['C'], 'receivers with eligible_authid=[C.authid]');
});

await r.check('blackwhite-eligible-authrole', async () => {
  need();
  assertEqual(await deliveries({ eligible_authrole: [B.details.authrole] }), ['B', 'C'],
    `receivers with eligible_authrole=[${B.details.authrole}]`);
  assertEqual(await deliveries({ eligible_authrole: ['interop_nobody'] }), [], 'receivers with eligible_authrole=[interop_nobody]');
  assertEqual(await deliveries({ exclude_authrole: [B.details.authrole] }), [], `receivers with exclude_authrole=[${B.details.authrole}]`);
});

await r.check('blackwhite-publisher-needs-exclude-me-false', async () => {
  // Being eligible does not undo publisher exclusion.
  need();
  const topic = uri('bw.self');
  const a = inbox();
  await A.session.subscribe(topic, a.fn);
  await A.session.publish(topic, ['eligible only'], {}, { acknowledge: true, eligible: [A.session.id] });
  await A.session.publish(topic, ['eligible and exclude_me=false'], {},
    { acknowledge: true, eligible: [A.session.id], exclude_me: false });
  await waitUntil(() => a.got.length >= 1, 3000, 'the exclude_me=false event at the publisher');
  assertEqual(a.got.map((e) => e.args[0]), ['eligible and exclude_me=false'], 'events the eligible publisher received');
});

await r.check('publisher-identification', async () => {
  need();
  const b = inbox();
  const topic = uri('pubid');
  await B.session.subscribe(topic, b.fn);
  await A.session.publish(topic, ['disclosed'], {}, { acknowledge: true, disclose_me: true });
  await A.session.publish(topic, ['anonymous'], {}, { acknowledge: true });
  await waitUntil(() => b.got.length >= 2, 3000, 'two events');
  const [d, u] = b.got.map((e) => e.ev);
  assertEqual([d.publisher, d.publisher_authid, d.publisher_authrole],
    [A.session.id, A.details.authid, A.details.authrole], 'EVENT details with disclose_me (publisher, _authid, _authrole)');
  assertEqual([u.publisher, u.publisher_authid, u.publisher_authrole], [undefined, undefined, undefined],
    'EVENT details without disclose_me (nothing configured to disclose)');
});

await r.check('caller-identification', async () => {
  need();
  const p = uri('callerid');
  const seen = [];
  await B.session.register(p, (args, kwargs, details) => {
    seen.push([details.caller, details.caller_authid, details.caller_authrole]);
    return null;
  });
  await A.session.call(p, [], {}, { disclose_me: true });
  await A.session.call(p);
  assertEqual(seen, [[A.session.id, A.details.authid, A.details.authrole], [undefined, undefined, undefined]],
    'INVOCATION details (caller, _authid, _authrole) with and without disclose_me');
});

await r.check('caller-identification-disclose-caller', async () => {
  // The callee can ask for it instead: REGISTER.Options.disclose_caller.
  need();
  const p = uri('callerid.callee');
  const seen = [];
  await B.session.register(p, (args, kwargs, details) => {
    seen.push([details.caller, details.caller_authid, details.caller_authrole]);
    return null;
  }, { disclose_caller: true });
  await A.session.call(p);
  assertEqual(seen, [[A.session.id, A.details.authid, A.details.authrole]],
    'INVOCATION details (caller, _authid, _authrole) for a registration with disclose_caller=true');
});

await r.check('publisher-exclusion-exclude-me-false', async () => {
  need();
  const a = inbox();
  const topic = uri('exclme');
  await A.session.subscribe(topic, a.fn);
  await A.session.publish(topic, ['default'], {}, { acknowledge: true });
  await A.session.publish(topic, ['excluded'], {}, { acknowledge: true, exclude_me: true });
  await A.session.publish(topic, ['own'], {}, { acknowledge: true, exclude_me: false });
  await waitUntil(() => a.got.length >= 1, 3000, 'the exclude_me=false event at the publisher');
  await sleep(50);
  assertEqual(a.got.map((e) => e.args[0]), ['own'], 'events the publisher received from itself');
});

await r.check('event-retention', async () => {
  need();
  const topic = uri('retained');
  await A.session.publish(topic, ['old'], { n: 1 }, { acknowledge: true, retain: true });
  await A.session.publish(topic, ['kept'], { n: 2 }, { acknowledge: true, retain: true });
  await A.session.publish(topic, ['not kept'], { n: 3 }, { acknowledge: true });
  const b = inbox();
  const c = inbox();
  // autobahn-js passes subscribe options through unchanged.
  await B.session.subscribe(topic, b.fn, { get_retained: true });
  await C.session.subscribe(topic, c.fn);
  await waitUntil(() => b.got.length >= 1, 3000, 'the retained event on subscribe with get_retained=true');
  await A.session.publish(topic, ['live'], {}, { acknowledge: true });
  await waitUntil(() => b.got.length >= 2 && c.got.length >= 1, 3000, 'the live event');
  assertEqual(b.got.map((e) => [e.args, e.kwargs, e.ev.retained]), [[['kept'], { n: 2 }, true], [['live'], {}, false]],
    'events (args, kwargs, details.retained) with get_retained=true');
  assertEqual(c.got.map((e) => [e.args, e.ev.retained]), [[['live'], false]], 'events without get_retained');
});

await r.check('event-retention-respects-exclude', async () => {
  // A new subscriber gets the retained event only if it would have been
  // eligible to receive it.
  need();
  const topic = uri('retained.filtered');
  await A.session.publish(topic, ['not for C'], {}, { acknowledge: true, retain: true, exclude: [C.session.id] });
  const b = inbox();
  const c = inbox();
  await C.session.subscribe(topic, c.fn, { get_retained: true });
  await B.session.subscribe(topic, b.fn, { get_retained: true });
  await waitUntil(() => b.got.length >= 1, 3000, 'the retained event at B');
  await A.session.publish(topic, ['live'], {}, { acknowledge: true });
  await waitUntil(() => c.got.length >= 1, 3000, 'the live event at C');
  assertEqual(c.got.map((e) => [e.args, e.ev.retained]), [[['live'], false]], 'events at the excluded subscriber C');
  assertEqual(b.got[0].args, ['not for C'], 'retained event at B');
});

await r.check('progressive-results-pattern-registration', async () => {
  // Progressive results through a prefix registration: the callee sees the
  // concrete procedure and can stream.
  need();
  await B.session.register(uri('prog'), async (args, kwargs, details) => {
    assert(typeof details.progress === 'function', 'no receive_progress in INVOCATION');
    details.progress([details.procedure]);
    details.progress([2]);
    return 'final';
  }, { match: 'prefix' });
  const progress = [];
  const res = await new Promise((resolve, reject) => {
    A.session.call(uri('prog.stream'), [], {}, { receive_progress: true }).then(resolve, reject, (p) => progress.push(p));
  });
  assertEqual(progress, [uri('prog.stream'), 2], 'progressive results');
  assertEqual(res, 'final', 'final result');
});

await r.check('cancel-kill-callee-without-canceling', async () => {
  // autobahn-js keeps a call cancelled with mode=kill until the router
  // answers, so it is safe to use (skip and killnowait make it forget the
  // call at once; see wamp-spec.md section 12). Its callee does not
  // announce call_canceling, so the router must treat kill as skip: ERROR
  // wamp.error.canceled at once, no INTERRUPT (autobahn-js would drop the
  // connection on one), and the callee's late YIELD dropped.
  need();
  const p = uri('slow');
  await B.session.register(uri('ping'), () => 'pong');
  const started = new Deferred();
  const release = new Deferred();
  const yielded = new Deferred();
  let answered = false;
  await B.session.register(p, async () => {
    started.resolve();
    // The callee answers only once the caller has its ERROR (or after 3 s,
    // which fails the case: the router waited for the callee).
    await Promise.race([release.promise, sleep(3000)]);
    answered = true;
    setTimeout(yielded.resolve, 200); // the late YIELD has reached the router by then
    return 'too late';
  });
  const call = A.session.call(p);
  await started.promise;
  call.cancel({ mode: 'kill' });
  const e = await expectReject(call, 'cancelled call');
  const early = !answered;
  release.resolve();
  assert(e instanceof autobahn.Error, `expected autobahn.Error, got ${describe(e)}`);
  assertEqual(e.error, 'wamp.error.canceled', 'error uri');
  assert(early, 'the caller got its ERROR only after the callee answered: the router waited for the callee');
  await yielded.promise;
  assert(A.session.isOpen && B.session.isOpen, 'a session closed (INTERRUPT or late RESULT reached autobahn-js?)');
  assertEqual(await A.session.call(uri('ping')), 'pong', 'call afterwards');
}, 6000);

// ---- session meta API (realm2)

let M; // realm2 session that calls the meta procedures

await r.check('session-meta-count-list-get', async () => {
  M = await open('realm2');
  const V = await open('realm2');
  // Between two calls the count can only change if some other session
  // comes or goes; retry a few times to rule that out.
  let list;
  let count;
  for (let i = 0; i < 5; i++) {
    list = await M.session.call('wamp.session.list');
    count = await M.session.call('wamp.session.count');
    const again = await M.session.call('wamp.session.list');
    if (Array.isArray(list) && count === list.length && show(again) === show(list)) break;
    await sleep(100);
  }
  assert(Array.isArray(list), `wamp.session.list returned ${show(list)}, want a list of IDs`);
  assertEqual(count, list.length, 'wamp.session.count vs the length of wamp.session.list');
  assert(list.includes(M.session.id) && list.includes(V.session.id), `list ${show(list)} lacks ${M.session.id} or ${V.session.id}`);
  assertEqual(await M.session.call('wamp.session.count', [['interop_nobody']]), 0, 'count filtered by an unused authrole');
  assertEqual(await M.session.call('wamp.session.list', [['interop_nobody']]), [], 'list filtered by an unused authrole');
  const d = await M.session.call('wamp.session.get', [V.session.id]);
  assertEqual([d.session, d.authid, d.authrole, d.authmethod], [V.session.id, V.details.authid, V.details.authrole, 'anonymous'],
    'wamp.session.get: session, authid, authrole, authmethod');
  closeQuietly(V);
  await V.closed;
});

await r.check('session-meta-on-join-on-leave', async () => {
  assert(M, 'meta session did not join');
  const joins = [];
  const leaves = [];
  await M.session.subscribe('wamp.session.on_join', (args) => joins.push(args));
  await M.session.subscribe('wamp.session.on_leave', (args) => leaves.push(args));
  const V = await open('realm2');
  const vid = V.session.id; // autobahn-js clears session.id on leave
  await waitUntil(() => joins.some((a) => a[0] && a[0].session === vid), 3000, 'on_join for the new session');
  const j = joins.find((a) => a[0].session === vid)[0];
  assertEqual([j.authid, j.authrole, j.authmethod], [V.details.authid, V.details.authrole, 'anonymous'], 'on_join details');
  closeQuietly(V);
  await waitUntil(() => leaves.some((a) => a[0] === vid), 3000, 'on_leave for the session that left');
  assertEqual(leaves.find((a) => a[0] === vid), [vid, V.details.authid, V.details.authrole],
    'on_leave arguments [session, authid, authrole]');
});

await r.check('session-meta-kill', async () => {
  assert(M, 'meta session did not join');
  const V1 = await open('realm2');
  const V2 = await open('realm2');
  const res = await M.session.call('wamp.session.kill', [V1.session.id]);
  assertEqual(res, null, 'wamp.session.kill result');
  const c1 = await V1.closed;
  assertEqual(c1.details.reason, 'wamp.close.killed', 'GOODBYE reason at the killed session');
  await M.session.call('wamp.session.kill', [V2.session.id], { reason: 'com.example.interop.kicked', message: 'bye now' });
  const c2 = await V2.closed;
  assertEqual([c2.details.reason, c2.details.message], ['com.example.interop.kicked', 'bye now'],
    'GOODBYE reason and message with kill(reason, message)');
  assert(M.session.isOpen, 'the killer session closed');
});

await r.check('session-meta-kill-errors', async () => {
  assert(M, 'meta session did not join');
  let e = await expectReject(M.session.call('wamp.session.kill', [4242424242]), 'kill of an unknown session');
  assertEqual(e.error, 'wamp.error.no_such_session', 'error uri (unknown session)');
  e = await expectReject(M.session.call('wamp.session.kill', [M.session.id]), 'kill of the caller itself');
  assertEqual(e.error, 'wamp.error.no_such_session', 'error uri (own session)');
  e = await expectReject(M.session.call('wamp.session.get', [4242424242]), 'get of an unknown session');
  assertEqual(e.error, 'wamp.error.no_such_session', 'error uri (get)');
  const V = await open('realm2');
  e = await expectReject(M.session.call('wamp.session.kill', [V.session.id], { reason: 'not a uri' }), 'kill with reason "not a uri"');
  assertEqual(e.error, 'wamp.error.invalid_uri', 'error uri (invalid reason)');
  assert(M.session.isOpen && V.session.isOpen, 'a session closed');
  closeQuietly(V);
  await V.closed;
});

await r.check('session-meta-kill-by-authid', async () => {
  assert(M, 'meta session did not join');
  const V = await open('realm2');
  const W = await open('realm2');
  const vid = V.session.id; // autobahn-js clears session.id on leave
  const res = await M.session.call('wamp.session.kill_by_authid', [V.details.authid]);
  assertEqual(res, [vid], 'kill_by_authid result (list of killed session IDs)');
  assertEqual((await V.closed).details.reason, 'wamp.close.killed', 'GOODBYE reason');
  assert(W.session.isOpen, 'a session with another authid was killed too');
  closeQuietly(W);
  await W.closed;
});

await r.check('session-meta-kill-by-authrole', async () => {
  assert(M, 'meta session did not join');
  const before = await M.session.call('wamp.session.list', [[M.details.authrole]]);
  const V = await open('realm2');
  const W = await open('realm2');
  const res = await M.session.call('wamp.session.kill_by_authrole', [V.details.authrole], { reason: 'com.example.interop.role_gone' });
  // Everyone with the role but the caller; nobody else uses realm2 now.
  assertEqual(res, before.length - 1 + 2, 'kill_by_authrole result (count)');
  for (const x of [V, W]) {
    assertEqual((await x.closed).details.reason, 'com.example.interop.role_gone', 'GOODBYE reason');
  }
  assert(M.session.isOpen, 'kill_by_authrole killed the caller');
});

await r.check('session-meta-kill-all', async () => {
  assert(M, 'meta session did not join');
  const V = await open('realm2');
  const W = await open('realm2');
  const res = await M.session.call('wamp.session.kill_all');
  assertEqual(res, 2, 'kill_all result (count)');
  for (const x of [V, W]) {
    assertEqual((await x.closed).details.reason, 'wamp.close.killed', 'GOODBYE reason');
  }
  assert(M.session.isOpen, 'kill_all killed the caller');
  assertEqual(await M.session.call('wamp.session.list'), [M.session.id], 'sessions left in realm2');
});

// ---- registration and subscription meta API (realm1)

await r.check('registration-meta', async () => {
  need();
  const events = [];
  for (const t of ['on_create', 'on_register', 'on_unregister', 'on_delete']) {
    await A.session.subscribe(`wamp.registration.${t}`, (args) => events.push([t, args]));
  }
  const p = uri('meta.reg');
  const reg = await B.session.register(p, () => 1);
  const mine = (e) => (e[0] === 'on_create' ? e[1][1] && e[1][1].id : e[1][1]) === reg.id;
  await waitUntil(() => events.filter(mine).length >= 2, 3000, 'on_create and on_register');
  const [create, register] = events.filter(mine);
  assertEqual(create[0], 'on_create', 'first meta event');
  assertEqual(create[1][0], B.session.id, 'on_create session');
  const d = create[1][1];
  assertEqual([d.id, d.uri, d.match, d.invoke], [reg.id, p, 'exact', 'single'], 'on_create RegistrationDetails');
  assert(typeof d.created === 'string' && !Number.isNaN(Date.parse(d.created)), `created is not an ISO-8601 time: ${show(d.created)}`);
  assertEqual(register, ['on_register', [B.session.id, reg.id]], 'on_register');

  const lists = await A.session.call('wamp.registration.list');
  assert(lists && idsOf(lists.exact).includes(reg.id), `wamp.registration.list exact ${show(lists)} lacks ${reg.id}`);
  assert(idsOf(lists.prefix).includes(patternRegs['prefix-a'].id), `wamp.registration.list prefix lacks ${patternRegs['prefix-a'].id}`);
  assert(idsOf(lists.wildcard).includes(patternRegs['wildcard-b-c'].id),
    'wamp.registration.list wildcard lacks the wildcard registration');
  assertEqual(await A.session.call('wamp.registration.lookup', [p]), reg.id, 'lookup (exact)');
  assertEqual(await A.session.call('wamp.registration.lookup', [uri('reg.a'), { match: 'prefix' }]), patternRegs['prefix-a'].id,
    'lookup (prefix)');
  assertEqual(await A.session.call('wamp.registration.lookup', [uri('meta.none')]), null, 'lookup of an unregistered URI');
  assertEqual(await A.session.call('wamp.registration.match', [uri('reg.a.b.e')]), patternRegs['prefix-a-b'].id, 'match (best match)');
  assertEqual(await A.session.call('wamp.registration.match', [uri('meta.none')]), null, 'match without any');
  const got = await A.session.call('wamp.registration.get', [reg.id]);
  assertEqual([got.id, got.uri, got.match, got.invoke], [reg.id, p, 'exact', 'single'], 'get');
  assertEqual(await A.session.call('wamp.registration.list_callees', [reg.id]), [B.session.id], 'list_callees');
  assertEqual(await A.session.call('wamp.registration.count_callees', [reg.id]), 1, 'count_callees');
  const shared = await A.session.call('wamp.registration.lookup', [uri('shared.rr')]);
  assertEqual(await A.session.call('wamp.registration.count_callees', [shared]), 3, 'count_callees of the shared registration');
  const e = await expectReject(A.session.call('wamp.registration.get', [4242424242]), 'get of an unknown registration');
  assertEqual(e.error, 'wamp.error.no_such_registration', 'error uri');

  // The session that causes a meta event receives it too.
  const own = await A.session.register(uri('meta.own'), () => 1);
  await waitUntil(() => events.some((x) => x[0] === 'on_register' && x[1][1] === own.id), 3000,
    'on_register for the subscriber\'s own registration');
  await B.session.unregister(reg);
  await waitUntil(() => events.filter(mine).length >= 4, 3000, 'on_unregister and on_delete');
  assertEqual(events.filter(mine).slice(2), [['on_unregister', [B.session.id, reg.id]], ['on_delete', [B.session.id, reg.id]]],
    'on_unregister then on_delete');
});

await r.check('subscription-meta', async () => {
  need();
  const events = [];
  for (const t of ['on_create', 'on_subscribe', 'on_unsubscribe', 'on_delete']) {
    await A.session.subscribe(`wamp.subscription.${t}`, (args) => events.push([t, args]));
  }
  const topic = uri('meta.sub');
  const sub = await B.session.subscribe(topic, () => {});
  const mine = (e) => (e[0] === 'on_create' ? e[1][1] && e[1][1].id : e[1][1]) === sub.id;
  await waitUntil(() => events.filter(mine).length >= 2, 3000, 'on_create and on_subscribe');
  const [create, subscribe] = events.filter(mine);
  assertEqual(create[0], 'on_create', 'first meta event');
  const d = create[1][1];
  assertEqual([create[1][0], d.id, d.uri, d.match], [B.session.id, sub.id, topic, 'exact'], 'on_create [session, SubscriptionDetails]');
  assertEqual(subscribe, ['on_subscribe', [B.session.id, sub.id]], 'on_subscribe');
  const sub2 = await C.session.subscribe(topic, () => {});
  assertEqual(sub2.id, sub.id, 'second subscriber shares the subscription ID');
  const pfx = await C.session.subscribe(uri('meta'), () => {}, { match: 'prefix' });

  const lists = await A.session.call('wamp.subscription.list');
  assert(lists && idsOf(lists.exact).includes(sub.id), `wamp.subscription.list exact ${show(lists)} lacks ${sub.id}`);
  assert(idsOf(lists.prefix).includes(pfx.id), 'wamp.subscription.list prefix lacks the prefix subscription');
  assertEqual(await A.session.call('wamp.subscription.lookup', [topic]), sub.id, 'lookup');
  assertEqual(await A.session.call('wamp.subscription.lookup', [uri('meta'), { match: 'prefix' }]), pfx.id, 'lookup (prefix)');
  const m = await A.session.call('wamp.subscription.match', [topic]);
  assert(Array.isArray(m) && m.includes(sub.id) && m.includes(pfx.id), `match ${show(m)} lacks ${sub.id} or ${pfx.id}`);
  const got = await A.session.call('wamp.subscription.get', [sub.id]);
  assertEqual([got.id, got.uri, got.match], [sub.id, topic, 'exact'], 'get');
  const subscribers = await A.session.call('wamp.subscription.list_subscribers', [sub.id]);
  assertEqual([...subscribers].sort(), [B.session.id, C.session.id].sort(), 'list_subscribers');
  assertEqual(await A.session.call('wamp.subscription.count_subscribers', [sub.id]), 2, 'count_subscribers');
  const e = await expectReject(A.session.call('wamp.subscription.get', [4242424242]), 'get of an unknown subscription');
  assertEqual(e.error, 'wamp.error.no_such_subscription', 'error uri');
  await B.session.unsubscribe(sub);
  await C.session.unsubscribe(sub2);
  await waitUntil(() => events.filter(mine).some((x) => x[0] === 'on_delete'), 3000, 'on_delete');
  assertEqual(events.filter(mine).slice(2), [
    ['on_subscribe', [C.session.id, sub.id]], ['on_unsubscribe', [B.session.id, sub.id]],
    ['on_unsubscribe', [C.session.id, sub.id]], ['on_delete', [C.session.id, sub.id]],
  ], 'meta events for the second subscriber and both unsubscribes');
});

await r.check('meta-events-on-session-close', async () => {
  // A callee or subscriber that goes away without unregistering: the
  // router removes what it had and says so.
  need();
  const events = [];
  for (const t of ['wamp.registration.on_unregister', 'wamp.registration.on_delete',
    'wamp.subscription.on_unsubscribe', 'wamp.subscription.on_delete']) {
    await A.session.subscribe(t, (args) => events.push([t, args]));
  }
  const V = await open();
  const vid = V.session.id; // autobahn-js clears session.id on leave
  const reg = await V.session.register(uri('meta.gone.proc'), () => 1);
  const sub = await V.session.subscribe(uri('meta.gone.topic'), () => {});
  closeWithoutGoodbye(V);
  await waitUntil(() => events.length >= 4, 3000, `four meta events (got ${show(events)})`);
  const byKind = Object.fromEntries(events.map(([t, args]) => [t, args]));
  assertEqual(byKind, {
    'wamp.registration.on_unregister': [vid, reg.id],
    'wamp.registration.on_delete': [vid, reg.id],
    'wamp.subscription.on_unsubscribe': [vid, sub.id],
    'wamp.subscription.on_delete': [vid, sub.id],
  }, 'meta events after the session closed');
  const e = await expectReject(A.session.call(uri('meta.gone.proc')), 'call to the procedure of the closed session');
  assertEqual(e.error, 'wamp.error.no_such_procedure', 'error uri');
});

async function testament(name, end) {
  need();
  const topic = uri(`testament.${name}`);
  const got = inbox();
  await A.session.subscribe(topic, got.fn);
  const V = await open();
  const vid = V.session.id; // autobahn-js clears session.id on leave
  const res = await V.session.call('wamp.session.add_testament', [topic, ['gone', vid], { why: name }]);
  assertEqual(res, null, 'add_testament result');
  await sleep(50);
  assertEqual(got.got.length, 0, 'testament published while the session is still there');
  end(V);
  await waitUntil(() => got.got.length >= 1, 3000, 'the testament event');
  assertEqual([got.got[0].args, got.got[0].kwargs], [['gone', vid], { why: name }], 'testament event payload');
}

await r.check('testament-on-goodbye', () => testament('goodbye', (V) => V.conn.close()));
await r.check('testament-on-close-without-goodbye', () => testament('close', (V) => closeWithoutGoodbye(V)));

for (const c of [A, B, C, ...others]) {
  closeQuietly(c);
}
process.exit(r.finish());
