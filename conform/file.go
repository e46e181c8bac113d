package conform

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/profile"
)

// A File is one scenario file: a header that states the bug and where it
// was reported, then commands, each followed by the output it must produce.
// docs/scenarios.md teaches the format.
//
//	# bug: a half-open socket after the handshake goes unnoticed
//	# report: mattermost PR #30293
//	# profile: mattermost
//	# twin: no-pong-check
//	#
//	# Free text: what happens and why it matters.
//
//	fault black-hole-after 45s
//	----
//
//	start
//	----
//	+0s        #1 dial /ws?connection_id=&sequence_number=0
//	...
//
// "# profile:" names a shipped profile, or a profile file by its path from
// the scenario file's directory (# profile: profiles/my-client.yaml),
// then options (limit=N, frames). "# requires:" names what a client's
// profile must have for the file to apply to it.
//
// A command is one line; "----" ends it; its expected output runs to the
// next blank line. Lines starting with # between commands are comments.
type File struct {
	path   string
	header header
	cmds   []fileCmd
	// lines is the file as read, kept to rewrite the outputs in place.
	lines []string
}

// header is what a script declares about itself.
type header struct {
	bug     string   // the behaviour, named in every failure
	reports []string // public reports of the bug
	profile string   // the profile both sides play: a shipped name, or a file
	options []string // profile options: limit=N, frames
	// profileLine is the line of "# profile:", where its errors are told.
	profileLine int
	seed        uint64
	jitter      string   // "seeded" (default) or "none"
	twins       []string // buggy clients the script must fail on
	twinLine    int      // the line of "# twin:"
	labels      []string
	requires    []string // what the profile must have: see requirements
	// virtualOnly: "# clock: virtual", a file whose timing only a virtual
	// clock can hold (a pong 1 ms before its deadline).
	virtualOnly bool
}

// headerKeys are the keys a header's leading "# key: value" lines may use.
var headerKeys = []string{"bug", "report", "profile", "seed", "jitter", "twin", "labels", "requires", "clock"}

// keyLine reads "key: value" where key is one lower-case word.
func keyLine(line string) (key string, ok bool) {
	k, _, found := strings.Cut(line, ":")
	if !found || k == "" || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz-") != "" {
		return "", false
	}
	return k, true
}

// fileCmd is one command of a scenario file.
type fileCmd struct {
	line int // 1-based line of the fileCmd
	verb string
	args []string
	// want is the expected output; outFrom..outTo are its lines in the
	// file (0-based, half-open), replaced on rewrite.
	want           []string
	outFrom, outTo int
}

func (c fileCmd) String() string { return strings.Join(append([]string{c.verb}, c.args...), " ") }

// scriptError says what is wrong, and where.
type scriptError struct {
	path string
	line int
	msg  string
}

func (e *scriptError) Error() string { return fmt.Sprintf("%s:%d: %s", e.path, e.line, e.msg) }

// LoadFile reads and parses the scenario file at path.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read scenario: %w", err)
	}
	return ParseFile(path, string(b))
}

