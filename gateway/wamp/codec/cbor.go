package codec

import (
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// CBOR is the "wamp.2.cbor" serializer (RawSocket serializer 3), built on
// github.com/fxamacker/cbor/v2.
//
// The encoder uses the Core Deterministic options (shortest integer and
// float forms, sorted map keys, definite lengths), with nil slices and maps
// written as empty containers. Before encoding, values are checked and
// normalised to the value model: invalid UTF-8 in strings is replaced by
// U+FFFD, other Go types go through the same reflection fallback as the
// other codecs, and nesting deeper than MaxDepth is an error.
//
// The decoder produces the value model: map[string]any dicts (text keys
// only), int64 integers, uint64 above math.MaxInt64, float64 for every float
// width, []byte for byte strings. It rejects tags (including bignums),
// duplicate map keys, invalid UTF-8, simple values other than false, true,
// null and undefined (undefined reads as nil), integers below math.MinInt64,
// trailing data and nesting deeper than MaxDepth. Indefinite lengths are
// accepted.
var CBOR Codec = cborCodec{}

type cborCodec struct{}

func (cborCodec) Name() string { return "cbor" }
func (cborCodec) Binary() bool { return true }

func (c cborCodec) Encode(m wamp.Message) ([]byte, error)    { return encodeMessage(c, m) }
func (c cborCodec) Decode(data []byte) (wamp.Message, error) { return decodeMessage(c, data) }

var (
	cborEnc = newCBOREncMode()
	cborDec = newCBORDecMode()
)

func newCBOREncMode() cbor.EncMode {
	opts := cbor.CoreDetEncOptions()
	opts.NilContainers = cbor.NilContainerAsEmpty
	em, err := opts.EncMode()
	if err != nil {
		panic("codec: invalid CBOR encoding options: " + err.Error())
	}
	return em
}

func newCBORDecMode() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  MaxDepth,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsForbidden,
		BignumTag:        cbor.BignumTagForbidden,
		IntDec:           cbor.IntDecConvertSignedOrBigInt,
		BigIntDec:        cbor.BigIntDecodePointer,
		DefaultMapType:   reflect.TypeFor[map[string]any](),
		MapKeyByteString: cbor.MapKeyByteStringForbidden,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic("codec: invalid CBOR decoding options: " + err.Error())
	}
	return dm
}

// EncodeValue serializes v as CBOR.
func (cborCodec) EncodeValue(v any) ([]byte, error) {
	m, _, err := cborPrepare(v, 0)
	if err != nil {
		return nil, err
	}
	b, err := cborEnc.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: cbor: %w", ErrUnsupportedValue, err)
	}
	return b, nil
}

// DecodeValue parses one CBOR data item into the value model.
func (cborCodec) DecodeValue(data []byte) (any, error) {
	var v any
	if err := cborDec.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: cbor: %w", ErrMalformed, err)
	}
	v, _, err := cborNormalize(v)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// cborNormalize fixes up what the library decodes outside the value model:
// integers above math.MaxInt64 arrive as *big.Int and become uint64; other
// big integers and unassigned simple values are rejected. It works in place
// and reports whether v itself was replaced.
func cborNormalize(v any) (any, bool, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte:
		return v, false, nil
	case []any:
		for i, e := range x {
			n, changed, err := cborNormalize(e)
			if err != nil {
				return nil, false, err
			}
			if changed {
				x[i] = n
			}
		}
		return v, false, nil
	case map[string]any:
		for k, e := range x {
			n, changed, err := cborNormalize(e)
			if err != nil {
				return nil, false, err
			}
			if changed {
				x[k] = n
			}
		}
		return v, false, nil
	case *big.Int:
		if x.Sign() > 0 && x.IsUint64() {
			return x.Uint64(), true, nil
		}
		return nil, false, fmt.Errorf("%w: cbor: integer %s out of range", ErrMalformed, x)
	case cbor.SimpleValue:
		return nil, false, fmt.Errorf("%w: cbor: simple value %d not supported", ErrMalformed, x)
	}
	return nil, false, fmt.Errorf("%w: cbor: unsupported item of Go type %T", ErrMalformed, v)
}

// cborPrepare checks v before it goes to the CBOR library and returns it in
// a form the library encodes exactly like the value model. It copies only
// the containers on the path to something that had to change and reports
// whether v was replaced. depth is the number of containers around v.
func cborPrepare(v any, depth int) (any, bool, error) {
	switch x := v.(type) {
	case nil, bool, int64, uint64, float64, []byte,
		int, int32, int16, int8, uint, uint32, uint16, uint8, float32, wamp.ID:
		return v, false, nil
	case string:
		if utf8.ValidString(x) {
			return v, false, nil
		}
		return fixUTF8(x), true, nil
	case []any:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out []any
		for i, e := range x {
			n, changed, err := cborPrepare(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = make([]any, len(x))
					copy(out, x)
				}
				out[i] = n
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case map[string]any:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out map[string]any
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false, errKeyUTF8(k)
			}
			n, changed, err := cborPrepare(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = n
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case []string:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out []string
		for i, s := range x {
			if !utf8.ValidString(s) {
				if out == nil {
					out = append([]string(nil), x...)
				}
				out[i] = fixUTF8(s)
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case map[string]string:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out map[string]string
		for k, s := range x {
			if !utf8.ValidString(k) {
				return nil, false, errKeyUTF8(k)
			}
			if !utf8.ValidString(s) {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = fixUTF8(s)
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case []map[string]any:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out []any
		for i, m := range x {
			n, changed, err := cborPrepare(m, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make([]any, len(x))
				for j := range i {
					out[j] = x[j]
				}
			}
			if out != nil {
				out[i] = n
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	}
	m, err := reflectModel(reflect.ValueOf(v), depth)
	if err != nil {
		return nil, false, err
	}
	m, _, err = cborPrepare(m, depth)
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}
