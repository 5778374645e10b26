package emporix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for everything the SDK parses from the network or prints
// about a request. Seeds are the spec's examples (copied small, inline) and
// the quirks the service is known for. `go test` runs the seeds as
// ordinary tests; .ci/fuzz.sh fuzzes each target briefly:
//
//	go test -run '^$' -fuzz '^FuzzDecodeToken$' -fuzztime 10s .
//
// Every target asserts properties, not just the absence of a panic.

// fuzzAddressID is the address the fuzzed Addresses.Get asks for.
const fuzzAddressID = "b05c20e034"

// fuzzNow is the clock of the fuzzed decoders.
var fuzzNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// fuzzClient returns a client on a transport that answers every request
// with 200 and body.
func fuzzClient(t *testing.T, body []byte) *Client {
	t.Helper()
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
		}, nil
	})
	c, err := NewClient(testTenant, testClientID, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: rt}),
		WithNoRetries(), WithClock(func() time.Time { return fuzzNow }),
		WithTokenSource(StaticTokens(anonToken(), custToken())))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// ---------------------------------------------------------------------------
// Values quoted in errors
// ---------------------------------------------------------------------------

// scalar is a string value or number literal of a JSON document, with the
// key of the object field it belongs to and its literal as the body spells
// it (a string's escapes kept, its quotes included).
type scalar struct {
	key, value, raw string
	number          bool
}

// rawToken returns the literal of the token a json.Decoder read between
// the input offsets from and to: what lies between is the separators
// before it (blanks, ':' and ',') and the literal itself.
func rawToken(body []byte, from, to int64) string {
	return string(bytes.TrimLeft(body[from:to], " \t\r\n:,"))
}

// jsonScalars returns the scalars of a JSON document (object keys
// excluded), as far as it parses.
func jsonScalars(body []byte) []scalar {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object, wantKey bool
		key             string
	}
	stack := []frame{{}}
	var out []scalar
	for {
		from := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		top := &stack[len(stack)-1]
		isKey := top.object && top.wantKey
		key := top.key
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true, key: key})
				continue
			case '[':
				stack = append(stack, frame{key: key})
				continue
			default:
				stack = stack[:len(stack)-1]
				top = &stack[len(stack)-1]
			}
		case string:
			if isKey {
				top.key = v
			} else {
				out = append(out, scalar{key: key, value: v, raw: rawToken(body, from, dec.InputOffset())})
			}
		case json.Number:
			out = append(out, scalar{key: key, value: v.String(), raw: v.String(), number: true})
		}
		if top.object {
			top.wantKey = !isKey
		}
	}
}

// errorWords are the words an unusable-response error's cause is made of
// whatever the body: the decoders' own wording (encoding/json's, time's,
// the flexible types'), Go type names, and the field paths encoding/json
// names ("Go struct field Metadata.addresses.metadata.version": the
// innermost struct, then the path from the root). A body value that an
// error shows only as such words proves nothing.
var errorWords = sync.OnceValue(func() map[string]bool {
	words := map[string]bool{}
	addWords := func(text string) {
		for _, w := range strings.Fields(text) {
			words[wordCore(w)] = true
		}
	}
	addWords("json: cannot unmarshal into Go struct field Go value of type string number bool array object " +
		"invalid character looking for beginning of value object key string after object key key:value pair " +
		"array element top-level in string literal escape code \\u hexadecimal numeric decimal point exponent " +
		"literal true false null (expecting unexpected end of JSON input exceeded max depth " +
		"parsing time as cannot parse extra text out of range month day hour minute second timezone " +
		"Time.UnmarshalJSON: input is not a JSON string " + time.RFC3339 + " 2006 01 02 T 15 04 05 Z07:00 " +
		errFlexSeconds.Error() + " " + errFlexBool.Error())
	structs := map[string]bool{}
	paths := map[string]bool{}
	var walk func(t reflect.Type, path string, depth int)
	walk = func(t reflect.Type, path string, depth int) {
		addWords(t.String())
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
			addWords(t.String())
		}
		if t.Kind() != reflect.Struct || depth > 4 {
			return
		}
		structs[t.Name()] = true
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			p := name
			if path != "" {
				p = path + "." + name
			}
			paths[p] = true
			walk(t.Field(i).Type, p, depth+1)
		}
	}
	for _, v := range []any{tokenWire{}, Customer{}, []Address{}, time.Time{}} {
		walk(reflect.TypeOf(v), "", 0)
	}
	for s := range structs {
		for p := range paths {
			words[s+"."+p] = true
		}
	}
	return words
})

// wordCore is a word of an error text without the punctuation around it.
func wordCore(w string) string { return strings.Trim(w, `"'():,`) }

// fixedWord reports whether a word of an error's cause is the decoders'
// wording rather than text of the body. encoding/json shows one
// character of a body it cannot parse ("invalid character '}'"): that
// shows no value either.
func fixedWord(w string) bool {
	if q := strings.TrimRight(strings.TrimLeft(w, "("), "):,"); len(q) >= 3 && len(q) <= len(`'\U0010ffff'`) && q[0] == '\'' && q[len(q)-1] == '\'' {
		return true
	}
	core := wordCore(w)
	return core == "" || errorWords()[core]
}

// checkQuotesNoValue fails when an unusable-response error quotes one of
// the body's values: the body may hold tokens or personal data, so an
// error that ends up in a log must not carry it. The error's own words
// are no quote: its method, path and reason come from the SDK, and of its
// cause only words other than the decoders' wording can be the body's. A
// value counts as quoted when one of its occurrences in the cause covers
// any such word; one that only spells the wording ("number into",
// "literal") does not. exempt, if not nil, names values that may be
// quoted; what encoding/json and time make of them is allowed too.
func checkQuotesNoValue(t *testing.T, re *ResponseError, body []byte, exempt func(scalar) bool) {
	t.Helper()
	if re.Err == nil {
		return
	}
	cause := re.Err.Error()
	shown := make([]bool, len(cause)) // bytes that may be the body's text
	for start := 0; start < len(cause); {
		end := strings.IndexByte(cause[start:], ' ')
		if end < 0 {
			end = len(cause)
		} else {
			end += start
		}
		if !fixedWord(cause[start:end]) {
			for i := start; i < end; i++ {
				shown[i] = true
			}
		}
		start = end + 1
	}
	scalars := jsonScalars(body)
	for _, v := range scalars {
		if exempt == nil || !exempt(v) {
			continue
		}
		// The value as decoded, as the body spells it, and as time's
		// error quotes it.
		forms := []string{v.value, v.raw}
		var tm time.Time
		if err := tm.UnmarshalJSON([]byte(v.raw)); err != nil {
			forms = append(forms, err.Error())
		}
		for _, form := range forms {
			for from := 0; form != ""; {
				i := strings.Index(cause[from:], form)
				if i < 0 {
					break
				}
				for j := from + i; j < from+i+len(form); j++ {
					shown[j] = false
				}
				from += i + 1
			}
		}
	}
	for _, v := range scalars {
		if len(v.value) < 6 || exempt != nil && exempt(v) {
			continue
		}
		for from := 0; ; {
			i := strings.Index(cause[from:], v.value)
			if i < 0 {
				break
			}
			if slices.Contains(shown[from+i:from+i+len(v.value)], true) {
				t.Fatalf("error quotes the body value %q: %s", v.value, re.Error())
			}
			from += i + 1
		}
	}
}

