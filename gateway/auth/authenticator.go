package auth

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Authentication method names as they appear in HELLO.Details.authmethods
// and WELCOME.Details.authmethod.
const (
	MethodAnonymous  = "anonymous"
	MethodTicket     = "ticket"
	MethodWAMPCRA    = "wampcra"
	MethodCryptosign = "cryptosign"
	MethodTLS        = "tls"
)

// Channel binding types for cryptosign.
const (
	BindingTLSUnique   = "tls-unique"
	BindingTLSExporter = "tls-exporter"
)

// Defaults applied by NewAuthenticator.
const (
	DefaultProvider         = "static"
	DefaultChallengeTimeout = time.Minute
	DefaultCRAIterations    = 1000 // client default in autobahn-js and autobahn-python
	DefaultCRAKeyLen        = 32
	maxCRAKeyLen            = 1024
)

// User is a principal of a realm. A user may hold any combination of
// credentials; one with none can still be identified by a TLS client
// certificate or be assigned to a device port.
type User struct {
	AuthID         string
	Role           string
	Ticket         string // "" disables ticket authentication for this user
	CRA            *CRA   // nil disables WAMP-CRA for this user
	CryptosignKeys []ed25519.PublicKey
}

// CRA holds a WAMP-CRA secret. An empty Salt means plain WAMP-CRA (the
// secret is the HMAC key). With a salt, Iterations and KeyLen default to
// 1000 and 32, the defaults of the common clients.
type CRA struct {
	Secret     string
	Salt       string
	Iterations int
	KeyLen     int
}

// Realm describes the authentication setup of one realm.
type Realm struct {
	Name          string
	AnonymousRole string // "" refuses anonymous sessions
	Users         []User
	Provider      string // WELCOME.Details.authprovider; "" means "static"

	// ChallengeTimeout bounds the time between Begin and Verify; 0 means
	// DefaultChallengeTimeout. The router should still apply its own
	// handshake timeout.
	ChallengeTimeout time.Duration

	// Limiter, when set, records every Verify outcome for Transport.Peer.
	// It may be shared between realms.
	Limiter *Limiter
}

// Identity is the outcome of a successful authentication, the content of
// WELCOME.Details authid, authrole, authmethod, authprovider and authextra.
type Identity struct {
	AuthID       string
	AuthRole     string
	AuthMethod   string
	AuthProvider string
	AuthExtra    map[string]any // nil when empty
}

// Details returns the identity as WELCOME.Details entries.
func (id *Identity) Details() wamp.Dict {
	d := wamp.Dict{
		"authid":       id.AuthID,
		"authrole":     id.AuthRole,
		"authmethod":   id.AuthMethod,
		"authprovider": id.AuthProvider,
	}
	if len(id.AuthExtra) > 0 {
		d["authextra"] = id.AuthExtra
	}
	return d
}

func (id *Identity) clone() *Identity {
	c := *id
	if id.AuthExtra != nil {
		c.AuthExtra = make(map[string]any, len(id.AuthExtra))
		for k, v := range id.AuthExtra {
			c.AuthExtra[k] = v
		}
	}
	return &c
}

// Transport describes what the transport under a HELLO knows about the peer.
type Transport struct {
	// ChannelBinding maps a binding type ("tls-unique", "tls-exporter") to
	// its 32-byte channel id; nil without TLS. See ChannelBindings.
	ChannelBinding map[string][]byte
	// ClientCert is the peer's verified TLS client certificate, nil if none.
	// See VerifyClientCert.
	ClientCert *x509.Certificate
	// Peer identifies the remote end for the Limiter, for example
	// net.Conn.RemoteAddr().String(); ports are ignored.
	Peer string
}

type user struct {
	authID, role string
	ticket       *[sha256.Size]byte // SHA-256 of the ticket, nil without one
	craKey       []byte             // HMAC key, nil without CRA
	craSalt      string
	craProf      craProfile
	keys         [][ed25519.PublicKeySize]byte
}

// craProfile is what a WAMP-CRA challenge reveals about a user besides its
// authid.
type craProfile struct {
	role       string
	salted     bool
	iterations int
	keyLen     int
}