// ParseFile reads a scenario file's text; path names it in errors, and a
// "# profile:" path starts from its directory. Errors name file and line.
func ParseFile(path, text string) (*File, error) {
	// A file saved with Windows line ends reads as the same file: a line
	// holding only "\r" would not end a command's output.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	s := &File{path: path, lines: strings.Split(strings.TrimRight(text, "\n"), "\n")}
	fail := func(line int, format string, args ...any) error {
		return &scriptError{path: path, line: line, msg: fmt.Sprintf(format, args...)}
	}
	i := 0
	// The header: the leading comment block. Its first lines are keys; the
	// first line that is not one (a bare "#", free text) ends them, and a
	// misspelt key among them is an error, never free text.
	keys := true
	for ; i < len(s.lines) && strings.HasPrefix(s.lines[i], "#"); i++ {
		text := strings.TrimSpace(strings.TrimPrefix(s.lines[i], "#"))
		key, isKey := keyLine(text)
		if keys && isKey && !slices.Contains(headerKeys, key) {
			return nil, fail(i+1, "unknown header key %q%s; known keys: %s", key, filecodec.DidYouMean(key, headerKeys), strings.Join(headerKeys, ", "))
		}
		keys = keys && isKey
		if err := s.header.parse(text, i+1); err != nil {
			return nil, fail(i+1, "%v", err)
		}
	}
	if err := s.header.check(); err != nil {
		line := 1
		if strings.HasPrefix(err.Error(), "unknown twin") || strings.HasPrefix(err.Error(), "twin ") {
			line = s.header.twinLine
		}
		return nil, fail(line, "header: %v", err)
	}
	if s.header.profile != "" {
		if _, err := buildProfile(s.dir(), s.header.profile, s.header.options); err != nil {
			return nil, fail(s.header.profileLine, "%v", err)
		}
	}
	for i < len(s.lines) {
		line := strings.TrimSpace(s.lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			i++
			continue
		}
		c := fileCmd{line: i + 1}
		fields := strings.Fields(line)
		c.verb, c.args = fields[0], fields[1:]
		if _, ok := verbs[c.verb]; !ok {
			return nil, fail(c.line, "unknown command %q (known: %s)", c.verb, knownVerbs())
		}
		if err := validate(c); err != nil {
			return nil, fail(c.line, "%v", err)
		}
		i++
		if i >= len(s.lines) || strings.TrimSpace(s.lines[i]) != "----" {
			return nil, fail(c.line, "command %q must be followed by a line \"----\"", c.verb)
		}
		i++
		c.outFrom = i
		for i < len(s.lines) && s.lines[i] != "" {
			// A command where its output is expected: the blank line that
			// ends the output was left out, and -rewrite would delete it.
			if f := strings.Fields(s.lines[i]); len(f) > 0 && verbs[f[0]] != nil {
				return nil, fail(i+1, "%q stands where the output of %q (line %d) is expected: put a blank line before it",
					strings.TrimSpace(s.lines[i]), c.verb, c.line)
			}
			c.want = append(c.want, s.lines[i])
			i++
		}
		c.outTo = i
		s.cmds = append(s.cmds, c)
	}
	if len(s.cmds) == 0 {
		return nil, fail(len(s.lines), "no commands")
	}
	return s, nil
}

// dir is the scenario file's directory, where a "# profile:" path starts.
func (s *File) dir() string { return filepath.Dir(s.path) }

func (h *header) parse(line string, lineNo int) error {
	key, value, ok := strings.Cut(line, ":")
	if !ok || strings.ContainsAny(key, " \t") {
		return nil // free text
	}
	value = strings.TrimSpace(value)
	switch key {
	case "bug":
		h.bug = value
	case "report":
		if value == "" {
			return fmt.Errorf("report: cite where the bug was reported (an issue, a pull request, a post)")
		}
		h.reports = append(h.reports, value)
	case "profile":
		fields := strings.Fields(value)
		if len(fields) == 0 {
			return fmt.Errorf("profile: name a profile")
		}
		h.profile, h.options, h.profileLine = fields[0], fields[1:], lineNo
	case "seed":
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return fmt.Errorf("seed %q is not a non-negative integer", value)
		}
		h.seed = n
	case "jitter":
		if value != "seeded" && value != "none" {
			return fmt.Errorf(`jitter %q: want "seeded" or "none"`, value)
		}
		h.jitter = value
	case "twin":
		h.twinLine = lineNo
		for _, t := range strings.Split(value, ",") {
			if t = strings.TrimSpace(t); t != "" {
				h.twins = append(h.twins, t)
			}
		}
	case "labels":
		h.labels = append(h.labels, strings.Fields(value)...)
	case "clock":
		if value != "virtual" && value != "any" {
			return fmt.Errorf(`clock %q: want "virtual" (a timing only a virtual clock can hold) or "any"`, value)
		}
		h.virtualOnly = value == "virtual"
	case "requires":
		for _, r := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' }) {
			if _, ok := requirements[r]; !ok {
				return fmt.Errorf("requires %q: unknown (known: %s)%s", r, strings.Join(requirementNames(), ", "), filecodec.DidYouMean(r, requirementNames()))
			}
			h.requires = append(h.requires, r)
		}
	}
	return nil
}

