package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wschaos/wschaos/chaos"
	"github.com/wschaos/wschaos/profile"
	"github.com/wschaos/wschaos/timeline"
	"github.com/wschaos/wschaos/transcript"
)

// serveOut is what serve says, as a timeline for a person or, with
// --json, as one JSON object per line for a program: the same events
// either way.
type serveOut struct {
	w      io.Writer
	json   bool
	stderr io.Writer // --json: the banner, for the person who started it
}

// ms is a duration in whole milliseconds, the unit of every time in the
// JSON lines.
func ms(d time.Duration) int64 { return d.Round(time.Millisecond).Milliseconds() }

// emit writes one JSON line, "event" first so a reader sees at once what
// the line is, then fields in alphabetical order.
func (o *serveOut) emit(event string, fields map[string]any) {
	b, _ := json.Marshal(fields) // plain maps of strings and numbers
	head := fmt.Sprintf(`{"event":%q`, event)
	if len(b) > 2 {
		head += ","
	}
	o.w.Write(append(append([]byte(head), b[1:]...), '\n'))
}

func (o *serveOut) start(url string, p *profile.Profile, seed uint64, faults []chaos.Fault, tol time.Duration) {
	banner := o.w
	if o.json {
		names := make([]string, 0, len(faults))
		for _, f := range faults {
			names = append(names, fmt.Sprint(f))
		}
		o.emit("start", map[string]any{"url": url, "profile": p.Name, "seed": seed,
			"faults": names, "tolerance_ms": ms(tol)})
		banner = o.stderr
	}
	fmt.Fprintf(banner, "wschaos serve: %s (profile %s, seed %d)\n", url, p.Name, seed)
	fmt.Fprintf(banner, "wschaos serve: profile %s: %s\n", p.Name, p.WireFormat())
	for _, f := range faults {
		fmt.Fprintf(banner, "wschaos serve: fault %s\n", f)
	}
	apart := "add ?" + timeline.ClientParam + "=NAME to each client's URL to run several at once"
	if p.Resume != nil && p.Resume.IDParam != "" {
		apart = "several clients are told apart by their " + p.Resume.IDParam
	}
	fmt.Fprintf(banner, "wschaos serve: judging reconnect waits within ±%v, each client on its own schedule (%s); times since the first dial; Ctrl-C to stop\n", tol, apart)
}

func (o *serveOut) warn(text string) {
	if o.json {
		o.emit("warning", map[string]any{"text": text})
		return
	}
	fmt.Fprintf(o.w, "wschaos serve: WARNING: %s\n", text)
}

func (o *serveOut) entry(e transcript.Entry) {
	if o.json {
		o.emit("entry", map[string]any{"at_ms": ms(e.At), "attempt": e.Attempt, "kind": string(e.Kind), "line": e.String()})
		return
	}
	fmt.Fprintln(o.w, e.String())
}

func (o *serveOut) verdict(v timeline.Verdict) {
	if !o.json {
		fmt.Fprintf(o.w, "%-10s    ↳ %s\n", "", v)
		return
	}
	m := map[string]any{"attempt": v.Attempt, "failure": v.Failure, "waited_ms": ms(v.Waited), "line": v.String()}
	if v.Client != "" {
		m["client"] = v.Client
	}
	switch {
	case v.Unjudged != "":
		m["verdict"], m["why"] = "not judged", v.Unjudged
	case v.Wrong():
		m["verdict"] = "wrong"
	default:
		m["verdict"] = "ok"
	}
	if v.Unjudged == "" && !v.GaveUp && v.Fatal == 0 {
		m["min_ms"], m["max_ms"] = ms(v.Min), ms(v.Max)
	}
	o.emit("verdict", m)
}

func (o *serveOut) lost(n int) {
	if o.json {
		o.emit("lost", map[string]any{"entries": n})
		return
	}
	fmt.Fprintf(o.w, "wschaos serve: %d entries let go before they were printed (--keep)\n", n)
}

func (o *serveOut) summary(s *summary, d *dropReport) {
	if !o.json {
		fmt.Fprintf(o.w, "wschaos serve: %s%s\n", s.String(), d.summary())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o.emit("summary", map[string]any{"attempts": s.attempts, "opened": s.opens,
		"ok": s.ok, "wrong": s.bad, "not_judged": s.unjudged, "not_printed": d.total})
}

// serveTranscript writes serve's timeline entries to --transcript as they
// are recorded, a line each as the timeline shows them. Its pin keeps
// every entry until it is written: the server waits for the file rather
// than lose one.
type serveTranscript struct {
	f      *os.File
	w      *bufio.Writer
	stderr io.Writer
	pin    *transcript.Pin
	face   clockFace
	seen   int   // entries written
	err    error // the first failed write: no more are tried
}

// run writes entries until ctx ends.
func (tf *serveTranscript) run(ctx context.Context) {
	for tf.err == nil {
		es, err := tf.pin.Next(ctx)
		if err != nil {
			return
		}
		tf.write(es)
	}
}

// write writes es; a failure is told on stderr, once, and releases the
// pin: the server no longer waits for a file that takes no more.
func (tf *serveTranscript) write(es []transcript.Entry) {
	if tf.err != nil {
		return
	}
	for _, e := range es {
		if idleEmit(e) {
			continue
		}
		tf.w.WriteString(tf.face.show(e).String())
		tf.w.WriteByte('\n')
		tf.seen++
	}
	if err := tf.w.Flush(); err != nil {
		tf.err = err
		tf.pin.Release()
		fmt.Fprintf(tf.stderr, "wschaos serve: transcript not written after entry %d: %v\n", tf.seen, err)
	}
}

// close closes the file, and says whether every entry reached it.
func (tf *serveTranscript) close(path string) error {
	err := tf.f.Close()
	if tf.err != nil {
		err = tf.err
	}
	if err != nil {
		return fmt.Errorf("serve: --transcript %s: %w", path, err)
	}
	return nil
}
