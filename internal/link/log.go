package link

import (
	"fmt"
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
