// Shared helpers for the Node interop checks: case reporting in the format
// interop/run.sh reads, timeouts, comparisons and an autobahn-js connection
// helper that never retries.
//
// Output protocol (stdout only; diagnostics go to stderr):
//   PLAN name1 name2 ...   once, before any case runs
//   PASS name              a case passed
//   FAIL name: reason      a case failed
//   SKIP name: reason      the client library cannot do what the case needs
// run.sh reports every planned case that printed none of these as failed.

import { isDeepStrictEqual, inspect } from 'node:util';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// autobahn-js is CommonJS; load it the CommonJS way so its optional
// serializers (msgpack5, cbor) and when.js are picked up exactly as in a
// plain Node application.
export const autobahn = require('autobahn');

// Reporter prints the plan once and one result line per case.
export class Reporter {
  constructor(prefix, names) {
    this.prefix = prefix;
    this.names = names.map((n) => `${prefix}/${n}`);
    this.failed = 0;
    this.done = new Set();
    process.stdout.write(`PLAN ${this.names.join(' ')}\n`);
  }

  pass(name) {
    const full = `${this.prefix}/${name}`;
    this.done.add(full);
    process.stdout.write(`PASS ${full}\n`);
  }

  fail(name, reason) {
    const full = `${this.prefix}/${name}`;
    this.done.add(full);
    this.failed++;
    process.stdout.write(`FAIL ${full}: ${oneLine(reason)}\n`);
  }

  // skip is only for what the client library cannot do; the reason must
  // say what is missing.
  skip(name, reason) {
    const full = `${this.prefix}/${name}`;
    this.done.add(full);
    process.stdout.write(`SKIP ${full}: ${oneLine(reason)}\n`);
  }

  // check runs fn with a deadline and reports the outcome. fn signals
  // failure by throwing, and a client limitation by throwing Skip; its
  // return value is ignored.
  async check(name, fn, ms = 5000) {
    const t0 = Date.now();
    try {
      await withTimeout(Promise.resolve().then(fn), ms, `${name} did not finish`);
      this.pass(name);
      return true;
    } catch (e) {
      if (e instanceof Skip) {
        this.skip(name, e.message);
      } else {
        this.fail(name, describe(e));
      }
      return false;
    } finally {
      log(`${this.prefix}/${name}: ${Date.now() - t0} ms`);
    }
  }

  // finish reports planned cases that never ran and returns the exit code.
  finish() {
    for (const n of this.names) {
      if (!this.done.has(n)) {
        this.failed++;
        process.stdout.write(`FAIL ${n}: not run\n`);
      }
    }
    return this.failed === 0 ? 0 : 1;
  }
}

// Skip, thrown from a case, reports SKIP with its message as the reason.
export class Skip extends Error {}

export function log(...args) {
  process.stderr.write(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 6 }))).join(' ') + '\n');
}

export function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim();
}

// describe renders anything thrown or rejected, including autobahn.Error
// (error, args, kwargs) and wampy's WampError (errorUri, argsList, argsDict).
export function describe(e) {
  if (e instanceof autobahn.Error) {
    return `WAMP error ${e.error} args=${show(e.args)} kwargs=${show(e.kwargs)}`;
  }
  if (e && typeof e === 'object' && 'errorUri' in e) {
    return `${e.name || 'wampy error'} ${e.errorUri} args=${show(e.argsList)} kwargs=${show(e.argsDict)}`;
  }
  if (e instanceof Error) {
    return e.message;
  }
  return show(e);
}

export function show(v) {
  return inspect(v, { depth: 6, breakLength: Infinity, compact: true });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// withTimeout rejects with message when p has not settled after ms.
export function withTimeout(p, ms, message) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// Deferred is a promise with its resolve/reject exposed, for callbacks
// (event handlers, invocation handlers) a case waits on.
export class Deferred {
  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

export function assert(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

export function assertEqual(got, want, what) {
  if (!isDeepStrictEqual(got, want)) {
    throw new Error(`${what}: got ${show(got)}, want ${show(want)}`);
  }
}

// expectReject awaits p and returns what it rejected with; it throws when
// p resolves.
export async function expectReject(p, what) {
  let value;
  try {
    value = await p;
  } catch (e) {
    return e;
  }
  throw new Error(`${what}: expected an error, got result ${show(value)}`);
}

// connectAutobahn opens an autobahn-js Connection with retries off and
// resolves once the session joined. The returned object tracks how the
// connection closed: closed resolves with {reason, details} from
// Connection.onclose. extra is merged into the Connection options
// (authmethods, authid, authextra, onchallenge, ...). When the router
// refuses the join, the rejection is a JoinRefused carrying the ABORT
// reason.
export function connectAutobahn(transport, realm = 'realm1', ms = 5000, extra = {}) {
  const opened = new Deferred();
  const closed = new Deferred();
  let joined = false;
  const conn = new autobahn.Connection({
    realm,
    transports: [transport],
    max_retries: 0,
    retry_if_unreachable: false,
    initial_retry_delay: 0.1,
    on_user_error: (err, msg) => log('autobahn user error:', msg || '', err),
    on_internal_error: (err, msg) => log('autobahn internal error:', msg || '', err),
    ...extra,
  });
  conn.onopen = (session, details) => {
    joined = true;
    opened.resolve({ conn, session, details, closed: closed.promise });
  };
  conn.onclose = (reason, details) => {
    log(`autobahn connection closed: ${reason}`, details);
    closed.resolve({ reason, details });
    if (!joined) {
      opened.reject(new JoinRefused(details && details.reason, `connection closed before join: ${reason} ${show(details)}`));
    }
    return true; // never retry
  };
  conn.open();
  return withTimeout(opened.promise, ms, 'autobahn-js join').catch((e) => {
    try {
      conn.close();
    } catch {
      // already closed
    }
    throw e;
  });
}

// JoinRefused: the session never joined; reason is the router's ABORT
// reason when there was one.
export class JoinRefused extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

// closeWithoutGoodbye closes an autobahn-js session's WebSocket (or
// RawSocket) without sending GOODBYE first, as a client that just goes
// away. autobahn-js keeps the socket itself private, so this is the
// transport's own close.
export function closeWithoutGoodbye(c) {
  const t = c.conn._transport;
  if (!t || typeof t.close !== 'function') {
    throw new Error('the autobahn-js connection has no open transport');
  }
  t.close();
}

// closeQuietly closes an autobahn-js connection if it is still open.
export function closeQuietly(c) {
  if (!c) {
    return;
  }
  try {
    c.conn.close();
  } catch {
    // already closed
  }
}
