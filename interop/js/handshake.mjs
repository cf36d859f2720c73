// WebSocket opening handshakes sent with Node's http module, to see the
// router's HTTP answer directly.
//
//   node handshake.mjs --ws URL

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Reporter, assert } from './lib.mjs';

const { values: opt } = parseArgs({ options: { ws: { type: 'string' } } });
const url = new URL(opt.ws);

// upgrade sends a WebSocket upgrade request offering protocols (none when
// null) and resolves with the HTTP status, or 101 when the server upgraded.
function upgrade(protocols) {
  return new Promise((resolve, reject) => {
    const headers = {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    };
    if (protocols) {
      headers['Sec-WebSocket-Protocol'] = protocols;
    }
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, headers, agent: false, timeout: 3000,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, protocol: res.headers['sec-websocket-protocol'] });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.on('timeout', () => req.destroy(new Error('no HTTP answer within 3 s')));
    req.on('error', reject);
    req.end();
  });
}

const r = new Reporter('websocket', ['refuses-missing-subprotocol']);

await r.check('refuses-missing-subprotocol', async () => {
  // Control first: the same request offering a WAMP subprotocol upgrades,
  // so a refusal below is about the subprotocol and nothing else.
  const ok = await upgrade('wamp.2.json');
  assert(ok.status === 101 && ok.protocol === 'wamp.2.json',
    `control request with wamp.2.json: status ${ok.status}, subprotocol ${ok.protocol}`);
  const res = await upgrade(null);
  assert(res.status >= 400 && res.status < 500, `no subprotocol offered: HTTP status ${res.status}, want 4xx`);
});

process.exit(r.finish());
