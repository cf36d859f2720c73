// wampy.js helpers: a connection helper and a WebSocket class that records
// the WAMP messages on the wire, for the checks that need to see what
// wampy sent or what Details it was given.

import WebSocket from 'ws';
import { Wampy } from 'wampy';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import { CborSerializer } from 'wampy/CborSerializer.js';
import { Deferred, describe, log, withTimeout } from './lib.mjs';

// RecordingWebSocket is the ws package's client with every text frame
// (JSON serializer) decoded and kept: received and sent. wampy creates it
// as new ws(url, protocols, ...), so its constructor takes the same.
export class RecordingWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    this.received = [];
    this.sent = [];
    this.on('message', (data, isBinary) => {
      if (!isBinary) {
        keep(this.received, JSON.parse(data.toString()));
      }
    });
  }

  send(data, ...rest) {
    if (typeof data === 'string') {
      keep(this.sent, JSON.parse(data));
    }
    return super.send(data, ...rest);
  }
}

function keep(list, msg) {
  list.push(msg);
  if (list.length > 500) {
    list.shift();
  }
}

// connectWampy connects a wampy client with JSON (the default) or CBOR and
// no reconnects. Extra options (authid, authmethods, onChallenge, ...) are
// passed on. It resolves with {w, welcome, closed, ws}: closed resolves when
// the WebSocket closed, ws is the RecordingWebSocket (JSON only). It rejects
// with wampy's error, an AbortError with errorUri for ABORT.
export async function connectWampy(url, realm, extra = {}, serializer = 'json') {
  const closed = new Deferred();
  let ws;
  const Rec = class extends RecordingWebSocket {
    constructor(...args) {
      super(...args);
      ws = this;
    }
  };
  const w = new Wampy(url, {
    ws: serializer === 'json' ? Rec : WebSocket,
    realm,
    autoReconnect: false,
    serializer: serializer === 'json' ? new JsonSerializer() : new CborSerializer(),
    onClose: () => closed.resolve(),
    onError: (e) => log('wampy onError:', describe(e)),
    ...extra,
  });
  const welcome = await withTimeout(w.connect(), 5000, 'wampy connect');
  return { w, welcome, closed: closed.promise, ws, id: w.getSessionId() };
}

// quietly ends a wampy client whatever state it is in.
export function abortQuietly(c) {
  try {
    c?.w.abort();
  } catch {
    // the WebSocket is already gone
  }
}
