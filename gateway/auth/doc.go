// Package auth authenticates WAMP sessions and authorizes their actions. It
// is a pure library: no I/O, no goroutines, no logging. The router calls it
// from its join code (HELLO, CHALLENGE, AUTHENTICATE) and from its routing
// code (every CALL, REGISTER, SUBSCRIBE, PUBLISH and EVENT delivery).
//
// # Authentication
//
// An [Authenticator] is built once per realm from a [Realm] description and
// is immutable and safe for concurrent use afterwards. For each HELLO the
// router calls [Authenticator.Begin], which returns an [Exchange]. The
// exchange is either already done (anonymous, or a TLS client certificate
// that names a configured user) and carries the [Identity] for WELCOME, or it
// carries a CHALLENGE to send. The router then passes the peer's AUTHENTICATE
// to [Exchange.Verify] exactly once.
//
// Supported methods (HELLO.Details.authmethods):
//
//   - "anonymous": only when [Realm.AnonymousRole] is set. An absent, null or
//     empty authmethods list means ["anonymous"] (or ["tls", "anonymous"]
//     when the transport has a client certificate). The authid is random.
//   - "ticket": CHALLENGE [4, "ticket", {}]; the AUTHENTICATE signature is
//     the ticket. Tickets are compared as SHA-256 digests in constant time,
//     so neither content nor length leaks through timing.
//   - "wampcra": the challenge is a JSON object (authid, authrole,
//     authmethod, authprovider, nonce, timestamp, session); the signature is
//     base64(HMAC-SHA256(key, challenge)). Plain users use the secret as the
//     key; salted users use the ASCII text of
//     base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)), which is
//     what autobahn-js, autobahn-python and wampy compute. Salted challenges
//     always carry salt, iterations and keylen together.
//   - "cryptosign": HELLO.Details.authextra.pubkey (64 hex characters) is
//     required and must be one of the user's keys; the authid is optional and
//     is looked up from the key when absent. The AUTHENTICATE signature is the
//     96-byte NaCl signed message (64-byte Ed25519 signature followed by the
//     32 signed bytes) in hex; both the signature and the 32 bytes are
//     checked. With authextra.channel_binding "tls-unique" or "tls-exporter"
//     the signed message is the challenge XOR the 32-byte channel id from
//     [Transport.ChannelBinding]; a binding the transport cannot offer fails
//     the join. [ChannelBindings] computes the ids from a TLS connection
//     state the way autobahn-python does. Router authentication (a client
//     authextra.challenge) is not supported and is ignored.
//   - "tls": the verified client certificate in [Transport.ClientCert]
//     names the user. The candidate names are the subject CommonName, then
//     the DNS, e-mail and URI subject alternative names, in that order. When
//     HELLO carries an authid it must be one of these names; otherwise the
//     first name that is a configured authid wins. A certificate outside its
//     validity period fails the join; one that names no configured user
//     makes "tls" unavailable, so the next offered method is tried (for an
//     implicit method list, that is anonymous). [VerifyClientCert] checks a
//     chain against the listener's client_ca pool.
//
// The first offered method that the realm can do is chosen; unknown method
// names are skipped. If none is left, Begin fails with
// wamp.error.no_auth_method.
//
// # Not revealing authids
//
// Whether a challenge method is available depends on the realm (some user
// has that kind of credential), never on the authid in HELLO. An unknown
// authid, a known one without that credential, or a cryptosign key that
// belongs to nobody all get a challenge of the same shape as a real one (for
// WAMP-CRA: a plausible role, and for salted realms a salt that is stable per
// authid with the realm's usual iterations and keylen), and Verify then
// fails exactly as for a wrong secret. The price is that a client offering
// several methods gets the first one the realm supports even if its own user
// lacks that credential, so clients should offer only methods they hold
// credentials for (which autobahn and wampy do).
//
// Every failure is an [*Error] carrying the WAMP URI for ABORT
// (wamp.error.no_auth_method, wamp.error.authentication_failed or
// wamp.error.not_authorized) and a message that is safe to send. Its
// LogDetail field says more (for example "unknown authid") and must only be
// logged.
//
// # Slowing down guessing
//
// A [Limiter] remembers failed attempts per peer (IP address, IPv6 /64) and
// tells the router how long to wait before answering the next attempt. When
// [Realm.Limiter] is set, Verify records failures and successes itself; the
// router calls [Limiter.Delay] before answering a HELLO or sending ABORT.
//
// # Authorization
//
// An [Authorizer] holds [Rule] lists per role. For a given role and action
// the most specific rule that mentions the action decides: an exact URI
// beats any prefix, a prefix beats any wildcard, a longer prefix beats a
// shorter one, and among wildcards the pattern with more literal components
// wins, then the one whose literal runs (before the first empty component,
// then before the next, and so on) are longer. If rules with the same URI
// and match both allow and deny, deny wins. Anything no rule allows is
// denied, and unknown roles may do nothing. Subscriptions and registrations
// are checked on their URI as given (a pattern stays a pattern); events are
// checked on the concrete topic with action "subscribe" at delivery time.
package auth
