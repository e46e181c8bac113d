package proxy

import (
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// frameReader reads one side's WebSocket frames straight off its socket.
// It checks what gorilla's reader checks, with gorilla's error values and
// texts, so the transcript reads the same; what it adds is the frame as it
// came: a message that arrived in one frame is relayed as those very bytes,
// without being unmasked, copied out, framed and masked again.
type frameReader struct {
	r io.Reader
	// masked is whether the frames must be masked: those of a client.
	masked bool
	limit  int64

	buf        []byte // buf[start:end] is read and not yet parsed
	start, end int
	// small is the reader's read buffer, relayReadBuffer long; buf is
	// small but for a bigger one made for leftover bytes that did not fit.
	small []byte

	// The data message whose frames are arriving (fragmented), if any,
	// unmasked into msgData. For a text message, msgData[:validated] is
	// checked UTF-8; badText is set once it is not. msgData is also where
	// a masked message in one frame is unmasked. Its array, msgHeld, is
	// borrowed from messageBuffers for the message and given back at the
	// next call: a message's data is read into no new slice, and a reader
	// between messages holds none.
	inMessage bool
	msgOp     int
	msgData   []byte
	msgHeld   *[]byte
	validated int
	badText   bool

	// A data frame with more than maxWholeFrame bytes of payload comes in
	// pieces, as its bytes arrive, rather than once whole: pieceLeft bytes
	// of its payload are still to come, pieceDone have come. pieceKey is
	// its mask, pieceFin its FIN bit, and pieceFirst marks that its next
	// piece is the first of its message.
	pieceLeft  int64
	pieceDone  int
	pieceKey   [4]byte
	pieceFin   bool
	pieceFirst bool
}

// maxWholeFrame is the largest data frame a reader waits for whole: a
// bigger one comes in pieces, as its bytes arrive, so it goes on without
// waiting for its end, and the read buffer never grows for it. Half the
// read buffer, so a frame it waits for always fits.
const maxWholeFrame = relayReadBuffer / 2

// message is what one next call returns: a data message, a control
// frame, or a fragment of a data message that is still arriving.
type message struct {
	op int
	// data is the payload, unmasked: the caller's to keep for a control
	// frame, valid until the next call for a data message. None for a
	// fragment.
	data []byte
	// raw is the data frame as it came, header and mask included: the whole
	// message when it came in one frame, else this fragment (the last one
	// for the whole message). A frame over maxWholeFrame comes in pieces:
	// raw is then this piece, the first with the frame's header. It is
	// valid until the next call.
	raw []byte
	// fragment marks a frame, or a piece of one, of a message that is not
	// whole yet; first marks its first, and badText a text message whose
	// bytes so far are not UTF-8. partial marks a piece that is not the
	// end of its frame: whoever relays it must relay the rest of the frame
	// before anything else, or the peer reads what follows as more of it.
	fragment, first, badText, partial bool
	// fragmented marks a whole message that came in fragments or pieces.
	fragmented bool
}

const (
	finBit  = 0x80
	rsvBits = 0x70
	maskBit = 0x80
	opMask  = 0x0f

	opContinuation = 0
	// maxControlPayload is the longest payload RFC 6455 allows a control
	// frame (5.5).
	maxControlPayload = 125
)

// errUnexpectedEOF is what gorilla returns when the socket ends, between
// frames or within one.
var errUnexpectedEOF = &websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}

// protocolError is a frame that breaks RFC 6455; the caller closes the
// sender's side with 1002 and the error's text.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "websocket: " + e.msg }

func newFrameReader(r io.Reader, masked bool, limit int64, leftover []byte) *frameReader {
	fr := &frameReader{r: r, masked: masked, limit: limit, small: make([]byte, relayReadBuffer)}
	fr.buf = fr.small
	if len(leftover) > len(fr.small) {
		fr.buf = make([]byte, len(leftover))
	}
	fr.end = copy(fr.buf, leftover)
	return fr
}

