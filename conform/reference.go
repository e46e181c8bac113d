package conform

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/wschaos/wschaos/client"
	"github.com/wschaos/wschaos/internal/flaw"
	"github.com/wschaos/wschaos/profile"
)

// Reference is the Factory of wschaos's own reference client: the
// example of wiring a Go client into Describe or Run, and the client every
// scenario is proven against.
func Reference() Factory { return referenceWith(flaw.Set{}) }

// referenceWith is the reference client with deliberate bugs, for the
// proof that each scenario fails on the bug it names.
func referenceWith(flaws flaw.Set) Factory {
	return func(env Env) (Subject, error) {
		return &reference{env: env, flaws: flaws}, nil
	}
}

type reference struct {
	env   Env
	flaws flaw.Set
	c     *client.Client
}

func (r *reference) Name() string { return "wschaos reference client" }

func (r *reference) Connect(_ context.Context, url string) error {
	r.c = client.New(url, &client.Options{Profile: r.env.Profile, Clock: r.env.Clock, Rand: r.env.Rand, Flaws: r.flaws})
	emit := r.env.Emit
	r.c.OnState(func(ch client.StateChange) {
		if ch.From != ch.To || ch.To == client.StateReconnecting {
			emit(Event{Kind: EventState, State: ch.To.String()})
		}
	})
	r.c.Subscribe("", func(m profile.Message) {
		emit(Event{Kind: EventMessage, Type: m.Type, Payload: m.Data})
	})
	r.c.OnResync(func() { emit(Event{Kind: EventResync}) })
	r.c.OnError(func(err error) { emit(Event{Kind: EventError, Message: err.Error()}) })
	return r.c.Start()
}

func (r *reference) Send(ctx context.Context, typ string, payload json.RawMessage) error {
	if r.c == nil {
		return errors.New("send before connect")
	}
	var v any = payload
	if len(payload) == 0 {
		v = nil
	}
	return r.c.Send(ctx, typ, v)
}

func (r *reference) Close(context.Context) error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

// Reconnect drops the connection and opens a new one at once, as the
// application asks.
func (r *reference) Reconnect(context.Context) error {
	if r.c == nil {
		return errors.New("reconnect before connect")
	}
	r.c.Reconnect()
	return nil
}