// profileQuotable exempts what encoding/json itself quotes in the errors
// of profile and address answers, none of which is a secret or personal:
// a lastLogin that is not a timestamp (time.Time quotes it) and a number
// that overflows its field (metadata.version).
func profileQuotable(v scalar) bool {
	return v.number || strings.EqualFold(v.key, "lastLogin")
}

// ---------------------------------------------------------------------------
// Token responses
// ---------------------------------------------------------------------------

// tokenSeeds are the token responses of the spec's examples, one per shape,
// and the known quirks.
var tokenSeeds = []string{
	// AnonymousAccessToken (anonymous login and refresh).
	`{"token_type":"Bearer","access_token":"tpYgJPZqddEQ2zwfzNtx79noBP65","expires_in":3599,"refresh_token":"7FnviYrxvQWYdzUVBVTvXeNAA4Jy1HPe","refresh_token_expires_in":86399,"sessionId":"6d4d4d5e-04b9-40c5-9074-4df1405c6081","scope":"tenant={tenant}"}`,
	// Anonymous refresh with the deprecated anonymous_token: no refresh token.
	`{"token_type":"Bearer","access_token":"Zq91ySuLxLIzQ0vd0QxiC7imAIHi","expires_in":3599,"sessionId":"5b7ae416-5d88-4dd9-bbe9-6b262f45b4e8","scope":"tenant={tenant}"}`,
	// CustomerToken (password login).
	`{"access_token":"aYR3Lu3rpsQ9ODhBIR83b3txTr5K","saas_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMzg2OTAwMCIsImV4cCI6MTY0MDQ0NDAzMn0.lvxFOeCOk-DWi3kqwJwR8eKal3ON2rr53e9I6Pha5rI","expires_in":2591999,"refresh_token":"94tKQ2Tsvlf9dYbmyccA7X1Rqe54B6dH","refresh_token_expires_in":86399,"token_type":"Bearer","session_id":"45c9726e-77c8-4bd0-b29d-61ab56f59726","initialPassword":false}`,
	// RefreshCustomerToken, with the float expiry some serialisers send.
	`{"access_token":"2yXy8H7sByl4JSWrr7GRqxiCRMUm","expires_in":2591999.0,"refresh_token":"iwXAFjGwboaehJar1qNOkV05phDw1god","refresh_token_expires_in":86390,"token_type":"Bearer","session_id":"45c9726e-77c8-4bd0-b29d-61ab56f59726"}`,
	// The deprecated camelCase twins alone.
	`{"accessToken":"2yXy8H7sByl4JSWrr7GRqxiCRMUm","expiresIn":2591999,"refreshToken":"iwXAFjGwboaehJar1qNOkV05phDw1god","refreshTokenExpiresIn":86390,"saasToken":"eyJ.e30.sig","token_type":"Bearer","session_id":"45c9726e-77c8-4bd0-b29d-61ab56f59726"}`,
	// ExchangeAuthTokenResponse.
	`{"subject_access_token":"eyJhbGciOiJSUzI1NiIsInR5cCIgOiAiSldUIn0...","access_token":"dEKATUWeewkraTlIzjVZBbGg7BQQ","saas_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDMDAzMyJ9.5536UTfZ3KmNPbMDp5ZLRIeYwMV-P1jN5DUT2ZLu2qc","refresh_token":"QtvQi9UAYS9GIbEGu73ERUmfdC569MBE","refresh_token_expires_in":15551999,"session_idle_time":120,"token_type":"Bearer","expires_in":14399,"scope":"customer.customerprofile_edit order.history_view tenant=cockpitsdev","session_id":"14ccc133-5731-4d6c-8f38-ca82443e4e4e"}`,
	// Social login: string expiries, no session_id.
	`{"social_access_token":"sOcIaLaCcEsS","social_id_token":"eyJ.id.token","refresh_token":"94tKQ2Tsvlf9dYbmyccA7X1Rqe54B6dH","refresh_token_expires_in":"86399","session_idle_time":3600,"token_type":"Bearer","access_token":"aYR3Lu3rpsQ9ODhBIR83b3txTr5K","saas_token":"eyJ.saas.token","expires_in":"2591999","scope":"tenant=mytenant"}`,
	// Double opt-in login: no session_id; initialPassword as the spec's string type.
	`{"access_token":"HzcnecB5l6STzXhRqU0Zp6hxS0Ay","saas_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4NzQxMzI1MCJ9.p6g_G5ZbhjlvnObVC2OWGslLWWktxBw8onionfFvm4c","expires_in":2591999,"refresh_token":"tMhLYc8pfAqb1g10Z1o7BxABArxXe3db","refresh_token_expires_in":86399,"token_type":"Bearer","initialPassword":"true"}`,
	// OAuth AccessToken (POST /oauth/token, client credentials).
	`{"refresh_token_expires_in":0,"refresh_token":"","session_idle_time":120,"token_type":"Bearer","access_token":"vkFuQ6oTwj8_Ye4eiRSsqMeqLYNeQRJi","expires_in":14399,"scope":"tenant={tenant} ..."}`,
	// Unusable or odd answers.
	``, `null`, `{}`, `[]`, `"token"`, `{"access_token":""}`, `{"access_token":null,"accessToken":"camel"}`,
	`{"access_token":12345678}`, `{"access_token":"x","expires_in":"an hour"}`, `{"access_token":"x","expires_in":1e300}`,
	`{"access_token":"x","expires_in":-5,"refresh_token_expires_in":"-1"}`, `{"access_token":"x","initialPassword":"maybe"}`,
	`{"ACCESS_TOKEN":"upper","access_token":"lower"}`, `{"access_token":"x","session_idle_time":"1.5"}`,
	// A number no float64 holds, in a field the SDK does not read.
	`{"access_token":"x","scope":"s","legal_entity_count":1e999}`,
	// A repeated member: a later null leaves the earlier string in place.
	`{"access_token":"a","access_token":null}`,
	// A value that spells encoding/json's words in an error quoting nothing.
	`{"access_token":1,"scope":"number into"}`,
	// Names encoding/json matches by Unicode case folding (ſ is s, K is k),
	// and a repeated lifetime.
	`{"acceſſ_token":"folded","scope":"s"}`,
	`{"access_token":"x","to\u212aen_type":"Bearer","expires_in":"soon","expires_in":60}`,
	// Values a flexible type refuses, long enough for the quote check to
	// see whether its error shows them.
	`{"access_token":"x","initialPassword":"perhaps"}`, `{"access_token":"x","session_idle_time":"an hour"}`,
}

// isAccessTokenKey reports whether key names the access token field, as
// encoding/json matches it (case-insensitively).
func isAccessTokenKey(key string) bool {
	return strings.EqualFold(key, "access_token") || strings.EqualFold(key, "accessToken")
}