// next returns what the next frame brings: a control frame, a data
// message in one frame, a fragment of one still arriving, or the last
// fragment with the whole message. Control frames between fragments come
// as they arrived.
func (fr *frameReader) next() (message, error) {
	fr.release()
	if fr.pieceLeft > 0 {
		return fr.piece(0)
	}
	if err := fr.fill(2); err != nil {
		return message{}, err
	}
	b0, b1 := fr.buf[fr.start], fr.buf[fr.start+1]
	op, fin := int(b0&opMask), b0&finBit != 0
	if err := fr.check(b0, b1); err != nil {
		return message{}, err
	}
	head := 2
	switch b1 & 0x7f {
	case 126:
		head += 2
	case 127:
		head += 8
	}
	if b1&maskBit != 0 {
		head += 4
	}
	if err := fr.fill(head); err != nil {
		return message{}, err
	}
	h := fr.buf[fr.start : fr.start+head]
	size := int64(b1 & 0x7f)
	switch size {
	case 126:
		size = int64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		u := binary.BigEndian.Uint64(h[2:])
		if u > 1<<63-1 {
			return message{}, websocket.ErrReadLimit // gorilla refuses it in silence
		}
		size = int64(u)
	}
	isData := op == websocket.TextMessage || op == websocket.BinaryMessage || op == opContinuation
	var sofar int64 // of the message, before this frame
	if op == opContinuation {
		sofar = int64(len(fr.msgData))
	}
	if isData && fr.limit > 0 && sofar+size > fr.limit {
		return message{}, websocket.ErrReadLimit
	}
	first := op != opContinuation
	if isData && size > maxWholeFrame {
		if first {
			fr.startMessage(op)
		}
		fr.pieceLeft, fr.pieceDone, fr.pieceFin, fr.pieceFirst = size, 0, fin, first
		if fr.masked {
			copy(fr.pieceKey[:], h[head-4:head])
		}
		return fr.piece(head)
	}
	if err := fr.fill(head + int(size)); err != nil {
		return message{}, err
	}
	raw := fr.buf[fr.start : fr.start+head+int(size)]
	fr.start += len(raw)
	var key []byte
	if fr.masked {
		key = raw[head-4 : head]
	}
	payload := raw[head:]

	if !isData {
		data := unmask(make([]byte, len(payload)), payload, key)
		if op == websocket.CloseMessage {
			if err := closeError(data); err != nil {
				return message{}, err
			}
		}
		return message{op: op, data: data}, nil
	}
	if first {
		fr.startMessage(op)
	}
	if first && fin {
		fr.inMessage = false
		if key == nil {
			return message{op: op, data: payload, raw: raw}, nil // as it lies in the read buffer
		}
		fr.appendData(payload, key)
		return message{op: op, data: fr.msgData, raw: raw}, nil
	}
	fr.appendData(payload, key)
	fr.validate(fin)
	if !fin {
		return message{op: fr.msgOp, raw: raw, fragment: true, first: first, badText: fr.badText}, nil
	}
	fr.inMessage = false
	return message{op: fr.msgOp, data: fr.msgData, raw: raw, fragmented: true}, nil
}

// startMessage begins a data message of op.
func (fr *frameReader) startMessage(op int) {
	fr.inMessage, fr.msgOp = true, op
	fr.msgData, fr.validated, fr.badText = fr.msgData[:0], 0, false
}

// piece returns what has come of a frame that comes in pieces, header
// bytes first (the header of a frame's first piece), and at least one byte
// of its payload, waiting for one if none has come. Its last piece
// returns the whole message when the frame ends it: as a message in one
// frame, raw being the frame, when the frame came in one piece.
func (fr *frameReader) piece(head int) (message, error) {
	if err := fr.fill(head + 1); err != nil {
		return message{}, err
	}
	n := int(min(fr.pieceLeft, int64(fr.end-fr.start-head)))
	raw := fr.buf[fr.start : fr.start+head+n]
	fr.start += len(raw)
	var key []byte
	if fr.masked {
		var k [4]byte // the mask as it lines up with this piece
		for i := range k {
			k[i] = fr.pieceKey[(fr.pieceDone+i)&3]
		}
		key = k[:]
	}
	fr.appendData(raw[head:], key)
	fr.pieceDone += n
	fr.pieceLeft -= int64(n)
	frameDone := fr.pieceLeft == 0
	first := fr.pieceFirst
	fr.pieceFirst = false
	fr.validate(frameDone && fr.pieceFin)
	if frameDone && fr.pieceFin {
		fr.inMessage = false
		return message{op: fr.msgOp, data: fr.msgData, raw: raw, fragmented: !first}, nil
	}
	return message{op: fr.msgOp, raw: raw, fragment: true, first: first, badText: fr.badText, partial: !frameDone}, nil
}

// appendData appends payload, unmasked, to msgData, in an array borrowed
// for the message.
func (fr *frameReader) appendData(payload, key []byte) {
	if fr.msgHeld == nil {
		fr.msgHeld = messageBuffers.get()
		fr.msgData = *fr.msgHeld
	}
	n := len(fr.msgData)
	fr.msgData = slices.Grow(fr.msgData, len(payload))[:n+len(payload)]
	unmask(fr.msgData[n:], payload, key)
}

// validate checks the text message's bytes so far for UTF-8, up to a rune
// the next fragment may complete (all of them at the last fragment).
func (fr *frameReader) validate(last bool) {
	if fr.msgOp != websocket.TextMessage || fr.badText {
		return
	}
	cut := len(fr.msgData)
	if !last {
		for i := cut - 1; i >= max(fr.validated, cut-utf8.UTFMax+1); i-- {
			if utf8.RuneStart(fr.msgData[i]) {
				if !utf8.FullRune(fr.msgData[i:cut]) {
					cut = i
				}
				break
			}
		}
	}
	fr.badText = !utf8.Valid(fr.msgData[fr.validated:cut])
	fr.validated = cut
}