// check reports what the header lacks. A file of the library must also
// cite a report and name a twin (the library's test holds it to that); a
// team's own file need only say what it checks.
func (h *header) check() error {
	if h.bug == "" {
		return fmt.Errorf(`no "# bug:" line naming the behaviour`)
	}
	for _, t := range h.twins {
		name, under, scoped := strings.Cut(t, "@")
		if _, ok := twins[name]; !ok {
			return fmt.Errorf("unknown twin %q (known: %s)", name, strings.Join(twinNames(), ", "))
		}
		if scoped && (h.profile != "" || profile.ByName(under) == nil) {
			return fmt.Errorf("twin %s: @PROFILE scopes a twin of a file for every profile to a shipped profile (one of %s)", t, strings.Join(profile.Names(), ", "))
		}
	}
	return nil
}

// rewritten returns the file with each command's output replaced by got.
func (s *File) rewritten(got [][]string) string {
	var out []string
	prev := 0
	for i, c := range s.cmds {
		out = append(out, s.lines[prev:c.outFrom]...)
		out = append(out, got[i]...)
		prev = c.outTo
	}
	out = append(out, s.lines[prev:]...)
	return strings.Join(out, "\n") + "\n"
}

// diff shows want against got line by line: "-" expected only, "+"
// observed only, " " both (a longest-common-subsequence alignment).
func diff(want, got []string) string {
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	b.WriteString("  expected (-) / observed (+):\n")
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString("      " + want[i] + "\n")
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			b.WriteString("    + " + got[j] + "\n")
			j++
		default:
			b.WriteString("    - " + want[i] + "\n")
			i++
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// validate checks what can be checked of a command before anything runs.
func validate(c fileCmd) error {
	switch c.verb {
	case "fault":
		_, err := parseFault(profileWords(c.args, nil))
		return err
	case "await":
		return validateAwait(c.args)
	case "check":
		if len(c.args) == 0 {
			return fmt.Errorf("check what? (known: %s)", strings.Join(sortedStrings(checkNames()), ", "))
		}
		if _, ok := checks[c.args[0]]; !ok {
			return fmt.Errorf("unknown check %q (known: %s)", c.args[0], strings.Join(sortedStrings(checkNames()), ", "))
		}
	case "step", "start", "close", "reconnect":
		if len(c.args) != 0 {
			return fmt.Errorf("%s takes no arguments", c.verb)
		}
	case "send":
		ids := 0
		for _, a := range c.args {
			k, v, isKV := strings.Cut(a, "=")
			switch {
			case !isKV:
				ids++
			case k == "fill" && v == "queue":
				ids++
			case k == "type" && v != "":
			case k == "when" && v == StateConnected:
			case k == "when":
				return fmt.Errorf("send: when=%q: the one state a send can wait for is when=connected", v)
			default:
				return fmt.Errorf("send: unknown option %q (known: type=T, when=connected, fill=queue)", a)
			}
		}
		if ids == 0 {
			return fmt.Errorf("send: name at least one message id")
		}
	case "emit":
		var span []string
		for _, a := range c.args {
			if k, _, isKV := strings.Cut(a, "="); isKV && k != "type" {
				return fmt.Errorf("emit: unknown option %q (known: type=T)", a)
			} else if !isKV {
				span = append(span, a)
			}
		}
		if len(span) != 1 {
			return fmt.Errorf("emit: want one number or range like 1-5, and type=T if not posted")
		}
		_, _, err := numberRange(span[0])
		return err
	case "cut":
		_, err := parseCut(c.args)
		return err
	}
	return nil
}
