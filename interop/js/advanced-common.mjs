// Helpers shared by the Advanced Profile checks of both Node clients.

import { sleep } from './lib.mjs';

// ADVERTISED: the features the default router instance announces in
// WELCOME, per router role (interop/README.md).
export const ADVERTISED = {
  broker: [
    'publisher_exclusion', 'publisher_identification', 'subscriber_blackwhite_listing',
    'pattern_based_subscription', 'session_meta_api', 'subscription_meta_api', 'event_retention',
    'payload_passthru_mode',
  ],
  dealer: [
    'caller_identification', 'call_canceling', 'call_timeout', 'progressive_call_results',
    'pattern_based_registration', 'shared_registration', 'session_meta_api', 'registration_meta_api',
    'testament_meta_api', 'progressive_call_invocations', 'payload_passthru_mode',
  ],
};

// waitUntil polls pred every 10 ms and throws "no <what> within ms" when it
// is still false at the deadline.
export async function waitUntil(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) {
      throw new Error(`no ${what} within ${ms} ms`);
    }
    await sleep(10);
  }
}

// idsOf returns a list of IDs as numbers (msgpack may hand out BigInts), or
// [] for anything that is not a list.
export function idsOf(list) {
  return Array.isArray(list) ? list.map((v) => (typeof v === 'bigint' ? Number(v) : v)) : [];
}
