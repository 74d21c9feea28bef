package wire_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math"
)

// ---------------------------------------------------------------------------
// Hand-written msgpack encoding.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func mNil() []byte { return []byte{0xc0} }

func mMap(n int) []byte {
	if n > 15 {
		panic("mMap: only fixmap")
	}
	return []byte{0x80 | byte(n)}
}

func mArr(n int) []byte {
	if n > 15 {
		panic("mArr: only fixarray")
	}
	return []byte{0x90 | byte(n)}
}

func mStr(s string) []byte {
	switch {
	case len(s) < 32:
		return append([]byte{0xa0 | byte(len(s))}, s...)
	case len(s) < 256:
		return append([]byte{0xd9, byte(len(s))}, s...)
	}
	panic("mStr: only fixstr and str8")
}

// mUint writes v in the shortest unsigned encoding.
func mUint(v uint64) []byte {
	switch {
	case v < 128:
		return []byte{byte(v)}
	case v <= math.MaxUint8:
		return mUint8(uint8(v))
	case v <= math.MaxUint16:
		return mUint16(uint16(v))
	case v <= math.MaxUint32:
		return mUint32(uint32(v))
	}
	return mUint64(v)
}

func mUint8(v uint8) []byte   { return []byte{0xcc, v} }
func mUint16(v uint16) []byte { return binary.BigEndian.AppendUint16([]byte{0xcd}, v) }
func mUint32(v uint32) []byte { return binary.BigEndian.AppendUint32([]byte{0xce}, v) }
func mUint64(v uint64) []byte { return binary.BigEndian.AppendUint64([]byte{0xcf}, v) }
func mInt8(v int8) []byte     { return []byte{0xd0, byte(v)} }

func mBin(b []byte) []byte {
	if len(b) > 255 {
		panic("mBin: only bin8")
	}
	return append([]byte{0xc4, byte(len(b))}, b...)
}

// frame prefixes body with its 4-byte big-endian length.
func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func helloFrame(version uint64, addr string, nonce []byte) []byte {
	return frame(cat(mMap(4),
		mStr("magic"), mStr("aloha"),
		mStr("version"), mUint(version),
		mStr("addr"), mStr(addr),
		mStr("nonce"), mBin(nonce)))
}

func proofFrame(proof []byte) []byte {
	p := mNil()
	if len(proof) > 0 {
		p = mBin(proof)
	}
	return frame(cat(mMap(1), mStr("proof"), p))
}

func envFrame(kind, id uint64, to, from string, code uint64, body []byte) []byte {
	return frame(cat(mArr(6), mUint(kind), mUint(id), mStr(to), mStr(from), mUint(code), body))
}

func appStatusBody(appID string) []byte {
	return cat(mMap(1), mStr("appId"), mStr(appID))
}

func heartbeatBody(workerID string) []byte {
	return cat(mMap(1), mStr("workerId"), mStr(workerID))
}

func hmacProof(secret []byte, label string, first, second []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(first)
	m.Write(second)
	return m.Sum(nil)
}

func testNonce(first byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}
