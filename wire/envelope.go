package wire

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Every frame after the handshake carries one envelope: a msgpack array of
// six elements [kind, id, to, from, type, body].
//
//	kind  uint     1 send, 2 ask, 3 reply, 4 error reply
//	id    uint     the ask's id (0 for send); a reply repeats it
//	to    string   the destination endpoint's name ("" in replies)
//	from  string   the sending endpoint's name ("" when anonymous)
//	type  uint     the body's registry code (0: nil body)
//	body  any      the message; for kind 4 a map {code, message, detail}
const envelopeLen = 6

type kind uint8

const (
	kindSend  kind = 1
	kindAsk   kind = 2
	kindReply kind = 3
	kindError kind = 4
)

type envelope struct {
	kind kind
	id   uint64
	to   string
	from string
	code uint16
	body any
	// bodyErr is set on receipt when the header is sound but the body is
	// not: the frame is answered with an error instead of closing the
	// connection.
	bodyErr *RemoteError
}

// encodeEnvelope encodes env as a frame. For kindError, env.body must be a
// *RemoteError.
func (r *Registry) encodeEnvelope(env *envelope, maxSize int) (*outFrame, error) {
	code := env.code
	if env.kind != kindError {
		c, err := r.codeOf(env.body)
		if err != nil {
			return nil, err
		}
		code = c
	}
	f := newOutFrame()
	enc := encoderPool.Get().(*msgpack.Encoder)
	enc.ResetWriter(&f.buf)
	err := encodeHeader(enc, env, code)
	if err == nil {
		err = enc.Encode(env.body)
	}
	encoderPool.Put(enc)
	if err == nil {
		err = f.seal(maxSize)
	}
	if err != nil {
		f.release()
		return nil, fmt.Errorf("wire: encode %T: %w", env.body, err)
	}
	return f, nil
}

func encodeHeader(enc *msgpack.Encoder, env *envelope, code uint16) error {
	if err := enc.EncodeArrayLen(envelopeLen); err != nil {
		return err
	}
	if err := enc.EncodeUint(uint64(env.kind)); err != nil {
		return err
	}
	if err := enc.EncodeUint(env.id); err != nil {
		return err
	}
	if err := enc.EncodeString(env.to); err != nil {
		return err
	}
	if err := enc.EncodeString(env.from); err != nil {
		return err
	}
	return enc.EncodeUint(uint64(code))
}

type decodeState struct {
	rd  bytes.Reader
	dec *msgpack.Decoder
}

var decoderPool = sync.Pool{New: func() any {
	s := &decodeState{dec: msgpack.NewDecoder(nil)}
	s.dec.SetCustomStructTag("msgpack")
	return s
}}

// decodeEnvelope decodes one frame body. An error means the frame is
// malformed and the connection must close; a frame whose header is sound
// but whose body is not is returned with bodyErr set.
func (r *Registry) decodeEnvelope(b []byte) (*envelope, error) {
	s := decoderPool.Get().(*decodeState)
	defer decoderPool.Put(s)
	s.rd.Reset(b)
	s.dec.ResetReader(&s.rd)
	env, err := decodeHeader(s.dec)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedFrame, err)
	}
	switch {
	case env.kind == kindError:
		re := new(RemoteError)
		if err := s.dec.Decode(re); err != nil {
			return nil, fmt.Errorf("%w: error reply: %v", ErrMalformedFrame, err)
		}
		env.body = re
	case env.code == 0:
		if err := s.dec.Skip(); err != nil {
			return nil, fmt.Errorf("%w: body: %v", ErrMalformedFrame, err)
		}
	default:
		v, ok := r.newValue(env.code)
		if !ok {
			if err := s.dec.Skip(); err != nil {
				return nil, fmt.Errorf("%w: body: %v", ErrMalformedFrame, err)
			}
			env.bodyErr = &RemoteError{Code: CodeUnknownType, Message: fmt.Sprintf("unknown message type %d", env.code)}
			break
		}
		start := s.rd.Len()
		if err := decodeBody(s.dec, v); err != nil {
			// The body may be valid msgpack of the wrong shape; rewind and
			// skip it to tell that apart from a broken frame.
			s.rd.Reset(b[len(b)-start:])
			s.dec.ResetReader(&s.rd)
			if skipErr := s.dec.Skip(); skipErr != nil {
				return nil, fmt.Errorf("%w: body: %v", ErrMalformedFrame, skipErr)
			}
			env.bodyErr = &RemoteError{Code: CodeBadMessage, Message: fmt.Sprintf("message type %d: %v", env.code, err)}
			break
		}
		env.body = v
	}
	if s.rd.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformedFrame, s.rd.Len())
	}
	return env, nil
}

func decodeHeader(dec *msgpack.Decoder) (*envelope, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n != envelopeLen {
		return nil, fmt.Errorf("envelope has %d elements, want %d", n, envelopeLen)
	}
	k, err := dec.DecodeUint64()
	if err != nil {
		return nil, fmt.Errorf("kind: %w", err)
	}
	if k < uint64(kindSend) || k > uint64(kindError) {
		return nil, fmt.Errorf("unknown envelope kind %d", k)
	}
	env := &envelope{kind: kind(k)}
	if env.id, err = dec.DecodeUint64(); err != nil {
		return nil, fmt.Errorf("id: %w", err)
	}
	if env.to, err = dec.DecodeString(); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if env.from, err = dec.DecodeString(); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	code, err := dec.DecodeUint64()
	if err != nil {
		return nil, fmt.Errorf("type: %w", err)
	}
	if code > 0xffff {
		return nil, fmt.Errorf("type code %d out of range", code)
	}
	env.code = uint16(code)
	return env, nil
}

// decodeBody decodes a message body. The msgpack library panics on some
// well-formed input of the wrong shape (nil into a time.Time); a peer must
// not be able to crash the node with that, so a panic is an error here.
func decodeBody(dec *msgpack.Decoder, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("undecodable body: %v", r)
		}
	}()
	return dec.Decode(v)
}
