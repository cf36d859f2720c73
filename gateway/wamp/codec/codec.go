// Package codec serializes WAMP messages with JSON, MessagePack and CBOR.
//
// Every codec decodes into the neutral value model documented in package
// wamp (int64/uint64 integers, never float64 for integers; []byte for binary;
// map[string]any for dicts) and accepts the same model when encoding, so a
// message decoded by one codec can be encoded by any other without loss.
// JSON carries byte strings with the WAMP convention: a string made of a NUL
// character followed by standard padded base64.
//
// Codecs are stateless and safe for concurrent use. They start no goroutines.
package codec

import (
	"errors"
	"fmt"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// ErrMalformed wraps every error caused by bytes that are not a valid
// document of the codec's format (as opposed to a valid document that is not
// a valid WAMP message, which is a *wamp.ProtocolError).
var ErrMalformed = errors.New("codec: malformed input")

// MaxDepth is the deepest nesting of lists and dicts a decoder accepts.
const MaxDepth = 64

// Codec encodes and decodes WAMP messages for one serializer.
type Codec interface {
	// Name is the serializer name: "json", "msgpack" or "cbor".
	Name() string
	// Binary reports whether the encoding is binary (WebSocket binary frames).
	Binary() bool
	// Encode serializes a message.
	Encode(m wamp.Message) ([]byte, error)
	// Decode parses one whole message. Errors wrap ErrMalformed or are a
	// *wamp.ProtocolError.
	Decode(data []byte) (wamp.Message, error)
	// EncodeValue serializes any value of the neutral value model.
	EncodeValue(v any) ([]byte, error)
	// DecodeValue parses one value into the neutral value model.
	DecodeValue(data []byte) (any, error)
}

// ByName returns the codec for a serializer name.
func ByName(name string) (Codec, error) {
	switch name {
	case "json":
		return JSON, nil
	case "msgpack":
		return MsgPack, nil
	case "cbor":
		return CBOR, nil
	}
	return nil, fmt.Errorf("codec: unknown serializer %q", name)
}

// All lists the codecs in a stable order: json, msgpack, cbor.
func All() []Codec { return []Codec{JSON, MsgPack, CBOR} }

// decodeMessage is the general way to decode a message: value decode, then
// wamp.FromList. The codecs' Decode methods use it for whatever their
// direct path (buildMessage) does not handle: input that is not a list, or
// is a list longer than any message.
func decodeMessage(c Codec, data []byte) (wamp.Message, error) {
	v, err := c.DecodeValue(data)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, &wamp.ProtocolError{Reason: "message is not a list"}
	}
	return wamp.FromList(l)
}
