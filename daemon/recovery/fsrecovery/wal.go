package fsrecovery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// File names; see the package comment.
const (
	walPrefix      = "wal-"
	walSuffix      = ".log"
	snapshotPrefix = "snapshot-"
	tmpSuffix      = ".tmp"
)

func walName(seq uint64) string      { return fmt.Sprintf("%s%016x%s", walPrefix, seq, walSuffix) }
func snapshotName(seq uint64) string { return fmt.Sprintf("%s%016x", snapshotPrefix, seq) }

// parseSeq returns the sequence number of a name made by walName or
// snapshotName; any other spelling is not ours.
func parseSeq(name, prefix, suffix string) (uint64, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	digits := name[len(prefix) : len(name)-len(suffix)]
	if len(digits) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 16, 64)
	return seq, err == nil && seq > 0
}

// listing is what the store finds in its directory.
type listing struct {
	snapshots []uint64 // ascending
	segments  []uint64 // ascending
	temps     []string // leftover temporary files of the store
	maxSeq    uint64   // highest number any file took
}

func listDir(dir string) (listing, error) {
	var l listing
	entries, err := os.ReadDir(dir)
	if err != nil {
		return l, fmt.Errorf("fsrecovery: reading the recovery directory: %w", err)
	}
	for _, ent := range entries {
		name := ent.Name()
		if !ent.Type().IsRegular() {
			continue
		}
		if strings.HasSuffix(name, tmpSuffix) {
			// Only our own temporaries: the elector's epoch.tmp and
			// leader.tmp may be in flight in another master.
			if seq, ok := parseSeq(name, snapshotPrefix, tmpSuffix); ok {
				l.temps = append(l.temps, name)
				l.maxSeq = max(l.maxSeq, seq)
			}
			continue
		}
		if seq, ok := parseSeq(name, walPrefix, walSuffix); ok {
			l.segments = append(l.segments, seq)
			l.maxSeq = max(l.maxSeq, seq)
		} else if seq, ok := parseSeq(name, snapshotPrefix, ""); ok {
			l.snapshots = append(l.snapshots, seq)
			l.maxSeq = max(l.maxSeq, seq)
		}
	}
	slices.Sort(l.snapshots)
	slices.Sort(l.segments)
	return l, nil
}

// frameHeader is the length and checksum before every payload.
const frameHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sealFrame fills in the header reserved at the start of frame for the
// payload that follows it.
func sealFrame(frame []byte) error {
	payload := frame[frameHeader:]
	if len(payload) == 0 || len(payload) > math.MaxUint32 {
		return fmt.Errorf("fsrecovery: a record of %d bytes cannot be framed", len(payload))
	}
	binary.BigEndian.PutUint32(frame[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[4:8], crc32.Checksum(payload, castagnoli))
	return nil
}

var (
	errShort    = errors.New("record cut short")
	errEmpty    = errors.New("zero length")
	errChecksum = errors.New("checksum mismatch")
)

// readFrame returns the payload of the record at off and the offset of
// the next one.
func readFrame(data []byte, off int) (payload []byte, next int, err error) {
	if len(data)-off < frameHeader {
		return nil, off, errShort
	}
	n := int64(binary.BigEndian.Uint32(data[off:]))
	sum := binary.BigEndian.Uint32(data[off+4:])
	switch {
	case n == 0:
		// A zero-filled tail, which some filesystems leave after a
		// crash, would otherwise pass: the CRC of nothing is 0.
		return nil, off, errEmpty
	case n > int64(len(data)-off-frameHeader):
		return nil, off, errShort
	}
	payload = data[off+frameHeader : off+frameHeader+int(n)]
	if crc32.Checksum(payload, castagnoli) != sum {
		return nil, off, errChecksum
	}
	return payload, off + frameHeader + int(n), nil
}

// tailScanBudget bounds the checksum work spent deciding whether a bad
// record is a torn tail. A torn tail is at most one record, which costs
// far less; only a large run of random bytes could exhaust it.
const tailScanBudget = 1 << 30

// validFrameAfter reports whether a valid record starts anywhere after
// off: if one does, the bad record at off is not a torn tail but damage in
// the middle of acknowledged data. exhausted means the search gave up.
func validFrameAfter(data []byte, off int) (at int, found, exhausted bool) {
	budget := tailScanBudget
	for at = off + 1; at+frameHeader < len(data); at++ {
		n := int(binary.BigEndian.Uint32(data[at:]))
		if n == 0 || n > len(data)-at-frameHeader || !mapCode(data[at+frameHeader]) {
			continue
		}
		if budget -= n; budget < 0 {
			return 0, false, true
		}
		if _, _, err := readFrame(data, at); err == nil {
			return at, true, false
		}
	}
	return 0, false, false
}

// mapCode says whether b starts a msgpack map, as every payload does (a
// Batch is encoded as a map): a cheap filter before a checksum.
func mapCode(b byte) bool { return b&0xf0 == 0x80 || b == 0xde || b == 0xdf }

// writeFileAtomic replaces dir/name with data so that a crash leaves the
// old content or the new one, never a mix: a temporary file, fsynced,
// renamed over the name, then an fsync of the directory so that the
// rename itself is durable.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	tmp := filepath.Join(dir, name+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the directory's entries (creations, renames) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