// Authenticator authenticates the sessions of one realm. It is immutable
// and safe for concurrent use.
type Authenticator struct {
	name     string
	provider string
	anonRole string
	timeout  time.Duration
	limiter  *Limiter

	users   map[string]*user
	byKey   map[[ed25519.PublicKeySize]byte]*user
	methods []string // methods the realm can do, for messages

	hasTicket, hasCRA, hasCryptosign bool

	// Stand-ins for unknown principals: nobody holds these credentials.
	fakeCRA    craProfile
	fakeSecret [32]byte // keys the fake salts and fake CRA keys
	fakeTicket [sha256.Size]byte
	fakeKey    ed25519.PublicKey

	rand io.Reader
	now  func() time.Time
}

// NewAuthenticator validates r and prepares an Authenticator. All problems
// are reported together, wrapped in ErrInvalidRealm. Salted WAMP-CRA keys are
// derived here, once.
func NewAuthenticator(r Realm) (*Authenticator, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	a := &Authenticator{
		name:     r.Name,
		provider: r.Provider,
		anonRole: r.AnonymousRole,
		timeout:  r.ChallengeTimeout,
		limiter:  r.Limiter,
		users:    make(map[string]*user, len(r.Users)),
		byKey:    make(map[[ed25519.PublicKeySize]byte]*user),
		rand:     rand.Reader,
		now:      time.Now,
	}
	if r.Name == "" {
		bad("realm name is empty")
	}
	if a.provider == "" {
		a.provider = DefaultProvider
	}
	if a.timeout == 0 {
		a.timeout = DefaultChallengeTimeout
	} else if a.timeout < 0 {
		bad("challenge timeout %v is negative", r.ChallengeTimeout)
	}
	if r.AnonymousRole != "" && strings.TrimSpace(r.AnonymousRole) != r.AnonymousRole {
		bad("anonymous role %q has surrounding spaces", r.AnonymousRole)
	}

	var craProfiles []craProfile
	var craRoles []string
	for i, u := range r.Users {
		where := fmt.Sprintf("user %d (%q)", i, u.AuthID)
		if u.AuthID == "" {
			bad("user %d: authid is empty", i)
			continue
		}
		if _, dup := a.users[u.AuthID]; dup {
			bad("%s: duplicate authid", where)
			continue
		}
		if u.Role == "" || strings.TrimSpace(u.Role) != u.Role {
			bad("%s: role %q is empty or has surrounding spaces", where, u.Role)
		}
		nu := &user{authID: u.AuthID, role: u.Role}
		if u.Ticket != "" {
			h := sha256.Sum256([]byte(u.Ticket))
			nu.ticket = &h
			a.hasTicket = true
		}
		if u.CRA != nil {
			key, prof, err := deriveCRA(u.CRA)
			if err != nil {
				bad("%s: wampcra: %v", where, err)
			} else {
				prof.role = u.Role
				nu.craKey, nu.craProf, nu.craSalt = key, prof, u.CRA.Salt
				a.hasCRA = true
				craProfiles = append(craProfiles, prof)
				craRoles = append(craRoles, u.Role)
			}
		}
		for j, k := range u.CryptosignKeys {
			if len(k) != ed25519.PublicKeySize {
				bad("%s: cryptosign key %d has %d bytes, want %d", where, j, len(k), ed25519.PublicKeySize)
				continue
			}
			var kk [ed25519.PublicKeySize]byte
			copy(kk[:], k)
			if other, dup := a.byKey[kk]; dup {
				bad("%s: cryptosign key %s also belongs to %q", where, hex.EncodeToString(k), other.authID)
				continue
			}
			a.byKey[kk] = nu
			nu.keys = append(nu.keys, kk)
			a.hasCryptosign = true
		}
		a.users[u.AuthID] = nu
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: realm %q: %s", ErrInvalidRealm, r.Name, strings.Join(problems, "; "))
	}

	if a.anonRole != "" {
		a.methods = append(a.methods, MethodAnonymous)
	}
	for _, m := range []struct {
		ok   bool
		name string
	}{{a.hasTicket, MethodTicket}, {a.hasCRA, MethodWAMPCRA}, {a.hasCryptosign, MethodCryptosign}, {len(a.users) > 0, MethodTLS}} {
		if m.ok {
			a.methods = append(a.methods, m.name)
		}
	}

	// The fake WAMP-CRA profile mimics the most common real one.
	a.fakeCRA = mostCommon(craProfiles)
	a.fakeCRA.role = mostCommon(craRoles)
	if _, err := io.ReadFull(rand.Reader, a.fakeSecret[:]); err != nil {
		return nil, fmt.Errorf("auth: random: %w", err)
	}
	if _, err := io.ReadFull(rand.Reader, a.fakeTicket[:]); err != nil {
		return nil, fmt.Errorf("auth: random: %w", err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader) // private half discarded
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	a.fakeKey = pub
	return a, nil
}

// mostCommon returns the most frequent element, the earliest on a tie, or
// the zero value for an empty slice.
func mostCommon[T comparable](xs []T) T {
	var best T
	n := 0
	counts := make(map[T]int, len(xs))
	for _, x := range xs {
		counts[x]++
		if c := counts[x]; c > n {
			best, n = x, c
		}
	}
	return best
}

// Name returns the realm name.
func (a *Authenticator) Name() string { return a.name }

// AnonymousRole returns the role given to anonymous sessions, "" when the
// realm refuses them.
func (a *Authenticator) AnonymousRole() string { return a.anonRole }

// Methods returns the authentication methods this realm can do.
func (a *Authenticator) Methods() []string { return slices.Clone(a.methods) }

// Roles returns the sorted set of roles this realm can grant, so that
// configuration checks can make sure the authorizer knows all of them.
func (a *Authenticator) Roles() []string {
	set := map[string]bool{}
	if a.anonRole != "" {
		set[a.anonRole] = true
	}
	for _, u := range a.users {
		set[u.role] = true
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// IdentityFor returns the identity of a configured user without any
// credential check, for principals the router has established otherwise,
// such as a device on a port configured with that authid. method becomes
// the authmethod. It reports false for an unknown authid.
func (a *Authenticator) IdentityFor(authid, method string) (*Identity, bool) {
	u := a.users[authid]
	if u == nil {
		return nil, false
	}
	return &Identity{AuthID: u.authID, AuthRole: u.role, AuthMethod: method, AuthProvider: a.provider}, true
}

// Begin starts authenticating a HELLO. It picks the first method in
// HELLO.Details.authmethods that the realm can do and returns an Exchange
// that is either done or carries a CHALLENGE. sessionID is the ID WELCOME
// will carry; WAMP-CRA binds the challenge to it. Errors are *Error.
func (a *Authenticator) Begin(hello *wamp.Hello, sessionID wamp.ID, tr Transport) (*Exchange, error) {
	var details wamp.Dict
	if hello != nil {
		details = hello.Details
	}
	methods, ok := offeredMethods(details["authmethods"])
	if !ok {
		return nil, &Error{URI: wamp.ErrNoAuthMethod, Message: "HELLO.Details.authmethods must be a list of strings"}
	}
	offered := "none"
	if len(methods) > 0 {
		offered = strings.Join(methods, ", ")
	} else {
		methods = []string{MethodAnonymous}
		if tr.ClientCert != nil {
			methods = []string{MethodTLS, MethodAnonymous}
		}
	}
	authid, _ := details["authid"].(string)
	extra, _ := details["authextra"].(map[string]any)

	for _, m := range methods {
		switch m {
		case MethodAnonymous:
			if a.anonRole != "" {
				return a.beginAnonymous(), nil
			}
		case MethodTLS:
			if x, err := a.beginTLS(authid, tr); x != nil || err != nil {
				return x, err
			}
		case MethodTicket:
			if a.hasTicket && authid != "" {
				return a.beginTicket(authid, tr), nil
			}
		case MethodWAMPCRA:
			if a.hasCRA && authid != "" {
				return a.beginCRA(authid, sessionID, tr), nil
			}
		case MethodCryptosign:
			if a.hasCryptosign {
				if x, err := a.beginCryptosign(authid, extra, tr); x != nil || err != nil {
					return x, err
				}
			}
		}
	}
	accepted := "nothing"
	if len(a.methods) > 0 {
		accepted = strings.Join(a.methods, ", ")
	}
	return nil, &Error{
		URI:     wamp.ErrNoAuthMethod,
		Message: fmt.Sprintf("no offered authentication method is available (offered: %s; realm %s accepts: %s)", offered, a.name, accepted),
	}
}

// offeredMethods reads HELLO.Details.authmethods. Null, absent and empty
// all give an empty list; entries that are not strings are skipped.
func offeredMethods(v any) ([]string, bool) {
	switch l := v.(type) {
	case nil:
		return nil, true
	case []string:
		return l, true
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out, true
	}
	return nil, false
}

func (a *Authenticator) random(b []byte) {
	if _, err := io.ReadFull(a.rand, b); err != nil {
		// crypto/rand.Reader does not fail; a broken test reader must
		// not yield predictable challenges.
		panic("auth: random source failed: " + err.Error())
	}
}

func (a *Authenticator) newExchange(method string, tr Transport) *Exchange {
	return &Exchange{a: a, method: method, peer: tr.Peer, issued: a.now()}
}

func (a *Authenticator) beginAnonymous() *Exchange {
	var b [8]byte
	a.random(b[:])
	x := &Exchange{a: a, method: MethodAnonymous}
	x.identity = &Identity{AuthID: "anon-" + hex.EncodeToString(b[:]), AuthRole: a.anonRole, AuthMethod: MethodAnonymous, AuthProvider: a.provider}
	return x
}

// beginTLS returns nil, nil when the certificate names no usable user, so
// that the next offered method is tried.
func (a *Authenticator) beginTLS(authid string, tr Transport) (*Exchange, error) {
	c := tr.ClientCert
	if c == nil {
		return nil, nil
	}
	if now := a.now(); now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, failed("client certificate is expired or not yet valid", "certificate validity "+c.NotBefore.String()+" to "+c.NotAfter.String())
	}
	u := a.certUser(c, authid)
	if u == nil {
		return nil, nil
	}
	x := &Exchange{a: a, method: MethodTLS}
	x.identity = &Identity{AuthID: u.authID, AuthRole: u.role, AuthMethod: MethodTLS, AuthProvider: a.provider}
	return x, nil
}

// CertNames returns the names a client certificate can map to an authid
// with, in order of preference: the subject CommonName, then the DNS,
// e-mail and URI subject alternative names.
func CertNames(c *x509.Certificate) []string {
	var names []string
	if c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	names = append(names, c.DNSNames...)
	names = append(names, c.EmailAddresses...)
	for _, u := range c.URIs {
		names = append(names, u.String())
	}
	return names
}

func (a *Authenticator) certUser(c *x509.Certificate, authid string) *user {
	for _, n := range CertNames(c) {
		if authid != "" && n != authid {
			continue
		}
		if u := a.users[n]; u != nil {
			return u
		}
	}
	return nil
}

func (a *Authenticator) beginTicket(authid string, tr Transport) *Exchange {
	x := a.newExchange(MethodTicket, tr)
	x.challenge = &wamp.Challenge{AuthMethod: MethodTicket, Extra: wamp.Dict{}}
	u := a.users[authid]
	if u != nil && u.ticket != nil {
		x.ticket = *u.ticket
		x.identity = &Identity{AuthID: u.authID, AuthRole: u.role, AuthMethod: MethodTicket, AuthProvider: a.provider}
	} else {
		x.ticket = a.fakeTicket
		x.fake = true
		x.detail = principalDetail(u, "ticket")
	}
	return x
}

func principalDetail(u *user, what string) string {
	if u == nil {
		return "unknown authid"
	}
	return "authid has no " + what
}

// fakeCRAKey returns a stable stand-in salt and a key nobody knows for an
// authid without WAMP-CRA credentials.
func (a *Authenticator) fakeCRAKey(authid string) (salt string, key []byte) {
	m := hmac.New(sha256.New, a.fakeSecret[:])
	m.Write([]byte("salt\x00"))
	m.Write([]byte(authid))
	sum := m.Sum(nil)
	salt = base64.RawStdEncoding.EncodeToString(sum[:16])
	key = make([]byte, 32)
	a.random(key)
	if a.fakeCRA.salted {
		key = []byte(base64.StdEncoding.EncodeToString(key))
	}
	return salt, key
}

func (a *Authenticator) beginCRA(authid string, sessionID wamp.ID, tr Transport) *Exchange {
	x := a.newExchange(MethodWAMPCRA, tr)
	u := a.users[authid]
	var (
		prof craProfile
		salt string
		key  []byte
	)
	// The stand-in is computed in every case so that both paths cost the same.
	fakeSalt, fakeKey := a.fakeCRAKey(authid)
	if u != nil && u.craKey != nil {
		prof, salt, key = u.craProf, u.craSalt, u.craKey
		x.identity = &Identity{AuthID: u.authID, AuthRole: u.role, AuthMethod: MethodWAMPCRA, AuthProvider: a.provider}
	} else {
		prof = a.fakeCRA
		if u != nil {
			prof.role = u.role
		}
		salt, key = fakeSalt, fakeKey
		x.fake = true
		x.detail = principalDetail(u, "wampcra secret")
	}
	challenge := a.craChallenge(authid, prof.role, sessionID)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(challenge))
	m.Sum(x.mac[:0])

	extra := wamp.Dict{"challenge": challenge}
	if prof.salted {
		extra["salt"] = salt
		extra["iterations"] = int64(prof.iterations)
		extra["keylen"] = int64(prof.keyLen)
	}
	x.challenge = &wamp.Challenge{AuthMethod: MethodWAMPCRA, Extra: extra}
	return x
}

func (a *Authenticator) beginCryptosign(authid string, extra map[string]any, tr Transport) (*Exchange, error) {
	pkHex, _ := extra["pubkey"].(string)
	var pk [ed25519.PublicKeySize]byte
	if len(pkHex) != 2*len(pk) {
		return nil, nil
	}
	if _, err := hex.Decode(pk[:], []byte(pkHex)); err != nil {
		return nil, nil
	}

	var binding string
	var channelID []byte
	switch b := extra["channel_binding"].(type) {
	case nil:
	case string:
		switch b {
		case "":
		case BindingTLSUnique, BindingTLSExporter:
			channelID = tr.ChannelBinding[b]
			if len(channelID) != 32 {
				return nil, failed("channel binding "+b+" is not available on this transport", "")
			}
			binding = b
		default:
			return nil, failed("unsupported channel binding "+strconv.Quote(b)+" (supported: tls-unique, tls-exporter)", "")
		}
	default:
		return nil, failed("authextra.channel_binding must be a string", "")
	}

	x := a.newExchange(MethodCryptosign, tr)
	var u *user
	if authid != "" {
		u = a.users[authid]
		if u != nil && !slices.Contains(u.keys, pk) {
			x.detail = "public key does not belong to authid"
			u = nil
		} else if u == nil {
			x.detail = "unknown authid"
		}
	} else {
		u = a.byKey[pk]
		if u == nil {
			x.detail = "unknown public key"
		}
	}
	if u != nil {
		x.pub = ed25519.PublicKey(pk[:])
		x.identity = &Identity{
			AuthID: u.authID, AuthRole: u.role, AuthMethod: MethodCryptosign, AuthProvider: a.provider,
			AuthExtra: map[string]any{"pubkey": hex.EncodeToString(pk[:])},
		}
	} else {
		x.pub = a.fakeKey
		x.fake = true
	}

	var challenge [32]byte
	a.random(challenge[:])
	x.expected = challenge
	for i := range channelID {
		x.expected[i] ^= channelID[i]
	}
	ce := wamp.Dict{"challenge": hex.EncodeToString(challenge[:])}
	if binding != "" {
		ce["channel_binding"] = binding
	}
	x.challenge = &wamp.Challenge{AuthMethod: MethodCryptosign, Extra: ce}
	return x, nil
}