func FuzzDecodeToken(f *testing.F) {
	for i, s := range tokenSeeds {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, kindByte uint8) {
		kind := TokenKind(kindByte % 4)
		tok, err := decodeToken(body, kind, fuzzNow)
		if err != nil {
			if tok != nil {
				t.Fatal("a token and an error")
			}
			// The client's path turns it into an ErrInvalidResponse that
			// quotes nothing of the body, which carries tokens.
			c := fuzzClient(t, nil)
			_, cerr := c.doToken(c.newCall(opLogin), &response{status: http.StatusOK, body: body}, kind)
			checkQuotesNoValue(t, requireResponseError(t, cerr, http.StatusOK), body, nil) // token answers: nothing may be quoted
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		if tok.Kind != kind || tok.AccessToken == "" || !tok.IssuedAt.Equal(fuzzNow) {
			t.Fatalf("kind %v (want %v), access token %q, issued %v", tok.Kind, kind, tok.AccessToken, tok.IssuedAt)
		}
		// Lifetimes are never negative and never overflow.
		for name, at := range map[string]time.Time{"Expiry": tok.Expiry, "RefreshExpiry": tok.RefreshExpiry} {
			if !at.IsZero() && (at.Before(fuzzNow) || at.Sub(fuzzNow) > maxFlexSeconds*time.Second) {
				t.Fatalf("%s %v out of range", name, at)
			}
		}
		if tok.SessionIdleTime < 0 || tok.SessionIdleTime > maxFlexSeconds*time.Second {
			t.Fatalf("SessionIdleTime %v out of range", tok.SessionIdleTime)
		}
		// The access token is the value of an access token field. The
		// fields stay raw: a body may carry a number no float64 holds
		// (1e999) in a field the SDK does not read, which it rightly ignores.
		fields, ok := objectMembers(body)
		if !ok {
			t.Fatalf("decoded a token from a body that is not a JSON object: %q", body)
		}
		found := false
		for _, m := range fields {
			var s string
			if isAccessTokenKey(m.name) && json.Unmarshal(m.value, &s) == nil && s == string(tok.AccessToken) {
				found = true
			}
		}
		if !found {
			t.Fatalf("access token %q is not the value of an access token field", string(tok.AccessToken))
		}
		// Round trip: the token in canonical snake_case decodes to itself.
		again, err := decodeToken(canonicalTokenBody(t, tok), kind, fuzzNow)
		if err != nil {
			t.Fatalf("canonical form does not decode: %v", err)
		}
		assertSameToken(t, tok, again)
	})
}

// member is one member of a JSON object, its value raw.
type member struct {
	name  string
	value json.RawMessage
}

// objectMembers returns the members of the JSON object body in order,
// repeated names included, or false when body is not one JSON object. A
// map would keep only the last of two members of one name, where
// encoding/json lets a later null leave an earlier string in place:
// {"access_token":"a","access_token":null} is the token "a".
func objectMembers(body []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, false
		}
		out = append(out, member{name.(string), value})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // more after the object
	}
	return out, true
}

// canonicalTokenBody renders tok as the service's canonical snake_case
// answer, lifetimes as JSON numbers of seconds.
func canonicalTokenBody(t *testing.T, tok *Token) []byte {
	m := map[string]any{
		"access_token": string(tok.AccessToken), "token_type": tok.TokenType, "refresh_token": string(tok.RefreshToken),
		"saas_token": string(tok.SaasToken), "session_id": tok.SessionID, "scope": tok.Scope,
		"social_access_token": string(tok.SocialAccessToken), "social_id_token": string(tok.SocialIDToken),
		"initialPassword": tok.InitialPassword, "session_idle_time": json.Number(seconds(tok.SessionIdleTime)),
	}
	if !tok.Expiry.IsZero() {
		m["expires_in"] = json.Number(seconds(tok.Expiry.Sub(tok.IssuedAt)))
	}
	if !tok.RefreshExpiry.IsZero() {
		m["refresh_token_expires_in"] = json.Number(seconds(tok.RefreshExpiry.Sub(tok.IssuedAt)))
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seconds renders d exactly as a decimal number of seconds.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "." + strconv.FormatInt(int64(d%time.Second)+1e9, 10)[1:]
}

// durationsClose allows the rounding of a float64 round trip.
func durationsClose(a, b time.Duration) bool {
	diff := a - b
	if diff < 0 {
		diff = -diff
	}
	return diff <= time.Microsecond+time.Duration(math.Abs(float64(a))*1e-14)
}

func assertSameToken(t *testing.T, want, got *Token) {
	t.Helper()
	w, g := *want, *got
	if !durationsClose(w.Expiry.Sub(fuzzNow), g.Expiry.Sub(fuzzNow)) || w.Expiry.IsZero() != g.Expiry.IsZero() ||
		!durationsClose(w.RefreshExpiry.Sub(fuzzNow), g.RefreshExpiry.Sub(fuzzNow)) || w.RefreshExpiry.IsZero() != g.RefreshExpiry.IsZero() ||
		!durationsClose(w.SessionIdleTime, g.SessionIdleTime) {
		t.Fatalf("lifetimes changed in a round trip: %v/%v/%v → %v/%v/%v",
			w.Expiry, w.RefreshExpiry, w.SessionIdleTime, g.Expiry, g.RefreshExpiry, g.SessionIdleTime)
	}
	w.Expiry, w.RefreshExpiry, w.SessionIdleTime = time.Time{}, time.Time{}, 0
	g.Expiry, g.RefreshExpiry, g.SessionIdleTime = time.Time{}, time.Time{}, 0
	if w != g {
		t.Fatalf("round trip changed the token:\n%#v\n%#v", tokenFields(w), tokenFields(g))
	}
}

// fields lists a token's values for a failure message of a fuzz test; the
// tokens are the fuzzer's, not credentials.
func tokenFields(t Token) []any {
	return []any{t.Kind, t.AccessToken, t.TokenType, t.RefreshToken, t.SaasToken, t.SessionID, t.Scope,
		t.InitialPassword, t.SocialAccessToken, t.SocialIDToken}
}

// ---------------------------------------------------------------------------
// Customer and addresses, through the client's path
// ---------------------------------------------------------------------------

var (
	profileSeeds = []string{
		// GET /me, "Logged in customer".
		`{"title":"MR","firstName":"John","lastName":"Doe","contactPhone":"123456789","company":"Emporix","preferredLanguage":"en_US","preferredCurrency":"USD","preferredSite":"default","metadata":{"mixins":{},"version":2},"mixins":{},"customerNumber":"13869000","id":"13869000","accounts":[{"id":"example@customer.com"}],"contactEmail":"example@customer.com","businessModel":"B2B","b2b":{"companyRegistrationId":"123-456-789","legalEntities":[{"id":"D165356","name":"Emporix","contactAssignmentId":"D436432"}]}}`,
		// GET /me, "Anonymous customer".
		`{"firstName":"Anonymous","lastName":"Anonymous","preferredSite":"default","customerNumber":"00000000","id":"00000000","accounts":[]}`,
		`{"id":"1","lastLogin":"2026-11-22T12:00:00.123Z","addresses":[{"id":"a","tags":["BILLING"]}],"defaultAddress":{"id":"a"},"mixins":{"x":{"y":[1,2.5,null,true]}}}`,
		`{"id":"1","lastLogin":null}`, `{"lastLogin":"yesterday"}`, `{"contactPhone":123456789}`,
		`{"lAstLogin":"0000000","":[{"":["000000"]}]}`,
		``, ` `, `null`, `[]`, `{"id":`, `{"metadata":{"version":"2"}}`,
		// Numbers no float64 holds: ignored where no field reads them,
		// refused where a field does.
		`{"id":"1","score":1e999}`, `{"id":"1","mixins":{"n":1e999}}`, `{"metadata":{"version":1e999}}`,
		// Values that spell the decoders' words in an error that quotes
		// none of them; a lastLogin escaped, which time's error quotes raw.
		`{"id":"literal","x":1.}`, `{"id":"2006-01-02","lastLogin":"x"}`, `{"id":"Metadata.addresses","addresses":[{"metadata":{"version":1.5}}]}`,
		`{"lastLogin":"\u0041bcdefgh1","x":"\\u0041bcdefgh1"}`,
		// Timestamps whose text a round trip changes (ten fraction digits,
		// -00:00) or keeps at the edge (year 0 behind UTC); and -0.
		`{"lastLogin":"2026-11-22T12:00:00.1234567891Z"}`, `{"lastLogin":"0000-01-01T00:00:00+00:01"}`, `{"lastLogin":"2026-11-22T12:00:00-00:00","mixins":{"z":-0}}`,
	}
	addressSeeds = []string{
		// GET /me/addresses/{addressId}.
		`{"contactName":"John Doe","companyName":"Emporix","street":"Platz der Republik","streetNumber":"1","streetAppendix":"","extraLine1":"","extraLine2":"","extraLine3":"","extraLine4":"","zipCode":"11011","city":"Berlin","country":"DE","state":"Berlin","contactPhone":"123456789","tags":["BILLING","SHIPPING"],"id":"b05c20e034","isDefault":true}`,
		// GET /me/addresses.
		`[{"contactName":"John Doe","companyName":"Emporix","street":"Platz der Republik","streetNumber":"1","zipCode":"11011","city":"Berlin","country":"DE","state":"Berlin","contactPhone":"123456789","tags":["BILLING","SHIPPING"],"id":"b05c20e034","isDefault":true}]`,
		`[]`, `null`, ``, "\n", `[{"id":"a"},null]`, `{"isDefault":"true"}`, `[{"zipCode":11011}]`, `[{"id":"x"`,
		`[{"id":"a","score":-1e999}]`, `{"id":"a","mixins":{"n":1e999}}`,
	}
)

// canonical renders v as JSON; two values are the same data when their
// canonical forms are equal.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("cannot re-encode a decoded value: %v", err)
	}
	return string(b)
}

