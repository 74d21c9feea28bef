package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// A frame is a 4-byte big-endian length followed by that many bytes holding
// exactly one msgpack value. The length counts the body only and must be at
// least 1 and at most the receiver's maximum frame size.
const frameHeaderLen = 4

// DefaultMaxFrameSize is the default of Config.MaxFrameSize (aloha.rpc.maxFrameSize).
const DefaultMaxFrameSize = 16 << 20

// readFrame reads one frame body. The returned slice is freshly allocated:
// decoded messages may keep references into it.
func readFrame(r *bufio.Reader, maxSize int) ([]byte, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, fmt.Errorf("%w: zero-length frame", ErrMalformedFrame)
	}
	if uint64(n) > uint64(maxSize) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
	}
	// A large frame's buffer grows as its bytes arrive, so a peer cannot
	// make this node hold MaxFrameSize per connection by sending a header.
	if n <= eagerFrameSize {
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, truncated(err)
		}
		return body, nil
	}
	var buf bytes.Buffer
	got, err := buf.ReadFrom(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, truncated(err)
	}
	if got != int64(n) {
		return nil, truncated(io.ErrUnexpectedEOF)
	}
	return buf.Bytes(), nil
}

// eagerFrameSize is the largest frame whose buffer is allocated whole
// before its bytes arrive.
const eagerFrameSize = 64 << 10

func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: truncated after %d-byte header: %w", ErrMalformedFrame, frameHeaderLen, err)
}

// outFrame is an encoded frame, header included, waiting to be written. Its
// buffer returns to a pool once written.
type outFrame struct {
	buf bytes.Buffer
}

var framePool = sync.Pool{New: func() any { return new(outFrame) }}

// encoderPool holds encoders configured the way every frame is written.
var encoderPool = sync.Pool{New: func() any {
	enc := msgpack.NewEncoder(nil)
	enc.UseCompactInts(true)
	enc.SetCustomStructTag("msgpack")
	return enc
}}

func newOutFrame() *outFrame {
	f := framePool.Get().(*outFrame)
	f.buf.Reset()
	f.buf.Write(make([]byte, frameHeaderLen))
	return f
}

// seal writes the length header; it fails when the body exceeds maxSize.
func (f *outFrame) seal(maxSize int) error {
	n := f.buf.Len() - frameHeaderLen
	if n > maxSize {
		return fmt.Errorf("%w: encoded message is %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
	}
	binary.BigEndian.PutUint32(f.buf.Bytes()[:frameHeaderLen], uint32(n))
	return nil
}

func (f *outFrame) release() {
	if f.buf.Cap() > 1<<20 { // do not pool the odd huge buffer
		return
	}
	framePool.Put(f)
}

// encodeValueFrame encodes v as a whole frame (used by the handshake).
func encodeValueFrame(v any, maxSize int) (*outFrame, error) {
	f := newOutFrame()
	enc := encoderPool.Get().(*msgpack.Encoder)
	enc.ResetWriter(&f.buf)
	err := enc.Encode(v)
	encoderPool.Put(enc)
	if err == nil {
		err = f.seal(maxSize)
	}
	if err != nil {
		f.release()
		return nil, err
	}
	return f, nil
}
