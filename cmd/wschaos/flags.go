package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/scenarios/library"
)

// parseFlags parses args into fs as every subcommand does. -h and --help
// print the usage on help (stdout): asking for help is not an error, so
// it ends the command with flag.ErrHelp, which main turns into exit 0. A
// bad flag is told in the user's terms, with what was expected, an
// example, and the nearest flag for a misspelt one; the flag package's
// own output is silenced so nothing is said twice.
func parseFlags(fs *flag.FlagSet, args []string, help io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(help)
		fs.Usage()
		return flag.ErrHelp
	}
	return flagError(fs, err)
}

var (
	unknownFlagRe  = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	invalidValueRe = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+(\S+): (.*)$`)
	needsArgRe     = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagError rewrites the flag package's error err, from parsing fs, in
// the user's terms.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	more := fmt.Sprintf("run 'wschaos %s -h' for its flags", fs.Name())
	if m := unknownFlagRe.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		hint := ""
		best := nearest(m[1], names)
		if best == "" {
			best = synonym(m[1], fs)
		}
		if best != "" {
			hint = fmt.Sprintf(" (did you mean --%s?)", best)
		}
		return fmt.Errorf("%s: unknown flag --%s%s; %s", fs.Name(), m[1], hint, more)
	}
	if m := needsArgRe.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s: --%s needs a value%s", fs.Name(), m[1], example(fs.Lookup(m[1])))
	}
	if m := invalidValueRe.FindStringSubmatch(msg); m != nil {
		value, name, why := m[1], m[2], m[3]
		f := fs.Lookup(name)
		if want := wantOf(f); want != "" {
			return fmt.Errorf("%s: --%s %s: %s", fs.Name(), name, value, want)
		}
		if strings.Contains(why, strconv.Quote(value)) {
			return fmt.Errorf("%s: --%s %s", fs.Name(), name, why) // the flag's own error quotes the value
		}
		return fmt.Errorf("%s: --%s %q: %s", fs.Name(), name, value, why)
	}
	return fmt.Errorf("%s: %s; %s", fs.Name(), msg, more)
}

// flagSynonyms are the names one command gives a flag that another
// command spells differently: serve listens on --addr, the proxy on
// --listen, and a user carries one to the other.
var flagSynonyms = map[string][]string{
	"listen": {"addr"},
	"addr":   {"listen"},
	"port":   {"addr", "listen"},
	"bind":   {"addr", "listen"},
}

// synonym is the flag of fs that name means in another command, or "".
func synonym(name string, fs *flag.FlagSet) string {
	for _, s := range flagSynonyms[name] {
		if fs.Lookup(s) != nil {
			return s
		}
	}
	return ""
}

// wantOf says what a typed flag takes, with an example, or "" for a flag
// whose own error says it (a Func or string flag).
func wantOf(f *flag.Flag) string {
	if f == nil {
		return ""
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "want a duration with its unit, e.g. 150ms, 2s or 1m30s"
	case bool:
		return "want true or false, e.g. --" + f.Name + "=false"
	case int, int64:
		return "want a whole number, e.g. 4"
	case uint, uint64:
		return "want a whole number, 0 or more, e.g. 4"
	case float64:
		return "want a number, e.g. 0.25"
	}
	return ""
}

// example is ", e.g. --NAME DEFAULT" when the flag has a default to show.
func example(f *flag.Flag) string {
	if f == nil || f.DefValue == "" || f.DefValue == "[]" {
		return ""
	}
	return fmt.Sprintf(", e.g. --%s %s", f.Name, f.DefValue)
}

// nearest is the known word closest to word, within the edit distance a
// typo makes, or "".
func nearest(word string, known []string) string {
	s := filecodec.DidYouMean(word, known)
	if s == "" {
		return ""
	}
	// DidYouMean words it as ` (did you mean "x"?)`.
	return strings.TrimSuffix(strings.TrimPrefix(s, ` (did you mean "`), `"?)`)
}

// libraryHint is a did-you-mean for a scenario named like a library file
// but misspelt, or "".
func libraryHint(name string) string {
	if strings.ContainsAny(name, `/\`) {
		return ""
	}
	var names []string
	for _, n := range library.Names() {
		names = append(names, strings.TrimSuffix(n, ".txt"))
	}
	return filecodec.DidYouMean(strings.TrimSuffix(name, ".txt"), names)
}