// checkDecoded compares what the SDK returned with a plain json.Unmarshal
// of the body into a value of the same type (ref, a pointer), and checks
// that the result survives a round trip.
func checkDecoded(t *testing.T, body []byte, got any, err error, ref any) {
	t.Helper()
	refErr := json.Unmarshal(body, ref)
	if list, ok := ref.(*[]Address); ok && refErr == nil && *list == nil {
		*list = []Address{} // List answers JSON null with an empty list
	}
	blank := len(bytes.TrimSpace(body)) == 0
	if err != nil {
		checkQuotesNoValue(t, requireResponseError(t, err, http.StatusOK), body, profileQuotable)
		if refErr == nil && !blank {
			t.Fatalf("refused a body json.Unmarshal accepts: %v", err)
		}
		return
	}
	if refErr != nil || blank {
		t.Fatalf("accepted a body json.Unmarshal refuses (%v) or a blank one", refErr)
	}
	want := canonical(t, reflect.ValueOf(ref).Elem().Interface())
	if have := canonical(t, got); have != want {
		t.Fatalf("decoded %s, json.Unmarshal gives %s", have, want)
	}
	// Decoding the canonical form again gives the same canonical form.
	again := reflect.New(reflect.TypeOf(ref).Elem())
	if err := json.Unmarshal([]byte(want), again.Interface()); err != nil {
		t.Fatalf("canonical form does not decode: %v", err)
	}
	if have := canonical(t, again.Elem().Interface()); have != want {
		t.Fatalf("round trip changed %s into %s", want, have)
	}
}

func FuzzProfileDecode(f *testing.F) {
	for _, s := range profileSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cust, err := fuzzClient(t, body).Profile.Get(context.Background(), nil)
		if err == nil && cust == nil {
			t.Fatal("no customer and no error")
		}
		var got any
		if cust != nil {
			got = *cust
		}
		checkDecoded(t, body, got, err, new(Customer))
	})
}

func FuzzAddressDecode(f *testing.F) {
	for _, s := range addressSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, list bool) {
		c := fuzzClient(t, body)
		if list {
			got, err := c.Addresses.List(context.Background())
			if err == nil && got == nil {
				t.Fatal("List returned a nil slice: callers range over it and marshal it as []")
			}
			var ref []Address
			checkDecoded(t, body, got, err, &ref)
			return
		}
		got, err := c.Addresses.Get(context.Background(), fuzzAddressID)
		var v any
		if got != nil {
			v = *got
		}
		if err == nil && got == nil {
			t.Fatal("no address and no error")
		}
		checkDecoded(t, body, v, err, new(Address))
	})
}

// ---------------------------------------------------------------------------
// Error responses
// ---------------------------------------------------------------------------

// numericSecretBody echoes numericSecret as a bare JSON number.
const (
	numericSecret     = "12345678901234567890123456789"
	numericSecretBody = `{"message":"m","details":[{"field":"pin","rejected":` + numericSecret + `},` + numericSecret + `]}`
)

