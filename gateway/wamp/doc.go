// Package wamp holds the WAMP v2 vocabulary shared by the router, the client
// and the codecs: message types and structs, IDs, URI validation, option
// helpers and the predefined error and close URIs.
//
// The package is pure: it does no I/O, starts no goroutines and imports only
// the standard library. Codecs turn bytes into the neutral value model
// described below and call FromList / ToList to move between that model and
// message structs, so every structural check lives here, once.
//
// # Value model
//
// Decoded values are restricted to: nil, bool, int64, uint64 (only for
// integers above math.MaxInt64), float64, string, []byte, []any and
// map[string]any. Codecs normalise to these types so that values decoded by
// one serializer can be encoded by another without loss: integers never pass
// through float64, and byte strings stay byte strings (JSON carries them with
// the spec's "\x00"+base64 convention).
package wamp
