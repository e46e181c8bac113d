package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/wschaos/wschaos/chaos"
)

// maxSpecBytes bounds a control request body: a fault spec is a few
// hundred bytes, and the proxy must keep serving whatever it is sent.
const maxSpecBytes = 64 << 10

// APIError is the body of every control API error: what is wrong, and
// which part of the request ("fault", "args[0]", "select.dir", "id",
// "body") when one is to blame.
type APIError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// FaultList is the body of GET /faults.
type FaultList struct {
	Faults []FaultInfo `json:"faults"`
}

// ControlHandler is the control API, for a test to mount or for
// ControlAddr:
//
//	GET    /faults       200 FaultList
//	POST   /faults       FaultSpec → 201 FaultInfo (added last)
//	PUT    /faults/{id}  FaultSpec → 200 FaultInfo (replaced in place)
//	DELETE /faults/{id}  204
//	POST   /reset        204 (every fault removed)
//	GET    /status       200 Status
//	POST   /cut          CutSpec → 200 CutResult (the connections open now)
//	POST   /disable      204 (Disable)
//	POST   /enable       204 (Enable)
//
// Bad input is answered 400 (404 for an unknown id, 413 for a body over
// maxSpecBytes, 408 for one not sent within the read timeout, 409 past
// MaxFaults, 422 for a fault that cannot act under the proxy's profile)
// with an APIError naming the field; the proxy keeps serving. Before any
// of it the guard refuses a foreign Origin or Host (403), a missing
// ControlToken (401) and a write that is not application/json (415).
// A Set serves the same endpoints for each of its proxies.
func (p *Proxy) ControlHandler() http.Handler {
	return p.guard(cleanPaths(p.api()))
}

// api is the control API of this one proxy, unguarded: ControlHandler
// guards it, and a Set mounts it under /proxies/{name}. It is made once.
func (p *Proxy) api() *http.ServeMux {
	p.apiOnce.Do(func() { p.apiMux = p.newAPI() })
	return p.apiMux
}

func (p *Proxy) newAPI() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, FaultList{Faults: p.ListFaults()})
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		spec, f, note, ok := p.readSpec(w, r)
		if !ok {
			return
		}
		id, err := p.faults.addNoted(f, spec, note)
		if err != nil {
			writeError(w, http.StatusConflict, "", err.Error()+" (DELETE /faults/{id} or POST /reset)")
			return
		}
		writeJSON(w, http.StatusCreated, FaultInfo{ID: id, Fault: f.String(), Spec: spec, Note: note})
	})
	mux.HandleFunc("PUT /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		spec, f, note, ok := p.readSpec(w, r)
		if !ok {
			return
		}
		if !p.faults.update(id, f, spec, note) {
			writeError(w, http.StatusNotFound, "id", fmt.Sprintf("no fault with id %d", id))
			return
		}
		writeJSON(w, http.StatusOK, FaultInfo{ID: id, Fault: f.String(), Spec: spec, Note: note})
	})
	mux.HandleFunc("DELETE /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		if !p.faults.remove(id) {
			writeError(w, http.StatusNotFound, "id", fmt.Sprintf("no fault with id %d", id))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		p.faults.reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, p.Status())
	})
	mux.HandleFunc("POST /cut", func(w http.ResponseWriter, r *http.Request) {
		var spec CutSpec
		if !readBody(w, r, &spec) {
			return
		}
		res, err := p.Cut(spec)
		if err != nil {
			writeSpecError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST /disable", func(w http.ResponseWriter, _ *http.Request) {
		p.Disable()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /enable", func(w http.ResponseWriter, _ *http.Request) {
		p.Enable()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/", noEndpoint)
	return mux
}

// cleanPaths answers a path ServeMux would clean ("/faults/../status",
// "//faults") or "*" as no endpoint: ServeMux answers the first with a
// redirect and the second with a bare 400, neither an answer the API
// promises, and no endpoint is written so.
func cleanPaths(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/") || r.URL.Path != path.Clean(r.URL.Path) {
			noEndpoint(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func noEndpoint(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "", fmt.Sprintf("no endpoint %.10s %.100q (known: GET/POST /faults, PUT/DELETE /faults/{id}, POST /reset, GET /status, POST /cut, POST /disable, POST /enable; a proxy set adds GET/POST /proxies, GET/DELETE /proxies/{name}, and each of those under /proxies/{name})", r.Method, r.URL.Path))
}

// readSpec reads and builds the fault spec in r's body for this proxy,
// answering the error itself when it is bad or cannot act here.
func (p *Proxy) readSpec(w http.ResponseWriter, r *http.Request) (*FaultSpec, chaos.Fault, string, bool) {
	var spec FaultSpec
	if !readBody(w, r, &spec) {
		return nil, nil, "", false
	}
	f, note, err := p.buildSpec(spec)
	if err != nil {
		writeSpecError(w, err)
		return nil, nil, "", false
	}
	return &spec, f, note, true
}

// readBody reads r's JSON body into v, answering the error itself when
// it is too big, late or not v's JSON.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSpecBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "body", fmt.Sprintf("over %d bytes: a request is a few hundred", maxSpecBytes))
		return false
	case errors.Is(err, os.ErrDeadlineExceeded):
		writeError(w, http.StatusRequestTimeout, "body", "not sent within the read timeout")
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, "body", fmt.Sprintf("cannot read the body: %v", err))
		return false
	}
	if err := decodeStrict(body, v); err != nil {
		writeSpecError(w, err)
		return false
	}
	return true
}

// decodeStrict reads JSON into v: an unknown key is an error, not a
// request silently widened.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

func writeSpecError(w http.ResponseWriter, err error) {
	var se *SpecError
	var ue *UnfitError
	if errors.As(err, &ue) {
		writeError(w, ue.StatusCode(), ue.Field, ue.Msg)
		return
	}
	if errors.As(err, &se) {
		writeError(w, http.StatusBadRequest, se.Field, se.Error())
		return
	}
	writeError(w, http.StatusBadRequest, "body", "bad JSON: "+err.Error())
}

// pathID reads the {id} of the path.
func pathID(w http.ResponseWriter, r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "id", fmt.Sprintf("%q is not a fault id (a number from GET /faults)", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, APIError{Error: msg, Field: field})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // fault names hold "<" (jitter <1s)
	enc.Encode(v)
}