var errorSeeds = []struct {
	status int
	body   string
}{
	// ErrorMessage examples of the spec.
	{400, `{"type":"bad_request","status":400,"message":"The tenant information provided with the request is not valid."}`},
	{403, `{"type":"Forbidden","status":403,"message":"User not authorized."}`},
	{404, `{"type":"resource_not_found","status":404,"message":"Address {addressId} of customer {customerNumber} not found."}`},
	{409, `{"type":"conflict_resource","status":409,"message":"Duplicate account '{email}' for tenant '{tenant}'."}`},
	{400, `{"status":400,"type":"validation_failure","message":"m","moreInfo":"https://developer.emporix.io","details":[{"field":"email","type":"missing_value","message":"must not be empty","moreInfo":""},"missing scope: customer.customer_manage"],"errorCode":"CUSTOMER-400001"}`},
	// The gateway's 401 examples.
	{401, `{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`},
	{401, `{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}`},
	// POST /oauth/token's Apigee shape, a proxy page, odd bodies.
	{401, `{"ErrorCode":"invalid_client","Error":"ClientId is Invalid"}`},
	{502, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"},
	// A proxy page echoing the secret across the snippet's cut.
	{503, "<html>" + strings.Repeat("x", 500) + "SeCrEtToKeNvAlUe0123456789 more</html>"},
	// A detail that is the secret as a bare JSON number.
	{400, numericSecretBody},
	{500, ""}, {500, "   "}, {500, "[1,2]"}, {400, `{"details":"one"}`}, {400, `{"message":{"nested":1}}`},
	{502, "\xff\xfe not UTF-8 " + strings.Repeat("é", 300)},
	{502, strings.Repeat("\x80", maxSnippet+100)}, // continuation bytes only
	// Other services' shapes, and token responses on an error status.
	{401, `{"error":"invalid_client","error_description":"Client authentication failed"}`},
	{422, `{"errors":[{"status":"422","title":"Invalid","detail":"too short"},{"message":"m2"},"m3"]}`},
	{400, `{"statusCode":400,"message":["email must be an email"],"error":"Bad Request"}`},
	{400, `{"message":{"en":"bad"},"Error":{"Code":"C","Message":"M"}}`},
	{500, `{"access_token":"SeCrEtToKeNvAlUe0123456789","refresh_token":{"v":["x1y2z3w4"]},"expires_in":3599}`},
	{404, `{"type":"about:blank","title":"Not Found","status":404}`},
	// Credential-like name=value pairs, in text and in a message; the
	// secret as a pair's value and as its name.
	{400, "access_token=SeCrEtToKeNvAlUe0123456789&token_type=bearer&x=1"}, {502, "SeCrEtToKeNvAlUe0123456789=v1234567&password=pw123456"},
	{400, `{"message":"see /cb?id_token=tok12345&state=s","details":["apikey\u003dk1234567"]}`},
	// Pairs in a URL that is another pair's value, plain and URL-encoded,
	// and an '=' whose '%' only an escape spells.
	{502, "next=https://shop/cb?access_token=tok12345&state=1"},
	{400, `{"message":"m","details":["back=https%3A%2F%2Fx%3Fsession_id%3Dsid12345%26a%3D1","token\u00253Dt1234567"]}`},
	// A member value masked as a JSON string, then a ':' that its closing
	// quote turns into a pair's '='.
	{502, `upstream: "token":5:6, "secret":-1:true`},
	// Numbers no float64 holds, where the error reader expects one and elsewhere.
	{400, `{"status":1e999,"message":"m","x":-1e999}`}, {400, `{"message":"m","details":[1e999]}`},
	// Credential values that the rest of the body spells in the error.
	{400, `{"x":[true,false],"secret":"true,false"}`},
	{400, `{"message":["abcd","efgh"],"token":"abcd; efgh"}`},
	// A token response behind a byte order mark.
	{400, "\xef\xbb\xbf{\"access_token\":\"bomtoken1234\"}"},
	// E-mail addresses next to an escape, or spelled with one.
	{400, `{"message":"m","details":["\u00e9jane@example.com"]}`},
	{400, `{"message":"m","details":[{"field":"email","message":"jane\u0040example.com taken"}]}`},
	// An address whose local part is only a quote: masked, it still reads
	// as an address, which masking again would change.
	{400, `{"message":"m","details":["'@a.bc"]}`},
	// The secret echoed in Details with an escape, as an encoder that
	// escapes what is not ASCII would (the seed's secret is ASCII).
	{400, `{"message":"m","details":["\u0053eCrEtToKeNvAlUe0123456789",{"field":"password","message":"SeCrEtToKeN\u0076AlUe0123456789"}]}`},
}

// secretFrom derives an alphanumeric secret of at least 8 characters from
// seed, or "". Alphanumeric secrets look the same in every encoding a
// server may echo them in, so swapping one for another changes nothing
// else in a body.
func secretFrom(seed string) string {
	var b strings.Builder
	for _, r := range seed {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() < 8 {
		return ""
	}
	return b.String()
}

// showsAddress reports whether s holds an e-mail address whose local
// part shows more than maskEmail keeps of it: its leading quotes and one
// character before "***". Masking again is no test: of "'***@a.bc", the
// masked "'@a.bc", it would keep the first '*' as the one character.
func showsAddress(s string) bool {
	for _, addr := range emailPattern.FindAllString(s, -1) {
		local := strings.TrimLeft(addr[:strings.LastIndexByte(addr, '@')], `'"`)
		if kept, ok := strings.CutSuffix(local, "***"); !ok || len(kept) > 1 {
			return true
		}
	}
	return false
}

// selfOverlapping reports whether a proper prefix of s is also its
// suffix, so that two occurrences of s can overlap.
func selfOverlapping(s string) bool {
	for n := 1; n < len(s); n++ {
		if s[:n] == s[len(s)-n:] {
			return true
		}
	}
	return false
}

// otherSecret returns a secret of the same length and character classes
// as s that differs from it at every position.
func otherSecret(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+13)%26
		default:
			b[i] = '0' + (c-'0'+5)%10
		}
	}
	return string(b)
}

// checkJSONExplained asserts what an APIError keeps of a JSON-looking body:
// an explanation whenever the body has any text, in Message or in a capped
// Body but not both, and no credential-like member's value. again builds
// the error for another body the same way as e.
func checkJSONExplained(t *testing.T, body []byte, walk jsonWalk, e *APIError, again func([]byte) *APIError) {
	t.Helper()
	if e.Message == "" && e.Body == "" {
		t.Fatalf("no explanation kept for %q: %#v", body, e)
	}
	if e.Message != "" && e.Body != "" {
		t.Fatalf("both a message and a snippet: %#v", e)
	}
	if len(e.Body) > maxSnippet+len("…") {
		t.Fatalf("snippet of %d bytes", len(e.Body))
	}
	// A credential-like member's value never survives: text of the error
	// that spells one must also be in the error for the body with every
	// such value replaced by the mask. Then the rest of the body spells it
	// (the value `true,false` stands in the kept snippet of
	// {"x":[true,false],"secret":"true,false"}, and `abcd; efgh` in the
	// message joined from {"message":["abcd","efgh"]}); otherwise it came
	// from the credential.
	text := serverText(e)
	var masked string
	for _, v := range walk.credentials {
		if len(v) < 6 || !strings.Contains(text, v) {
			continue
		}
		if masked == "" {
			masked = serverText(again(walk.maskCredentials(body)))
		}
		if !strings.Contains(masked, v) {
			t.Fatalf("credential value %q survives in %q: %q", v, body, text)
		}
	}
}

// fuzzNames are the member names jsonFromBytes draws from: every name the
// error reader knows, in several spellings, credentials and others.
var fuzzNames = []string{"message", "Message", "error", "ERROR", "error_description", "errors", "fault", "faultstring",
	"detail", "errorcode", "ErrorCode", "code", "type", "title", "details", "description", "msg", "moreInfo",
	"access_token", "refreshToken", "password", "sessionId", "client_secret", "text", "status", "data", "x"}

