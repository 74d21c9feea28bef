package wire_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// Hand-written msgpack decoding: enough for what a node sends.

// mpMap is a decoded map with string keys, in wire order.
type mpMap struct {
	keys []string
	vals map[string]any
}

func (m *mpMap) has(k string) bool { _, ok := m.vals[k]; return ok }

// mpExt is a decoded extension value.
type mpExt struct {
	typ  int8
	data []byte
}

type mpReader struct {
	b []byte
	p int
}

var errShort = errors.New("msgpack: unexpected end of data")

func (r *mpReader) take(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.p < n {
		return nil, errShort
	}
	out := r.b[r.p : r.p+n]
	r.p += n
	return out, nil
}

func (r *mpReader) be(n int) (uint64, error) {
	b, err := r.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// value decodes one value: nil, bool, uint64 (non-negative integers), int64
// (negative integers), float64, string, []byte, []any, *mpMap or mpExt.
func (r *mpReader) value() (any, error) {
	cb, err := r.take(1)
	if err != nil {
		return nil, err
	}
	c := cb[0]
	switch {
	case c <= 0x7f:
		return uint64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xf0 == 0x80:
		return r.mapBody(int(c & 0x0f))
	case c&0xf0 == 0x90:
		return r.arrayBody(int(c & 0x0f))
	case c&0xe0 == 0xa0:
		return r.strBody(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6: // bin 8/16/32
		n, err := r.be(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		b, err := r.take(int(n))
		return bytes.Clone(b), err
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		n, err := r.be(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return r.extBody(int(n))
	case 0xca:
		v, err := r.be(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := r.be(8)
		return math.Float64frombits(v), err
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8/16/32/64
		return r.be(1 << (c - 0xcc))
	case 0xd0, 0xd1, 0xd2, 0xd3: // int 8/16/32/64
		size := 1 << (c - 0xd0)
		v, err := r.be(size)
		if err != nil {
			return nil, err
		}
		shift := 64 - 8*size
		n := int64(v<<shift) >> shift
		if n >= 0 {
			return uint64(n), nil
		}
		return n, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		return r.extBody(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb: // str 8/16/32
		n, err := r.be(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return r.strBody(int(n))
	case 0xdc, 0xdd: // array 16/32
		n, err := r.be(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return r.arrayBody(int(n))
	case 0xde, 0xdf: // map 16/32
		n, err := r.be(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return r.mapBody(int(n))
	}
	return nil, fmt.Errorf("msgpack: invalid code 0x%02x at offset %d", c, r.p-1)
}

func (r *mpReader) strBody(n int) (any, error) {
	b, err := r.take(n)
	return string(b), err
}

func (r *mpReader) extBody(n int) (any, error) {
	t, err := r.take(1)
	if err != nil {
		return nil, err
	}
	b, err := r.take(n)
	return mpExt{typ: int8(t[0]), data: bytes.Clone(b)}, err
}

func (r *mpReader) arrayBody(n int) (any, error) {
	out := make([]any, n)
	for i := range out {
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *mpReader) mapBody(n int) (any, error) {
	m := &mpMap{vals: map[string]any{}}
	for range n {
		k, err := r.value()
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("msgpack: map key %v (%T) is not a string", k, k)
		}
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		if _, dup := m.vals[ks]; dup {
			return nil, fmt.Errorf("msgpack: duplicate map key %q", ks)
		}
		m.keys = append(m.keys, ks)
		m.vals[ks] = v
	}
	return m, nil
}

// decodeOne decodes b as exactly one msgpack value.
func decodeOne(b []byte) (any, error) {
	r := &mpReader{b: b}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	if r.p != len(b) {
		return nil, fmt.Errorf("msgpack: %d trailing bytes", len(b)-r.p)
	}
	return v, nil
}

// decodeTimestamp decodes a msgpack timestamp extension (type -1).
func decodeTimestamp(v any) (time.Time, error) {
	e, ok := v.(mpExt)
	if !ok || e.typ != -1 {
		return time.Time{}, fmt.Errorf("%#v is not a timestamp extension", v)
	}
	switch len(e.data) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(e.data)), 0).UTC(), nil
	case 8:
		x := binary.BigEndian.Uint64(e.data)
		return time.Unix(int64(x&(1<<34-1)), int64(x>>34)).UTC(), nil
	case 12:
		ns := binary.BigEndian.Uint32(e.data)
		s := int64(binary.BigEndian.Uint64(e.data[4:]))
		return time.Unix(s, int64(ns)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("timestamp of %d bytes", len(e.data))
}

// ---------------------------------------------------------------------------
// Typed access to decoded values.

func asMap(t *testing.T, what string, v any) *mpMap {
	t.Helper()
	m, ok := v.(*mpMap)
	if !ok {
		t.Fatalf("%s = %#v, want a map", what, v)
	}
	return m
}

func field(t *testing.T, m *mpMap, key string) any {
	t.Helper()
	v, ok := m.vals[key]
	if !ok {
		t.Fatalf("map %v has no key %q", m.keys, key)
	}
	return v
}

func strField(t *testing.T, m *mpMap, key string) string {
	t.Helper()
	switch v := field(t, m, key).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		t.Fatalf("%q = %#v, want a str", key, v)
		return ""
	}
}

func uintField(t *testing.T, m *mpMap, key string) uint64 {
	t.Helper()
	v, ok := field(t, m, key).(uint64)
	if !ok {
		t.Fatalf("%q = %#v, want a non-negative int", key, m.vals[key])
	}
	return v
}

func binField(t *testing.T, m *mpMap, key string) []byte {
	t.Helper()
	switch v := field(t, m, key).(type) {
	case []byte:
		return v
	case nil:
		return nil
	default:
		t.Fatalf("%q = %#v, want bin or nil", key, v)
		return nil
	}
}

func boolField(t *testing.T, m *mpMap, key string) bool {
	t.Helper()
	v, ok := field(t, m, key).(bool)
	if !ok {
		t.Fatalf("%q = %#v, want a bool", key, m.vals[key])
	}
	return v
}

// envelope is a decoded envelope.
type envelope struct {
	kind, id uint64
	to, from string
	code     uint64
	body     any
}

func asEnvelope(t *testing.T, v any) envelope {
	t.Helper()
	a, ok := v.([]any)
	if !ok || len(a) != 6 {
		t.Fatalf("envelope = %#v, want an array of 6", v)
	}
	var e envelope
	var ok1, ok2, ok3, ok4, ok5 bool
	e.kind, ok1 = a[0].(uint64)
	e.id, ok2 = a[1].(uint64)
	e.to, ok3 = a[2].(string)
	e.from, ok4 = a[3].(string)
	e.code, ok5 = a[4].(uint64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		t.Fatalf("envelope header %#v is not [uint, uint, str, str, uint]", a[:5])
	}
	e.body = a[5]
	return e
}
