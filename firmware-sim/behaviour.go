package firmwaresim

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// Procedure kinds: what a registered procedure does.
const (
	// KindAdd returns the sum of its numeric arguments: an integer when
	// all are integers, else a float.
	KindAdd = "add"
	// KindEcho returns its arguments and keyword arguments.
	KindEcho = "echo"
	// KindSlow waits Latency (default DefaultSlowLatency), then returns its
	// arguments; an INTERRUPT or the session's end cancels the wait.
	KindSlow = "slow"
	// KindSet stores its keyword arguments, or else its first argument, as
	// the device's actuator state and returns it.
	KindSet = "set"
	// KindGet returns the actuator state.
	KindGet = "get"
)

// Behaviour defaults.
const (
	// DefaultSlowLatency is the latency of a KindSlow procedure with none.
	DefaultSlowLatency = time.Second
	// DefaultPublishInterval is the interval of a Publisher with none.
	DefaultPublishInterval = 5 * time.Second
	// DefaultJitter is the interval jitter of a Publisher with none.
	DefaultJitter = 0.1
)

// Procedure is a procedure a device registers.
type Procedure struct {
	// Name is the URI registered. Use a single component ("add"): the
	// gateway prefixes it with the device's configured prefix. The
	// device's URIPrefix, if any, is prepended too.
	Name string
	// Kind is one of the Kind constants. Empty: Name.
	Kind string
	// Latency delays the answer (KindSlow: default DefaultSlowLatency).
	Latency time.Duration
}

// Publisher publishes sensor readings to Topic every Interval.
type Publisher struct {
	// Topic is the URI published to; like Procedure.Name, best a single
	// component ("temp").
	Topic string
	// Interval between readings (default DefaultPublishInterval), each one
	// drawn uniformly within ±Jitter of it (a fraction; default
	// DefaultJitter, negative for none).
	Interval time.Duration
	Jitter   float64
	// Base and Spread shape the readings: Base plus uniform noise within
	// ±Spread, rounded to two decimals.
	Base, Spread float64
}

// DefaultProcedures returns add, echo, slow (with latency slow), set and
// get.
func DefaultProcedures(slow time.Duration) []Procedure {
	return []Procedure{
		{Name: KindAdd}, {Name: KindEcho}, {Name: KindSlow, Latency: slow},
		{Name: KindSet}, {Name: KindGet},
	}
}

// DefaultPublishers returns a temperature ("temp", around 21.5) and a
// humidity ("hum", around 45) publisher with the given interval.
func DefaultPublishers(interval time.Duration) []Publisher {
	return []Publisher{
		{Topic: "temp", Interval: interval, Base: 21.5, Spread: 0.5},
		{Topic: "hum", Interval: interval, Base: 45, Spread: 2},
	}
}

func (p Procedure) kind() string {
	if p.Kind == "" {
		return p.Name
	}
	return p.Kind
}

func validateProcedures(ps []Procedure) error {
	seen := map[string]bool{}
	for _, p := range ps {
		switch p.kind() {
		case KindAdd, KindEcho, KindSlow, KindSet, KindGet:
		default:
			return fmt.Errorf("firmwaresim: procedure %q: unknown kind %q: %w", p.Name, p.kind(), ErrInvalidConfig)
		}
		if p.Name == "" || strings.ContainsAny(p.Name, " \t\n#") {
			return fmt.Errorf("firmwaresim: procedure name %q: %w", p.Name, ErrInvalidConfig)
		}
		if seen[p.Name] {
			return fmt.Errorf("firmwaresim: procedure %q listed twice: %w", p.Name, ErrInvalidConfig)
		}
		seen[p.Name] = true
		if p.Latency < 0 {
			return fmt.Errorf("firmwaresim: procedure %q: negative latency: %w", p.Name, ErrInvalidConfig)
		}
	}
	return nil
}

