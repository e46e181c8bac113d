package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wschaos/wschaos/internal/filecodec"
	"go.yaml.in/yaml/v3"
)

// configKeys are the keys of a ProxyConfig, for "did you mean".
var configKeys = []string{"name", "listen", "upstream", "profile", "enabled", "faults"}

// ConfigError is a bad entry of a config file: Entry is its index from 0,
// Name its name when it has one, Field the part that is wrong.
type ConfigError struct {
	Entry int
	Name  string
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	at := fmt.Sprintf("proxy [%d]", e.Entry)
	if e.Name != "" {
		at += fmt.Sprintf(" %q", e.Name)
	}
	if e.Field != "" {
		at += ": " + e.Field
	}
	return at + ": " + e.Msg
}

// ReadConfig reads a config file: a list of ProxyConfig, in JSON or YAML,
// as Toxiproxy's -config reads a list of proxies:
//
//	[{"name": "api", "listen": "127.0.0.1:9001", "upstream": "ws://127.0.0.1:8065/ws",
//	  "faults": [{"fault": "swallow-pongs"}]}]
//
// An error names the entry and the field. It checks the entries' shape and
// their names (set, valid, not twice); what needs the machine (a listen
// address, a profile file) is checked when Set.Create makes them.
func ReadConfig(data []byte) ([]ProxyConfig, error) {
	raw, err := configEntries(data)
	if err != nil {
		return nil, err
	}
	out := make([]ProxyConfig, len(raw))
	seen := map[string]int{}
	for i, r := range raw {
		cfg, err := configEntry(i, r)
		if err != nil {
			return nil, err
		}
		if e := checkName(cfg.Name); e != nil {
			return nil, &ConfigError{Entry: i, Name: cfg.Name, Field: e.Field, Msg: e.Msg}
		}
		if j, dup := seen[cfg.Name]; dup {
			return nil, &ConfigError{Entry: i, Name: cfg.Name, Field: "name", Msg: fmt.Sprintf("proxy [%d] has this name already: names must differ", j)}
		}
		seen[cfg.Name] = i
		out[i] = cfg
	}
	return out, nil
}

// configEntries splits a config file into its entries, as JSON.
func configEntries(data []byte) ([]json.RawMessage, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, fmt.Errorf("empty: want a list of proxies, e.g. [{\"name\":\"api\",\"upstream\":\"ws://127.0.0.1:8065/ws\"}]")
	}
	if t[0] != '[' && t[0] != '{' { // YAML: JSON is read as JSON, for its error offsets
		var v any
		if err := yaml.Unmarshal(t, &v); err != nil {
			return nil, fmt.Errorf("neither JSON nor YAML: %w", err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("YAML that has no JSON form (a map with non-string keys?): %w", err)
		}
		t = b
	}
	if t[0] == '{' {
		return nil, fmt.Errorf("holds one object; a config file is a list of proxies: wrap it in [ ] (a YAML list: a \"- \" before each)")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(t, &raw); err != nil {
		return nil, fmt.Errorf("want a list of proxies: %w", err)
	}
	return raw, nil
}

// configEntry reads entry i strictly: an unknown key is an error, with a
// guess at the key meant.
func configEntry(i int, raw json.RawMessage) (ProxyConfig, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return ProxyConfig{}, &ConfigError{Entry: i, Msg: fmt.Sprintf("want an object like {\"name\":\"api\",\"upstream\":\"ws://…\"}, got %.40s", raw)}
	}
	var name string
	json.Unmarshal(keys["name"], &name)
	for k := range keys {
		if !slices.Contains(configKeys, k) {
			return ProxyConfig{}, &ConfigError{Entry: i, Name: name, Field: k, Msg: "unknown key" + filecodec.DidYouMean(k, configKeys) + " (known: " + strings.Join(configKeys, ", ") + ")"}
		}
	}
	var cfg ProxyConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		ce := &ConfigError{Entry: i, Name: name, Msg: err.Error()}
		var te *json.UnmarshalTypeError
		var se *SpecError
		switch {
		case errors.As(err, &se):
			ce.Field, ce.Msg = "faults."+se.Field, se.Msg
			if idx := faultIndex(keys["faults"]); idx >= 0 {
				ce.Field = fmt.Sprintf("faults[%d].%s", idx, se.Field)
			}
		case errors.As(err, &te):
			ce.Field, ce.Msg = te.Field, fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value)
		}
		return ProxyConfig{}, ce
	}
	return cfg, nil
}

// faultIndex finds which fault of a faults list fails to read, -1 if none
// or the list is not one.
func faultIndex(raw json.RawMessage) int {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return -1
	}
	for i, f := range list {
		var s FaultSpec
		if json.Unmarshal(f, &s) != nil {
			return i
		}
	}
	return -1
}