// check is gorilla's check of a frame's first two bytes: every problem
// found, in its words.
func (fr *frameReader) check(b0, b1 byte) error {
	var problems []string
	for i, bit := range []byte{0x40, 0x20, 0x10} {
		if b0&bit != 0 {
			problems = append(problems, "RSV"+strconv.Itoa(i+1)+" set")
		}
	}
	fin := b0&finBit != 0
	switch op := int(b0 & opMask); op {
	case websocket.CloseMessage, websocket.PingMessage, websocket.PongMessage:
		if b1&0x7f > maxControlPayload {
			problems = append(problems, "len > 125 for control")
		}
		if !fin {
			problems = append(problems, "FIN not set on control")
		}
	case websocket.TextMessage, websocket.BinaryMessage:
		if fr.inMessage {
			problems = append(problems, "data before FIN")
		}
	case opContinuation:
		if !fr.inMessage {
			problems = append(problems, "continuation after FIN")
		}
	default:
		problems = append(problems, "bad opcode "+strconv.Itoa(op))
	}
	if (b1&maskBit != 0) != fr.masked {
		problems = append(problems, "bad MASK")
	}
	if len(problems) > 0 {
		return &protocolError{strings.Join(problems, ", ")}
	}
	return nil
}

// closeError is what a close frame's payload means: the close, or a
// protocol error when its code or reason is not one a peer may send.
func closeError(payload []byte) error {
	if len(payload) < 2 {
		return &websocket.CloseError{Code: websocket.CloseNoStatusReceived}
	}
	code := int(binary.BigEndian.Uint16(payload))
	if !validReceivedCloseCode(code) {
		return &protocolError{"bad close code " + strconv.Itoa(code)}
	}
	text := string(payload[2:])
	if !utf8.ValidString(text) {
		return &protocolError{"invalid utf8 payload in close frame"}
	}
	return &websocket.CloseError{Code: code, Text: text}
}

// validReceivedCloseCode reports whether a peer may send code in a close
// frame: the codes gorilla accepts (RFC 6455 7.4.1 and the IANA registry,
// less those only an endpoint may report), and 3000-4999.
func validReceivedCloseCode(code int) bool {
	switch code {
	case websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseProtocolError,
		websocket.CloseUnsupportedData, websocket.CloseInvalidFramePayloadData,
		websocket.ClosePolicyViolation, websocket.CloseMessageTooBig,
		websocket.CloseMandatoryExtension, websocket.CloseInternalServerErr,
		websocket.CloseServiceRestart, websocket.CloseTryAgainLater:
		return true
	}
	return code >= 3000 && code <= 4999
}

// fill reads until buf[start:] holds n bytes. The socket ending first is
// errUnexpectedEOF.
func (fr *frameReader) fill(n int) error {
	for fr.end-fr.start < n {
		if fr.start > 0 && len(fr.buf)-fr.end < relayReadBuffer/2 {
			// Move what is left to the front, so the read below can bring
			// a full buffer's worth: a read into the last few bytes of the
			// buffer would cost a system call (and a flush) for little.
			fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
			fr.start = 0
		}
		if fr.end == len(fr.buf) {
			// Not reached: what a reader waits for (a header, a control
			// frame, a frame up to maxWholeFrame) fits in the buffer once
			// moved to its front. Growing beats reading nothing forever.
			grown := make([]byte, n+relayReadBuffer)
			fr.end = copy(grown, fr.buf[fr.start:fr.end])
			fr.start, fr.buf = 0, grown
		}
		k, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += k
		if fr.end-fr.start >= n {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// release gives back the last message's array, unless that message is
// still arriving, and goes back to the small read buffer once what is
// left to parse fits in it.
func (fr *frameReader) release() {
	if !fr.inMessage && fr.msgHeld != nil {
		*fr.msgHeld = fr.msgData
		messageBuffers.put(fr.msgHeld)
		fr.msgData, fr.msgHeld = nil, nil
	}
	if &fr.buf[0] == &fr.small[0] || fr.end-fr.start > len(fr.small) {
		return
	}
	fr.end = copy(fr.small, fr.buf[fr.start:fr.end])
	fr.start = 0
	fr.buf = fr.small
}

// discard reads and drops everything until the socket ends, and returns
// how it ended (io.EOF for a clean end).
func (fr *frameReader) discard() error {
	fr.start, fr.end = 0, 0
	_, err := io.Copy(io.Discard, fr.r)
	if err == nil {
		err = io.EOF
	}
	return err
}

// unmask copies src to dst, XORed with key when there is one, and returns
// dst; dst and src may be the same.
func unmask(dst, src, key []byte) []byte {
	copy(dst, src)
	if key == nil {
		return dst
	}
	k := binary.LittleEndian.Uint32(key)
	k8 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(dst[i:])^k8)
	}
	for ; i < len(dst); i++ {
		dst[i] ^= key[i&3]
	}
	return dst
}
