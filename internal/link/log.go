package link

import (
	"fmt"
	"io"
	"log"
	"log/slog"

	"github.com/wschaos/wschaos/transcript"
)

// Log writes entries to logger at debug level; a nil logger is silent.
func Log(logger *slog.Logger, es []transcript.Entry) {
	if logger == nil {
		return
	}
	for _, e := range es {
		logger.Debug(e.String())
	}
}

// Logf reports to logger what the transcript leaves out (raw network
// errors, whose text varies from run to run); a nil logger is silent.
func Logf(logger *slog.Logger, attempt int, format string, args ...any) {
	if logger != nil {
		logger.Debug(fmt.Sprintf(format, args...), "attempt", attempt)
	}
}

// ErrorLog is net/http's error log for a server that logs to logger: its
// errors (a TLS handshake that failed, a bad request) at debug level, or
// nowhere when logger is nil.
func ErrorLog(logger *slog.Logger) *log.Logger {
	if logger == nil {
		return log.New(io.Discard, "", 0)
	}
	return slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
}