// jsonFromBytes builds a well-formed JSON value of any shape from b: each
// byte chooses the next value's kind, a member name or a string's text.
func jsonFromBytes(b []byte) string {
	b = bytes.Clone(b)
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	text := func() string {
		n := int(next() % 12)
		if n > len(b) {
			n = len(b)
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	var out strings.Builder
	quote := func(s string) {
		q, _ := json.Marshal(s)
		out.Write(q)
	}
	var value func(depth int)
	value = func(depth int) {
		kind := next() % 7
		if depth >= 5 && kind >= 4 {
			kind = 0
		}
		switch kind {
		case 0, 1:
			quote(text())
		case 2:
			out.WriteString(strconv.Itoa(int(next()) - 100))
		case 3:
			out.WriteString([]string{"true", "false", "null"}[next()%3])
		case 4:
			out.WriteByte('[')
			for i := range int(next() % 4) {
				if i > 0 {
					out.WriteByte(',')
				}
				value(depth + 1)
			}
			out.WriteByte(']')
		default:
			out.WriteByte('{')
			for i := range int(next() % 5) {
				if i > 0 {
					out.WriteByte(',')
				}
				if c := next(); c < 200 {
					quote(fuzzNames[int(c)%len(fuzzNames)])
				} else {
					quote(text())
				}
				out.WriteByte(':')
				value(depth + 1)
			}
			out.WriteByte('}')
		}
	}
	if len(b) > 0 && b[0]%2 == 0 {
		b[0] = 5 // mostly an object, the usual error body
	}
	value(0)
	return out.String()
}

// jsonWalk is what a body holds, read token by token up to its first fault.
type jsonWalk struct {
	names       []string // member names
	credentials []string // string values of credential-like members, at any depth below them
	spans       [][2]int // where the body spells each credential value
}

// maskCredentials returns body with the literal of every credential
// value replaced by the mask, as a JSON string.
func (w jsonWalk) maskCredentials(body []byte) []byte {
	var out []byte
	end := 0
	for _, s := range w.spans {
		out = append(append(out, body[end:s[0]]...), `"`+redacted+`"`...)
		end = s[1]
	}
	return append(out, body[end:]...)
}

func walkJSON(body []byte) jsonWalk {
	var w jsonWalk
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct{ object, wantKey, credential bool }
	var stack []frame
	pending := false // the next value is a credential-like member's
	for {
		from := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return w
		}
		inCredential := pending || len(stack) > 0 && stack[len(stack)-1].credential
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				stack = append(stack, frame{object: d == '{', wantKey: d == '{', credential: inCredential})
			default:
				stack = stack[:len(stack)-1]
			}
			pending = false
			if len(stack) > 0 {
				stack[len(stack)-1].wantKey = stack[len(stack)-1].object
			}
			continue
		}
		if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantKey {
			name, _ := tok.(string)
			w.names = append(w.names, name)
			pending = credentialName(name)
			stack[len(stack)-1].wantKey = false
			continue
		}
		var text string
		switch v := tok.(type) {
		case string:
			text = v
		case json.Number:
			text = v.String()
		}
		if inCredential {
			w.credentials = append(w.credentials, text)
			to := int(dec.InputOffset())
			w.spans = append(w.spans, [2]int{to - len(rawToken(body, from, int64(to))), to})
		}
		pending = false
		if len(stack) > 0 {
			stack[len(stack)-1].wantKey = stack[len(stack)-1].object
		}
	}
}

func fuzzAPIError(c *Client, status int, body []byte, secret string) *APIError {
	k := c.newCall(opProfileGet)
	k.hide(Secret(secret))
	resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: -1}
	return c.checkResponse(k, resp)
}

// serverText joins the fields of e that hold text from the server.
func serverText(e *APIError) string {
	parts := []string{e.Type, e.Message, e.MoreInfo, e.ErrorCode, e.Body}
	for _, d := range e.Details {
		parts = append(parts, string(d))
	}
	return strings.Join(parts, "\x00")
}

