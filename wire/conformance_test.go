package wire_test

// Conformance tests: a real node is driven over a raw TCP connection with
// bytes built by hand from docs/wire.md, without this package's encoder or
// the msgpack library, and its answers are parsed by a small hand-written
// msgpack reader. TestConformanceDocExamples replays the worked examples of
// the document byte for byte and TestConformanceDocMessageTables checks its
// tables of message types and fields against package api, so the document
// and the code cannot drift apart.

import "time"

// ioTimeout bounds every read and write on a raw connection.
const ioTimeout = 10 * time.Second

// Envelope kinds, handshake labels and type codes, as docs/wire.md gives them.
const (
	kindSend  = 1
	kindAsk   = 2
	kindReply = 3
	kindError = 4

	acceptorLabel = "aloha-acceptor"
	dialerLabel   = "aloha-dialer"

	codeHeartbeat        = 102
	codeAppStatusRequest = 124
	codeAppInfo          = 125
	codeMasterStatusReq  = 130
	codeMasterInfo       = 131
)

const (
	knownAppID   = "app-20190311221731-0001"
	unknownAppID = "app-20190311221731-0000" // the id of the worked example
)

var (
	knownSubmitted = time.Date(2019, 3, 11, 22, 17, 31, 0, time.UTC)
	knownStarted   = time.Date(2019, 3, 11, 22, 17, 31, 500_000_000, time.UTC)
)
