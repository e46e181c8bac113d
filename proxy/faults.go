package proxy

import (
	"fmt"
	"slices"
	"sync"

	"github.com/wschaos/wschaos/chaos"
)

// FaultInfo is one installed fault, as List and the control API show it.
type FaultInfo struct {
	// ID names the fault for Update and Remove; ids are never reused.
	ID int `json:"id"`
	// Fault is the fault's String(), as transcripts name it.
	Fault string `json:"fault"`
	// Spec is the JSON spec it was built from; nil for faults set in Go.
	Spec *FaultSpec `json:"spec,omitempty"`
	// Note says what the fault acts on when that is less than its name
	// says: a pong fault without heartbeat messages acts on pong control
	// frames only.
	Note string `json:"note,omitempty"`
}

// faultSet is the proxy's live, ordered list of faults. Connections read
// it at each attempt, open and frame, so changes apply from the next one.
type faultSet struct {
	mu   sync.Mutex
	next int
	list []installed
	// frames is list's frame faults, in order, made anew at each change:
	// every relayed message asks for them.
	frames []chaos.FrameFault
}

type installed struct {
	id    int
	fault chaos.Fault
	spec  *FaultSpec
	note  string
}

func newFaultSet() *faultSet { return &faultSet{next: 1} }

// checkCapable rejects a fault the proxy could never call.
func checkCapable(f chaos.Fault) error {
	if f == nil {
		return fmt.Errorf("nil fault")
	}
	_, h := f.(chaos.HandshakeFault)
	_, c := f.(chaos.ConnFault)
	_, fr := f.(chaos.FrameFault)
	if !h && !c && !fr {
		return fmt.Errorf("%v is neither a handshake, connection nor frame fault", f)
	}
	return nil
}

// MaxFaults caps the installed faults: every relayed frame asks each frame
// fault in turn, and at 50,000 faults an echo took 36 ms instead of 0.13.
// A test needs a handful; a script that adds in a loop is stopped here.
const MaxFaults = 1000

// ErrTooManyFaults is why an add fails once MaxFaults are installed.
var ErrTooManyFaults = fmt.Errorf("%d faults are installed, the most a proxy holds: remove some first", MaxFaults)

func (s *faultSet) add(f chaos.Fault, spec *FaultSpec) (int, error) { return s.addNoted(f, spec, "") }

// addNoted is add with the FaultInfo's Note.
func (s *faultSet) addNoted(f chaos.Fault, spec *FaultSpec, note string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) >= MaxFaults {
		return 0, ErrTooManyFaults
	}
	id := s.next
	s.next++
	s.list = append(s.list, installed{id: id, fault: f, spec: spec, note: note})
	s.changed()
	return id, nil
}

// update replaces fault id in place, keeping its position; false if there
// is no such fault.
func (s *faultSet) update(id int, f chaos.Fault, spec *FaultSpec, note string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.list, func(in installed) bool { return in.id == id })
	if i < 0 {
		return false
	}
	s.list[i] = installed{id: id, fault: f, spec: spec, note: note}
	s.changed()
	return true
}

func (s *faultSet) remove(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.list)
	s.list = slices.DeleteFunc(s.list, func(in installed) bool { return in.id == id })
	s.changed()
	return len(s.list) < n
}

func (s *faultSet) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = nil
	s.changed()
}

// changed remakes frames after a change to list; s.mu must be held.
func (s *faultSet) changed() {
	s.frames = nil
	for _, in := range s.list {
		if f, ok := in.fault.(chaos.FrameFault); ok {
			s.frames = append(s.frames, f)
		}
	}
}

// frameFaults returns the installed frame faults, in order. The slice is
// shared: do not change it.
func (s *faultSet) frameFaults() []chaos.FrameFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames
}

func (s *faultSet) infos() []FaultInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FaultInfo, len(s.list))
	for i, in := range s.list {
		out[i] = FaultInfo{ID: in.id, Fault: in.fault.String(), Spec: in.spec, Note: in.note}
	}
	return out
}

// faultsOf returns the installed faults with capability T, in order.
func faultsOf[T chaos.Fault](s *faultSet) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []T
	for _, in := range s.list {
		if t, ok := in.fault.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// ListFaults lists the installed faults in the order they apply.
func (p *Proxy) ListFaults() []FaultInfo { return p.faults.infos() }

// AddFault installs f after the others and returns its id. It is safe
// while the proxy runs; see the package doc for when a change applies.
// Past MaxFaults it fails with ErrTooManyFaults.
func (p *Proxy) AddFault(f chaos.Fault) (int, error) {
	if err := checkCapable(f); err != nil {
		return 0, fmt.Errorf("failed to add fault: %w", err)
	}
	id, err := p.faults.add(f, nil)
	if err != nil {
		return 0, fmt.Errorf("failed to add fault %v: %w", f, err)
	}
	return id, nil
}

// RemoveFault uninstalls fault id; false if there is none.
func (p *Proxy) RemoveFault(id int) bool { return p.faults.remove(id) }

// ResetFaults uninstalls every fault.
func (p *Proxy) ResetFaults() { p.faults.reset() }

// UpdateFault replaces fault id with f, in its place; false if there is
// none. f starts with fresh per-connection state.
func (p *Proxy) UpdateFault(id int, f chaos.Fault) (bool, error) {
	if err := checkCapable(f); err != nil {
		return false, fmt.Errorf("failed to update fault %d: %w", id, err)
	}
	return p.faults.update(id, f, nil, ""), nil
}

// AddFaultSpec builds the fault spec describes and installs it after the
// others, keeping spec for ListFaults. It works before Start too: such
// faults apply before the Faults field's. A fault that cannot act under
// the proxy's Profile (set it first) is refused with an *UnfitError.
func (p *Proxy) AddFaultSpec(spec FaultSpec) (FaultInfo, error) {
	f, note, err := p.buildSpec(spec)
	if err != nil {
		return FaultInfo{}, fmt.Errorf("failed to build fault %q: %w", spec.Fault, err)
	}
	id, err := p.faults.addNoted(f, &spec, note)
	if err != nil {
		return FaultInfo{}, fmt.Errorf("failed to add fault %q: %w", spec.Fault, err)
	}
	return FaultInfo{ID: id, Fault: f.String(), Spec: &spec, Note: note}, nil
}

// buildSpec builds spec for this proxy: refused if it cannot act under
// the proxy's profile, with a note if it acts on less than its name says.
//
// A fault the proxy can never make is refused first, whatever its
// arguments; then a malformed spec (400), then one that is well formed
// but unfit (422).
func (p *Proxy) buildSpec(spec FaultSpec) (chaos.Fault, string, error) {
	if err := checkSessions(spec); err != nil {
		return nil, "", err
	}
	f, err := spec.Build()
	if err != nil {
		return nil, "", err
	}
	if err := checkFit(p.Profile, spec); err != nil {
		return nil, "", err
	}
	return f, fitNote(p.Profile, spec), nil
}
