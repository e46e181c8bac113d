package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/wschaos/wschaos/internal/filecodec"
	"github.com/wschaos/wschaos/proxy"
)

// The tables ctl prints: aligned columns, durations rounded to what a
// person reads (1.23s, not 1.234567891s).

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func showStatus(w io.Writer, name string, enabled bool, st proxy.Status) {
	off := ""
	if !enabled {
		off = " (disabled: it resets every client until 'wschaos ctl enable')"
	}
	fmt.Fprintf(w, "proxy %s: %s, %d open%s\n", name, count(st.Attempts, "attempt"), st.Open, off)
	if len(st.Connections) == 0 {
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ATTEMPT\tSTATE\tOPENED\tOPEN FOR\tCLIENT→UPSTREAM\tUPSTREAM→CLIENT\tURL")
	for _, c := range st.Connections {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Attempt, c.State,
			roundDuration(time.Duration(c.OpenedAt)), roundDuration(time.Duration(c.OpenFor)),
			dirCell(c.ClientToUpstream), dirCell(c.UpstreamToClient), c.URL)
	}
	tw.Flush()
}

// dirCell is one direction's counters in words: "5 frames, 2 dropped".
func dirCell(d proxy.DirStatus) string { return count(int(d.Frames), "frame") + losses(d) }

// losses is what became of a direction's frames other than their
// delivery, in words: ", 2 dropped, 1 delayed", or "".
func losses(d proxy.DirStatus) string {
	s := ""
	if d.Dropped > 0 {
		s += fmt.Sprintf(", %d dropped", d.Dropped)
	}
	if d.Delayed > 0 {
		s += fmt.Sprintf(", %d delayed", d.Delayed)
	}
	return s
}

// roundDuration keeps about three significant digits: milliseconds under
// a second, hundredths under a minute, seconds beyond.
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		d = d.Round(time.Millisecond)
	case d < time.Minute:
		d = d.Round(10 * time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	return filecodec.FormatDuration(d)
}

func showFaults(w io.Writer, name string, faults []proxy.FaultInfo) {
	if len(faults) == 0 {
		fmt.Fprintf(w, "proxy %s: no faults\n", name)
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tFAULT")
	for _, f := range faults {
		fmt.Fprintf(tw, "%d\t%s\n", f.ID, f.Fault)
	}
	tw.Flush()
}

func showProxies(w io.Writer, list []proxy.ProxyInfo) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no proxies")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tLISTEN\tUPSTREAM\tPROFILE\tSTATE\tFAULTS\tOPEN\tATTEMPTS")
	for _, p := range list {
		state := "enabled"
		if !p.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", p.Name, p.Listen, p.Upstream, orDash(p.Profile), state,
			len(p.Faults), p.Open, p.Attempts)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
