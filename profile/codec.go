package profile

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Codec turns Messages into text frames and back, for one profile's envelope.
type Codec interface {
	Encode(m Message) ([]byte, error)
	// Decode parses a frame that from sent. It must not keep frame, nor
	// a slice of it, once it returns: the chaos proxy reuses the buffer
	// (encoding/json copies what it keeps, json.RawMessage included).
	Decode(frame []byte, from Side) (Message, error)
}

// ErrEnvelope is wrapped by every Decode error.
var ErrEnvelope = errors.New("bad envelope")

func envelopeErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEnvelope, fmt.Sprintf(format, args...))
}

// codecs are the envelopes a profile file can name (`codec: json`), filled
// at init and only read after.
var codecs = map[string]func() Codec{}

// RegisterCodec makes a codec available to profile files by name. new
// returns a pointer to a zero value of the codec's type; its exported
// fields with `yaml` tags are the parameters a file gives it, and a
// Validate() error method on that pointer checks them. Call it from an
// init function, as this package does for json, json-array and text.
func RegisterCodec(name string, new func() Codec) {
	if _, dup := codecs[name]; dup {
		panic("profile: codec " + name + " registered twice")
	}
	codecs[name] = new
}

// CodecNames lists the registered codecs, sorted.
func CodecNames() []string {
	out := make([]string, 0, len(codecs))
	for k := range codecs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CodecName returns the registered name of c's type, "" if none.
func CodecName(c Codec) string {
	t := reflect.TypeOf(c)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for name, f := range codecs {
		if reflect.TypeOf(f()).Elem() == t {
			return name
		}
	}
	return ""
}