func validatePublishers(ps []Publisher) error {
	for _, p := range ps {
		if p.Topic == "" || strings.ContainsAny(p.Topic, " \t\n#") {
			return fmt.Errorf("firmwaresim: publisher topic %q: %w", p.Topic, ErrInvalidConfig)
		}
		if p.Interval < 0 || p.Jitter >= 1 || math.IsNaN(p.Base) || math.IsNaN(p.Spread) {
			return fmt.Errorf("firmwaresim: publisher %q: bad interval or jitter: %w", p.Topic, ErrInvalidConfig)
		}
	}
	return nil
}

// handler returns the invocation handler of p on device d.
func (d *Device) handler(p Procedure) client.Handler {
	latency := p.Latency
	if latency == 0 && p.kind() == KindSlow {
		latency = DefaultSlowLatency
	}
	kind := p.kind()
	return func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
		d.calls.Add(1)
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, &client.Error{URI: wamp.ErrCanceled, Args: wamp.List{context.Cause(ctx).Error()}}
			}
		}
		switch kind {
		case KindAdd:
			return add(inv.Args)
		case KindEcho, KindSlow:
			return &client.Result{Args: inv.Args, Kwargs: inv.Kwargs}, nil
		case KindSet:
			var v any
			switch {
			case len(inv.Kwargs) > 0:
				v = maps.Clone(inv.Kwargs)
			case len(inv.Args) > 0:
				v = inv.Args[0]
			default:
				return nil, &client.Error{URI: wamp.ErrInvalidArgument, Args: wamp.List{"set needs an argument or keyword arguments"}}
			}
			d.mu.Lock()
			d.state = v
			d.mu.Unlock()
			return stateResult(v), nil
		default: // KindGet
			d.mu.Lock()
			v := d.state
			d.mu.Unlock()
			return stateResult(v), nil
		}
	}
}

// stateResult answers with a dict state as keyword arguments, anything else
// as the only argument.
func stateResult(v any) *client.Result {
	if m, ok := v.(wamp.Dict); ok {
		return &client.Result{Kwargs: maps.Clone(m)}
	}
	return &client.Result{Args: wamp.List{v}}
}

// add sums numeric arguments: int64 while all are integers and the sum
// fits, float64 otherwise.
func add(args wamp.List) (*client.Result, error) {
	var isum int64
	var fsum float64
	isFloat := false
	for i, a := range args {
		if n, ok := wamp.AsInt(a); ok && !isFloat {
			s := isum + n
			if (n > 0 && s < isum) || (n < 0 && s > isum) { // overflow
				isFloat, fsum = true, float64(isum)+float64(n)
				continue
			}
			isum = s
			continue
		}
		var f float64
		switch v := a.(type) {
		case float64:
			f = v
		case float32:
			f = float64(v)
		default:
			if n, ok := wamp.AsInt(a); ok {
				f = float64(n)
			} else if u, ok := wamp.AsUint(a); ok {
				f = float64(u)
			} else {
				return nil, &client.Error{URI: wamp.ErrInvalidArgument, Args: wamp.List{fmt.Sprintf("argument %d is not a number", i)}}
			}
		}
		if !isFloat {
			isFloat, fsum = true, float64(isum)
		}
		fsum += f
	}
	if isFloat {
		return &client.Result{Args: wamp.List{fsum}}, nil
	}
	return &client.Result{Args: wamp.List{isum}}, nil
}

// publish runs one publisher until ctx ends or a publish fails.
func (d *Device) publish(ctx context.Context, sess *client.Session, p Publisher, rng *rand.Rand) {
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultPublishInterval
	}
	jit := p.Jitter
	if jit == 0 {
		jit = DefaultJitter
	}
	jit = max(jit, 0)
	topic := d.cfg.URIPrefix + p.Topic
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for n := int64(1); ; n++ {
		t.Reset(time.Duration(float64(interval) * (1 + jit*(2*rng.Float64()-1))))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v := p.Base + p.Spread*(2*rng.Float64()-1)
		v = math.Round(v*100) / 100
		if err := sess.Publish(ctx, topic, wamp.List{v}, wamp.Dict{"n": n}, nil); err != nil {
			return
		}
		d.events.Add(1)
	}
}