func FuzzAPIError(f *testing.F) {
	for _, s := range errorSeeds {
		f.Add(s.status, []byte(s.body), "SeCrEtToKeNvAlUe0123456789")
		f.Add(s.status, []byte(s.body), "")
	}
	f.Add(400, []byte(numericSecretBody), numericSecret)
	// Secrets that overlap themselves, next to text that ends like they
	// start: in the body, and after an escape JSON re-encoding writes.
	f.Add(400, []byte("5"+"00000000"), "00000000")
	f.Add(400, []byte("{\"x\":\"\u2029"+"44444444\"}"), "44444444")
	f.Fuzz(func(t *testing.T, status int, body []byte, secretSeed string) {
		if status < 100 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		c := fuzzClient(t, nil)
		secret := secretFrom(secretSeed)
		e := fuzzAPIError(c, status, body, secret)

		// Shape: what the body looks like decides what is kept. A byte
		// order mark before it does not count (RFC 8259 lets a parser
		// drop one): a JSON body behind one is still JSON, its
		// credential-like members masked.
		unmarked := bytes.TrimPrefix(body, []byte("\ufeff"))
		trimmed := strings.TrimSpace(string(unmarked))
		walk := walkJSON(unmarked)
		switch {
		case trimmed == "":
			if e.Body != "" || e.Message != "" || e.Type != "" || len(e.Details) != 0 {
				t.Fatalf("empty body produced fields: %#v", e)
			}
		case trimmed[0] == '{' || trimmed[0] == '[':
			checkJSONExplained(t, unmarked, walk, e, func(b []byte) *APIError { return fuzzAPIError(c, status, b, secret) })
		default:
			if e.Body == "" || e.Message != "" || e.Type != "" || e.ErrorCode != "" {
				t.Fatalf("a non-JSON body must give a snippet and nothing else: %#v", e)
			}
			if len(e.Body) > maxSnippet+len("…") {
				t.Fatalf("snippet of %d bytes", len(e.Body))
			}
			if utf8.ValidString(trimmed) && !utf8.ValidString(e.Body) {
				t.Fatalf("snippet cut a UTF-8 sequence: %q", e.Body)
			}
			if secret == "" {
				// Credential-like pairs and e-mail addresses are masked
				// before the cut.
				shown := maskPersonal(maskCredentialPairs(trimmed))
				if cut, ok := strings.CutSuffix(e.Body, "…"); ok && len(shown) > maxSnippet {
					if !strings.HasPrefix(shown, cut) || len(cut) < maxSnippet-utf8.UTFMax {
						t.Fatalf("snippet %q is not a prefix of the body", e.Body)
					}
				} else if e.Body != shown {
					t.Fatalf("short body %q kept as %q", shown, e.Body)
				}
			}
		}
		if e.StatusCode != status || e.Attempts != 1 {
			t.Fatalf("status %d attempts %d", e.StatusCode, e.Attempts)
		}
		if errors.Is(e, ErrServer) != (status >= 500) || errors.Is(e, ErrUnauthorized) != (status == 401) {
			t.Fatalf("sentinels disagree with status %d", status)
		}
		if e.TokenRejected() && status != http.StatusUnauthorized {
			t.Fatal("TokenRejected on a status other than 401")
		}
		for _, d := range e.Details {
			if !json.Valid(d) {
				t.Fatalf("Details entry %q is not JSON", d)
			}
			// E-mail addresses are masked however the server escaped
			// them: a caller reads the entry decoded.
			for _, v := range jsonScalars(d) {
				if showsAddress(v.value) {
					t.Fatalf("Details entry %s shows an e-mail address", d)
				}
			}
		}

		// Credential-like name=value pairs are masked in every text the
		// error shows, however their '=' was escaped: masking again finds
		// nothing to mask. A snippet cut in a masked value is let be.
		texts := []string{e.Type, e.Message, e.MoreInfo, e.ErrorCode}
		if !strings.HasSuffix(e.Body, "…") {
			texts = append(texts, e.Body)
		}
		for _, d := range e.Details {
			for _, v := range jsonScalars(d) {
				texts = append(texts, v.value, v.key)
			}
		}
		for _, s := range texts {
			if maskCredentialPairs(s) != s {
				t.Fatalf("a credential-like pair survives in %q", s)
			}
		}

		// The same checks on a well-formed JSON body of any shape built
		// from the input, which mutation of the seeds rarely reaches.
		generated := jsonFromBytes(body)
		if g := []byte(generated); g[0] == '{' || g[0] == '[' {
			checkJSONExplained(t, g, walkJSON(g), fuzzAPIError(c, status, g, ""), func(b []byte) *APIError { return fuzzAPIError(c, status, b, "") })
		}

		if secret == "" {
			return
		}
		// The secret never survives, in whole or in part: the error for
		// this body equals the error for the body with the secret swapped
		// for another one of the same shape, which is registered instead.
		text := serverText(e)
		if strings.Contains(strings.ReplaceAll(text, redacted, "\x00"), secret) {
			t.Fatalf("secret survives: %q", text)
		}
		// Nor as a Details entry's decoded strings spell it, however the
		// server escaped it: a caller reads the entry decoded.
		for _, d := range e.Details {
			for _, v := range jsonScalars(d) {
				if strings.Contains(strings.ReplaceAll(v.value, redacted, "\x00"), secret) {
					t.Fatalf("secret survives in the Details entry %s", d)
				}
			}
		}
		// A secret that overlaps itself ("00000000", "abababab") makes
		// the swap unclean: next to text that ends like its start, the
		// swapped secret is found earlier than where it was put (the
		// body "5"+"00000000" becomes "555555555", where "55555555"
		// starts one byte before the swap), so the mask moves and the
		// texts differ though neither shows the secret. Whether it
		// survives was checked above.
		if selfOverlapping(secret) {
			return
		}
		other := otherSecret(secret)
		for _, k := range walk.names {
			if strings.Contains(strings.ToLower(k), strings.ToLower(secret)) || strings.Contains(strings.ToLower(k), strings.ToLower(other)) {
				return // swapping it would rename a member
			}
		}
		if bytes.Contains(body, []byte(other)) || bytes.Contains(body, []byte(`\u`)) || bytes.Contains(body, []byte(`\`+secret)) {
			return // the swap would not be clean
		}
		body2 := bytes.ReplaceAll(body, []byte(secret), []byte(other))
		if bytes.Count(body2, []byte(other)) != bytes.Count(body, []byte(secret)) || json.Valid(body) != json.Valid(body2) {
			return
		}
		// Nor may the error's texts, unmasked, spell either secret more
		// often than the other: re-encoding can spell a secret out of its
		// neighbours (U+2029 is written \u2029, and "\u2029"+"4444444"
		// holds "94444444"), and masking that is not a leak.
		plain, plain2 := serverText(fuzzAPIError(c, status, body, "")), serverText(fuzzAPIError(c, status, body2, ""))
		if strings.Count(plain, secret) != strings.Count(plain2, other) {
			return
		}
		e2 := fuzzAPIError(c, status, body2, other)
		if text+e.Error() != serverText(e2)+e2.Error() {
			t.Fatalf("the error depends on the secret's value:\n%q\n%q", text, serverText(e2))
		}
	})
}

// ---------------------------------------------------------------------------
// Flexible numbers and booleans
// ---------------------------------------------------------------------------

func FuzzFlexSeconds(f *testing.F) {
	for _, s := range []string{`3599`, `2591999.0`, `"2591999"`, `" 86399 "`, `"14399.0"`, `1e3`, `1.5`, `0`, `-5`, `1e300`,
		`null`, `""`, `"   "`, `"an hour"`, `true`, `{}`, `[3599]`, `"NaN"`, `"Inf"`, `"0x1p4"`, `"\u0033599"`, `-0`, `4.9e-324`} {
		f.Add([]byte(s), 3599.0)
	}
	f.Fuzz(func(t *testing.T, raw []byte, v float64) {
		var fs flexSeconds
		err := fs.UnmarshalJSON(raw)
		if err != nil {
			if err != errFlexSeconds {
				t.Fatalf("error %v is not the fixed one, which quotes nothing", err)
			}
		} else {
			if fs.d < 0 || fs.d > maxFlexSeconds*time.Second || (!fs.set && fs.d != 0) {
				t.Fatalf("decoded %q as %v (set %v)", raw, fs.d, fs.set)
			}
			if fs.set && fs.expiry(fuzzNow).Before(fuzzNow) || !fs.set && !fs.expiry(fuzzNow).IsZero() {
				t.Fatalf("expiry %v", fs.expiry(fuzzNow))
			}
		}
		// encoding/json hands the field's raw value to UnmarshalJSON, so
		// decoding through a struct agrees with the direct call.
		if json.Valid(raw) {
			var s struct {
				E flexSeconds `json:"e"`
			}
			jerr := json.Unmarshal([]byte(`{"e":`+string(raw)+`}`), &s)
			if (jerr == nil) != (err == nil) || (err == nil && s.E != fs) {
				t.Fatalf("struct decoding disagrees on %q: %v/%v vs %v/%v", raw, s.E, jerr, fs, err)
			}
		}
		// Valid numbers round-trip, as JSON numbers and as numeric strings.
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		want := flexSeconds{d: time.Duration(min(max(v, 0), maxFlexSeconds) * float64(time.Second)), set: true}
		num := strconv.FormatFloat(v, 'g', -1, 64)
		for _, form := range []string{num, strconv.Quote(num), `" ` + num + ` "`} {
			var got flexSeconds
			if err := got.UnmarshalJSON([]byte(form)); err != nil || got != want {
				t.Fatalf("%s decoded as %v (%v), want %v", form, got.d, err, want.d)
			}
		}
	})
}

func FuzzFlexBool(f *testing.F) {
	for _, s := range []string{`true`, `false`, `"true"`, `"False"`, `" TRUE "`, `1`, `0`, `"1"`, `"0"`, `""`, `null`,
		`"yes"`, `2`, `1.0`, `{}`, `[]`, `"\u0074rue"`, `tRuE`} {
		f.Add([]byte(s))
	}
	// Valid JSON beyond float64's range (found by the fuzzer in CI).
	f.Add([]byte("2" + strings.Repeat("0", 320)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var fb flexBool
		err := fb.UnmarshalJSON(raw)
		if err != nil && err != errFlexBool {
			t.Fatalf("error %v is not the fixed one", err)
		}
		if !json.Valid(raw) {
			return
		}
		// The model: booleans, null, and the strings and numbers 1/0,
		// true/false (any case, blanks trimmed, "" as false).
		var v any
		if jerr := json.Unmarshal(raw, &v); jerr != nil {
			// Valid JSON that encoding/json cannot hold in any, such as a
			// number beyond float64's range: neither 1 nor 0, so refused.
			var typeErr *json.UnmarshalTypeError
			if !errors.As(jerr, &typeErr) {
				t.Fatalf("valid JSON does not decode: %v", jerr)
			}
			if err == nil {
				t.Fatalf("%q accepted as %v", raw, fb)
			}
			return
		}
		var want, ok bool
		switch x := v.(type) {
		case nil:
			want, ok = false, true
		case bool:
			want, ok = x, true
		case float64:
			switch s := strings.TrimSpace(string(raw)); s {
			case "1", "0":
				want, ok = s == "1", true
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "1":
				want, ok = true, true
			case "false", "0", "":
				want, ok = false, true
			}
		}
		// strconv.Unquote does not know JSON's \/ escape; a string that
		// needs it is not a boolean either way.
		if ok != (err == nil) || (ok && bool(fb) != want) {
			t.Fatalf("%q decoded as %v (%v), want %v (ok %v)", raw, fb, err, want, ok)
		}
	})
}

// ---------------------------------------------------------------------------
// Redaction of URLs
// ---------------------------------------------------------------------------

// queryParts splits a raw query the way redactQuery does: on '&' and ';'.
func queryParts(raw string) (parts []string, seps string) {
	for {
		i := strings.IndexAny(raw, "&;")
		if i < 0 {
			return append(parts, raw), seps
		}
		parts, seps = append(parts, raw[:i]), seps+raw[i:i+1]
		raw = raw[i+1:]
	}
}

func isSafeName(name string) bool {
	un, err := url.QueryUnescape(name)
	return err == nil && safeQueryNames[un]
}

func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{
		"tenant=mytenant&client_id=abc&refresh_token=7FnviYrxvQWYdzUVBVTvXeNAA4Jy1HPe",
		"refreshToken=iwXAFjGwboaehJar1qNOkV05phDw1god&legalEntityId=D165356",
		"accessToken=aYR3Lu3rpsQ9ODhBIR83b3txTr5K",
		"subjectAccessToken=eyJhbGciOiJSUzI1NiJ9.x.y&config=site_PL",
		"code=4/0AX4XfWh&redirect_uri=https%3A%2F%2Fshop.example%2Fcb&code_verifier=abc",
		"expand=addresses%2Cmixin%3A*", "tags=BILLING,SHIPPING", "anonymous_token=x;tenant=t;secret",
		"te%6Eant=ok&%74enant=ok2", "=v&&;", "tenant", "a=b=c", "%zz=1&tenant=%zz", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := redactQuery(raw)
		in, inSeps := queryParts(raw)
		got, outSeps := queryParts(out)
		if len(in) != len(got) || inSeps != outSeps {
			t.Fatalf("%q → %q: the parameters changed", raw, out)
		}
		for i, part := range in {
			name, _, hasValue := strings.Cut(part, "=")
			var want string
			switch {
			case part == "" || isSafeName(name):
				want = part // allow-listed names keep their values
			case hasValue:
				want = name + "=" + redacted // every other value is masked
			default:
				want = redacted // a bare part may be a value on its own
			}
			if got[i] != want {
				t.Fatalf("%q → %q: part %q became %q, want %q", raw, out, part, got[i], want)
			}
		}
		// Seen as a server would parse it, nothing outside the allow-list
		// carries a value other than the mask.
		for _, p := range got {
			name, value, hasValue := strings.Cut(p, "=")
			if !isSafeName(name) && hasValue && value != redacted {
				t.Fatalf("%q → %q: %q keeps a value", raw, out, p)
			}
		}
	})
}

// FuzzShownPath: whatever the tenant and the opt-in token, the path the
// SDK prints masks the token, and the path it sends carries it escaped.
func FuzzShownPath(f *testing.F) {
	f.Add("mytenant", "e7c1d2f3a4b5")
	f.Add("mytenant", "refresh_token")
	f.Add("t", "a/b?c#d")
	f.Add("mytenant", "")
	f.Fuzz(func(t *testing.T, tenant, token string) {
		c, err := NewClient(tenant, testClientID)
		if err != nil {
			return // the SDK refuses such a tenant before building a path
		}
		k := c.newCall(opOptInConfirm, token)
		if want := "/customer/" + tenant + "/signup/optin/" + redacted; k.shownPath != want {
			t.Fatalf("shown path %q, want %q", k.shownPath, want)
		}
		if want := "/customer/" + tenant + "/signup/optin/" + url.PathEscape(token); k.path != want {
			t.Fatalf("path %q, want %q", k.path, want)
		}
	})
}

// ---------------------------------------------------------------------------
// Reading bodies
// ---------------------------------------------------------------------------

// chunkReader hands out body in reads of at most chunk bytes, the last one
// with io.EOF when eofWithData is set, and counts what it handed out.
type chunkReader struct {
	body        []byte
	chunk       int
	eofWithData bool
	read        int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.read == len(r.body) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.chunk)], r.body[r.read:])
	r.read += n
	if r.eofWithData && r.read == len(r.body) {
		return n, io.EOF
	}
	return n, nil
}

func (r *chunkReader) Close() error { return nil }

func FuzzReadBody(f *testing.F) {
	f.Add([]byte(`{"id":"b05c20e034"}`), uint16(64), uint8(7), true, false, false)
	f.Add([]byte(``), uint16(0), uint8(1), false, true, false)
	f.Add([]byte(`[1,2,3]`), uint16(6), uint8(3), true, true, false)
	f.Add([]byte(`[1,2,3]`), uint16(7), uint8(255), false, false, true)
	f.Add(bytes.Repeat([]byte("x"), 2000), uint16(1500), uint8(200), true, false, false)
	f.Add(bytes.Repeat([]byte("y"), 5000), uint16(4000), uint8(63), false, false, false)
	f.Add(bytes.Repeat([]byte("z"), 5000), uint16(4999), uint8(63), false, true, true)
	f.Fuzz(func(t *testing.T, body []byte, limit16 uint16, chunk8 uint8, knownLength, eofWithData, truncate bool) {
		limit := int64(limit16)
		r := &chunkReader{body: body, chunk: int(chunk8)%64 + 1, eofWithData: eofWithData}
		size := int64(-1)
		if knownLength {
			size = int64(len(body))
		}
		got, err := readCapped(r, size, limit, truncate)
		switch {
		case truncate:
			if want := body[:min(int64(len(body)), limit)]; err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read %q, %v; want %q", got, err, want)
			}
		case int64(len(body)) > limit:
			if !errors.Is(err, errBodyTooLarge) || got != nil {
				t.Fatalf("%d bytes read under a limit of %d: %v", len(body), limit, err)
			}
			if knownLength && r.read != 0 {
				t.Fatalf("read %d bytes of a body declared over the limit", r.read)
			}
		case err != nil || !bytes.Equal(got, body):
			t.Fatalf("read %q, %v; want %q", got, err, body)
		}
		if int64(r.read) > limit+1 {
			t.Fatalf("consumed %d bytes under a limit of %d", r.read, limit)
		}
	})
}
