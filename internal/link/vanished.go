package link

import (
	"errors"
	"io"
	"net"

	"github.com/gorilla/websocket"
)

// Vanished reports whether err is the socket failing under a reader (EOF,
// reset, timeout) rather than a protocol error; its text varies from run
// to run, so the transcript leaves it out.
func Vanished(err error) bool {
	var ne net.Error
	var ce *websocket.CloseError // gorilla's name for a socket that ended mid-stream
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne) ||
		errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure
}
