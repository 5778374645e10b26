package emporix

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// svcOp is one operation as the token and retry tests drive it.
type svcOp struct {
	name   string
	method string
	path   string // as served, escaped
	call   func(ctx context.Context, c *Client) error
}

// ---- profile fixtures ----

const (
	profilePath = "/customer/mytenant/me"
	// profileSpecExample is the spec's "Logged in customer" example.
	profileSpecExample = `{
		"title": "MR", "firstName": "John", "lastName": "Doe", "contactPhone": "123456789",
		"company": "Emporix", "preferredLanguage": "en_US", "preferredCurrency": "USD",
		"preferredSite": "default", "metadata": {"mixins": {}, "version": 2}, "mixins": {},
		"customerNumber": "13869000", "id": "13869000",
		"accounts": [{"id": "example@customer.com"}],
		"contactEmail": "example@customer.com", "businessModel": "B2B",
		"b2b": {"companyRegistrationId": "123-456-789",
		        "legalEntities": [{"id": "D165356", "name": "Emporix", "contactAssignmentId": "D436432"}]}
	}`
	// profileAnonymousExample is the spec's "Anonymous customer" example.
	profileAnonymousExample = `{"firstName":"Anonymous","lastName":"Anonymous","preferredSite":"default",
		"customerNumber":"00000000","id":"00000000","accounts":[]}`
)

// ---- Profile.Get ----

func TestProfileGet_SpecExample(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, http.MethodGet, profilePath, jsonReply(http.StatusOK, profileSpecExample))

	cust, err := c.Profile.Get(context.Background(), nil)
	require.NoError(t, err)

	assertRequest(t, only(t, sent), wantRequest{
		method: http.MethodGet, path: profilePath, auth: "Bearer " + custAccess,
	})
	want := &Customer{
		ID:                "13869000",
		CustomerNumber:    "13869000",
		Title:             "MR",
		FirstName:         "John",
		LastName:          "Doe",
		ContactEmail:      "example@customer.com",
		ContactPhone:      "123456789",
		Company:           "Emporix",
		PreferredLanguage: "en_US",
		PreferredCurrency: "USD",
		PreferredSite:     "default",
		Accounts:          []Account{{ID: "example@customer.com"}},
		BusinessModel:     BusinessModelB2B,
		B2B: &B2B{
			CompanyRegistrationID: "123-456-789",
			LegalEntities:         []LegalEntity{{ID: "D165356", Name: "Emporix", ContactAssignmentID: "D436432"}},
		},
		Mixins:   Mixins{},
		Metadata: &Metadata{Mixins: map[string]any{}, Version: 2},
	}
	assert.Equal(t, want, cust)
	assert.Equal(t, 2, cust.Version())
	assert.False(t, cust.Anonymous())
	assert.Nil(t, cust.LastLogin, "the example has no lastLogin")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestProfileGet_AllFieldsWithExpand(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, http.MethodGet, profilePath, jsonReply(http.StatusOK, `{
		"id": "13869000", "customerNumber": "13869000", "title": "MRS",
		"firstName": "Jane", "middleName": "Q", "lastName": "Roe",
		"contactEmail": "jane@customer.com", "contactPhone": "+49 30 1234",
		"company": "Emporix", "preferredLanguage": "de_DE", "preferredCurrency": "EUR", "preferredSite": "main",
		"accounts": [{"id": "jane@customer.com"}, {"id": "jane@social.example", "providerId": "google-oauth2|1099"}],
		"addresses": [
			{"id": "b05c20e034", "contactName": "Jane Roe", "companyName": "Emporix", "street": "Platz der Republik",
			 "streetNumber": "1", "streetAppendix": "c/o Reichstag", "extraLine1": "e1", "extraLine2": "e2",
			 "extraLine3": "e3", "extraLine4": "e4", "zipCode": "11011", "city": "Berlin", "country": "DE",
			 "state": "Berlin", "contactPhone": "123456789", "isDefault": true, "tags": ["BILLING", "SHIPPING"],
			 "metadata": {"mixins": {"delivery": "https://res.example/delivery.json"}, "version": 4},
			 "mixins": {"delivery": {"window": "evening"}}},
			{"id": "c11", "contactName": "Office", "city": "Munich", "country": "DE", "tags": []}
		],
		"defaultAddress": {"id": "b05c20e034", "contactName": "Jane Roe", "city": "Berlin", "country": "DE", "isDefault": true},
		"businessModel": "B2C",
		"b2b": {"companyRegistrationId": "R-1", "legalEntities": [
			{"id": "LE1", "name": "One", "contactAssignmentId": "CA1"},
			{"id": "LE2", "name": "Two", "contactAssignmentId": "CA2"}]},
		"mixins": {"loyalty": {"tier": "gold", "points": 1200, "active": true, "tags": ["a", "b"], "note": null}},
		"metadata": {"mixins": {"loyalty": "https://res.example/loyalty.v1.json"}, "version": 7},
		"lastLogin": "2026-11-20T08:15:30.123Z"
	}`))

	cust, err := c.Profile.Get(context.Background(), &ProfileGetOptions{Expand: []string{"addresses", "mixin:*"}})
	require.NoError(t, err)

	assertRequest(t, only(t, sent), wantRequest{
		method: http.MethodGet, path: profilePath, auth: "Bearer " + custAccess,
		query: url.Values{"expand": {"addresses,mixin:*"}},
	})
	want := &Customer{
		ID: "13869000", CustomerNumber: "13869000", Title: "MRS",
		FirstName: "Jane", MiddleName: "Q", LastName: "Roe",
		ContactEmail: "jane@customer.com", ContactPhone: "+49 30 1234", Company: "Emporix",
		PreferredLanguage: "de_DE", PreferredCurrency: "EUR", PreferredSite: "main",
		Accounts: []Account{{ID: "jane@customer.com"}, {ID: "jane@social.example", ProviderID: "google-oauth2|1099"}},
		Addresses: []Address{
			{
				ID: "b05c20e034", ContactName: "Jane Roe", CompanyName: "Emporix", Street: "Platz der Republik",
				StreetNumber: "1", StreetAppendix: "c/o Reichstag", ExtraLine1: "e1", ExtraLine2: "e2",
				ExtraLine3: "e3", ExtraLine4: "e4", ZipCode: "11011", City: "Berlin", Country: "DE",
				State: "Berlin", ContactPhone: "123456789", IsDefault: true, Tags: []string{"BILLING", "SHIPPING"},
				Metadata: &Metadata{Mixins: map[string]any{"delivery": "https://res.example/delivery.json"}, Version: 4},
				Mixins:   Mixins{"delivery": map[string]any{"window": "evening"}},
			},
			{ID: "c11", ContactName: "Office", City: "Munich", Country: "DE", Tags: []string{}},
		},
		DefaultAddress: &Address{ID: "b05c20e034", ContactName: "Jane Roe", City: "Berlin", Country: "DE", IsDefault: true},
		BusinessModel:  BusinessModelB2C,
		B2B: &B2B{CompanyRegistrationID: "R-1", LegalEntities: []LegalEntity{
			{ID: "LE1", Name: "One", ContactAssignmentID: "CA1"},
			{ID: "LE2", Name: "Two", ContactAssignmentID: "CA2"},
		}},
		Mixins: Mixins{"loyalty": map[string]any{
			"tier": "gold", "points": float64(1200), "active": true, "tags": []any{"a", "b"}, "note": nil,
		}},
		Metadata:  &Metadata{Mixins: map[string]any{"loyalty": "https://res.example/loyalty.v1.json"}, Version: 7},
		LastLogin: Ptr(time.Date(2026, 11, 20, 8, 15, 30, 123_000_000, time.UTC)),
	}
	assert.Equal(t, want, cust)
	assert.Equal(t, 7, cust.Version())
	assert.False(t, cust.Anonymous())
	assert.True(t, cust.Addresses[0].HasTag(TagBilling))
	assert.True(t, cust.Addresses[0].HasTag(TagShipping))
	assert.False(t, cust.Addresses[1].HasTag(TagBilling))
}

func TestProfileGet_LastLoginNullAndOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *time.Time
	}{
		{"null", `{"id":"1","customerNumber":"1","lastLogin":null}`, nil},
		{"absent", `{"id":"1","customerNumber":"1"}`, nil},
		{"offset", `{"id":"1","customerNumber":"1","lastLogin":"2026-11-20T10:15:30+02:00"}`,
			Ptr(time.Date(2026, 11, 20, 8, 15, 30, 0, time.UTC))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowOffSpecResponses(t, "lastLogin is null for customers who have not logged in since 2025-02-14 (changelog); the spec does not mark it nullable")
			c, mt := newTestClient(t)
			serve(t, mt, http.MethodGet, profilePath, jsonReply(http.StatusOK, tt.body))
			cust, err := c.Profile.Get(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, "1", cust.CustomerNumber)
			if tt.want == nil {
				assert.Nil(t, cust.LastLogin)
				return
			}
			require.NotNil(t, cust.LastLogin)
			assert.True(t, tt.want.Equal(*cust.LastLogin), "lastLogin = %v", cust.LastLogin)
		})
	}
}

func TestProfileGet_TokenKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		source   TokenSource
		wantAuth string
	}{
		{"customer and anonymous prefers customer", StaticTokens(anonToken(), custToken()), "Bearer " + custAccess},
		{"customer only", StaticTokenSource(custToken()), "Bearer " + custAccess},
		{"unspecified kind", StaticTokenSource(&Token{AccessToken: "RAW-COOKIE-TOKEN"}), "Bearer RAW-COOKIE-TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t, WithTokenSource(tt.source))
			sent := serve(t, mt, http.MethodGet, profilePath, jsonReply(http.StatusOK, profileSpecExample))
			cust, err := c.Profile.Get(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, "13869000", cust.CustomerNumber)
			assert.Equal(t, tt.wantAuth, only(t, sent).Header.Get("Authorization"))
		})
	}
}

func TestProfileGet_AnonymousPseudoCustomer(t *testing.T) {
	t.Parallel()
	for _, src := range []struct {
		name   string
		source TokenSource
	}{
		{"StaticTokenSource", StaticTokenSource(anonToken())},
		{"StaticTokens without customer", StaticTokens(anonToken(), nil)},
	} {
		t.Run(src.name, func(t *testing.T) {
			c, mt := newTestClient(t, WithTokenSource(src.source))
			sent := serve(t, mt, http.MethodGet, profilePath, jsonReply(http.StatusOK, profileAnonymousExample))

			cust, err := c.Profile.Get(context.Background(), nil)
			require.NoError(t, err)

			assertRequest(t, only(t, sent), wantRequest{
				method: http.MethodGet, path: profilePath, auth: "Bearer " + anonAccess,
			})
			assert.Equal(t, &Customer{
				ID: AnonymousCustomerNumber, CustomerNumber: "00000000",
				FirstName: "Anonymous", LastName: "Anonymous", PreferredSite: "default",
				Accounts: []Account{},
			}, cust)
			assert.True(t, cust.Anonymous())
			assert.Zero(t, cust.Version())
		})
	}
}

func TestCustomer_AnonymousAndVersionOnNil(t *testing.T) {
	t.Parallel()
	var nilCust *Customer
	assert.False(t, nilCust.Anonymous())
	assert.Zero(t, nilCust.Version())
	assert.False(t, (&Customer{CustomerNumber: "13869000"}).Anonymous())
	assert.True(t, (&Customer{CustomerNumber: "00000000"}).Anonymous())
	assert.Zero(t, (&Customer{Metadata: &Metadata{}}).Version())
	assert.Equal(t, 5, (&Customer{Metadata: &Metadata{Version: 5}}).Version())
}

func TestProfileGet_ExpandQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts *ProfileGetOptions
		want url.Values
	}{
		{"nil options", nil, nil},
		{"empty expand", &ProfileGetOptions{}, nil},
		{"empty non-nil expand", &ProfileGetOptions{Expand: []string{}}, nil},
		{"addresses", &ProfileGetOptions{Expand: []string{"addresses"}}, url.Values{"expand": {"addresses"}}},
		{"mixins", &ProfileGetOptions{Expand: []string{"mixin:*"}}, url.Values{"expand": {"mixin:*"}}},
		{"both", &ProfileGetOptions{Expand: []string{"addresses", "mixin:*"}}, url.Values{"expand": {"addresses,mixin:*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			sent := serve(t, mt, http.MethodGet, profilePath, jsonReply(http.StatusOK, profileSpecExample))
			_, err := c.Profile.Get(context.Background(), tt.opts)
			require.NoError(t, err)
			got := only(t, sent)
			if tt.want == nil {
				assert.Empty(t, got.URL.Query())
			} else {
				assert.Equal(t, tt.want, got.URL.Query())
			}
		})
	}
}

func TestProfileGet_InvalidExpand(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, expand []string) (any, error) {
		return c.Profile.Get(context.Background(), &ProfileGetOptions{Expand: expand})
	}, []invalidCase[[]string]{
		{"empty", []string{""}, "ProfileGetOptions.Expand"},
		{"blank", []string{"  "}, "ProfileGetOptions.Expand"},
		{"empty among others", []string{"addresses", ""}, "ProfileGetOptions.Expand"},
		{"comma inside", []string{"addresses,mixin:*"}, "ProfileGetOptions.Expand"},
	})
}

func TestProfileGet_NoToken(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t, WithTokenSource(nil))
	cust, err := c.Profile.Get(context.Background(), nil)
	assert.Nil(t, cust)
	assert.ErrorIs(t, err, ErrNoToken)
	requireNoRequests(t, mt)
}

func TestProfileGet_UnusableBody(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "robustness: unusable success bodies")
	for _, body := range []string{"", "   ", "not json", `{"id": 5}`, `[]`} {
		t.Run(body, func(t *testing.T) {
			c, mt := newTestClient(t)
			serve(t, mt, http.MethodGet, profilePath, reply{status: http.StatusOK, body: body})
			cust, err := c.Profile.Get(context.Background(), nil)
			assert.Nil(t, cust)
			assert.ErrorIs(t, err, ErrInvalidResponse)
			re := requireResponseError(t, err, http.StatusOK)
			assert.Equal(t, profilePath, re.Path)
		})
	}
}

// ---- Profile.Update and Profile.MergePatch ----

// profilePatchers runs a test for both PATCH flavours.
var profilePatchers = []struct {
	name        string
	contentType string
	patch       func(c *Client, u *ProfileUpdate) error
}{
	{"Update", "application/json", func(c *Client, u *ProfileUpdate) error {
		return c.Profile.Update(context.Background(), u)
	}},
	{"MergePatch", "application/merge-patch+json", func(c *Client, u *ProfileUpdate) error {
		return c.Profile.MergePatch(context.Background(), u)
	}},
}

func TestProfilePatch_Bodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *ProfileUpdate
		want string
	}{
		{
			name: "spec example with version",
			in: &ProfileUpdate{
				Title: Ptr("MR"), FirstName: Ptr("John"), LastName: Ptr("Doe"),
				ContactEmail: Ptr("example@customer.com"), ContactPhone: Ptr("123456789"),
				Company: Ptr("Emporix"), PreferredLanguage: Ptr("en_US"), PreferredCurrency: Ptr("EUR"),
				PreferredSite: Ptr("main"), B2B: &B2BCreate{CompanyRegistrationID: "123-456-789"},
				Metadata: &Metadata{Version: 1},
			},
			want: `{"title":"MR","firstName":"John","lastName":"Doe","contactEmail":"example@customer.com",
				"contactPhone":"123456789","company":"Emporix","preferredLanguage":"en_US",
				"preferredCurrency":"EUR","preferredSite":"main","b2b":{"companyRegistrationId":"123-456-789"},
				"metadata":{"version":1}}`,
		},
		{
			name: "every field",
			in: &ProfileUpdate{
				Title: Ptr("DR"), FirstName: Ptr("Jane"), MiddleName: Ptr("Q"), LastName: Ptr("Roe"),
				ContactPhone: Ptr("+1"), Company: Ptr("ACME"), PreferredLanguage: Ptr("fr_FR"),
				PreferredCurrency: Ptr("chf"), PreferredSite: Ptr("ch"), B2B: &B2BCreate{CompanyRegistrationID: "R"},
				Metadata:     &Metadata{Version: 42, Mixins: map[string]any{"loyalty": "https://res.example/l.json"}},
				Mixins:       Mixins{"loyalty": map[string]any{"tier": "gold"}},
				ContactEmail: Ptr("jane@example.com"),
			},
			want: `{"title":"DR","firstName":"Jane","middleName":"Q","lastName":"Roe","contactPhone":"+1",
				"company":"ACME","preferredLanguage":"fr_FR","preferredCurrency":"chf","preferredSite":"ch",
				"b2b":{"companyRegistrationId":"R"},
				"metadata":{"version":42,"mixins":{"loyalty":"https://res.example/l.json"}},
				"mixins":{"loyalty":{"tier":"gold"}},"contactEmail":"jane@example.com"}`,
		},
		{
			name: "nil pointers omitted, no metadata",
			in:   &ProfileUpdate{FirstName: Ptr("Jane")},
			want: `{"firstName":"Jane"}`,
		},
		{
			name: "empty update",
			in:   &ProfileUpdate{},
			want: `{}`,
		},
		{
			name: "pointer to empty string is sent",
			in:   &ProfileUpdate{MiddleName: Ptr(""), ContactPhone: Ptr("")},
			want: `{"middleName":"","contactPhone":""}`,
		},
		{
			name: "zero version is omitted",
			in:   &ProfileUpdate{LastName: Ptr("Roe"), Metadata: &Metadata{Mixins: map[string]any{"m": "https://res.example/m.json"}}},
			want: `{"lastName":"Roe","metadata":{"mixins":{"m":"https://res.example/m.json"}}}`,
		},
		{
			name: "mixins preserved as given",
			in: &ProfileUpdate{Mixins: Mixins{
				"loyalty":  map[string]any{"tier": "gold", "points": 1200, "ratio": 0.5, "active": false, "tags": []string{"x", "y"}},
				"remove":   nil,
				"nested":   map[string]any{"a": map[string]any{"b": []any{1, "two", map[string]any{"c": true}}}},
				"unicode":  "Grüße <&>",
				"emptyObj": map[string]any{},
			}},
			want: `{"mixins":{"loyalty":{"tier":"gold","points":1200,"ratio":0.5,"active":false,"tags":["x","y"]},
				"remove":null,"nested":{"a":{"b":[1,"two",{"c":true}]}},"unicode":"Grüße <&>","emptyObj":{}}}`,
		},
	}
	for _, p := range profilePatchers {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				c, mt := newTestClient(t)
				sent := serve(t, mt, http.MethodPatch, profilePath, reply{status: http.StatusOK})
				require.NoError(t, p.patch(c, tt.in))
				assertRequest(t, only(t, sent), wantRequest{
					method: http.MethodPatch, path: profilePath, auth: "Bearer " + custAccess,
					contentType: p.contentType, body: tt.want,
				})
				assert.Equal(t, 1, mt.GetTotalCallCount())
			})
		}
	}
}

func TestProfilePatch_ZeroVersionHasNoVersionKey(t *testing.T) {
	t.Parallel()
	for _, p := range profilePatchers {
		t.Run(p.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			sent := serve(t, mt, http.MethodPatch, profilePath, reply{status: http.StatusOK})
			require.NoError(t, p.patch(c, &ProfileUpdate{FirstName: Ptr("Jane"), Metadata: &Metadata{}}))
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(bodyOf(t, only(t, sent))), &got))
			assert.Equal(t, "Jane", got["firstName"])
			if md, ok := got["metadata"].(map[string]any); ok {
				assert.NotContains(t, md, "version", "a zero version must not be sent")
			}
		})
	}
}

func TestProfilePatch_SuccessResponses(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "tolerance: a body or a 204 where the spec documents an empty 200")
	tests := []struct {
		name string
		r    reply
	}{
		{"200 empty body", reply{status: http.StatusOK}},
		{"200 whitespace body", reply{status: http.StatusOK, body: "\n"}},
		{"200 JSON body", jsonReply(http.StatusOK, `{"id":"13869000"}`)},
		{"204", reply{status: http.StatusNoContent}},
	}
	for _, p := range profilePatchers {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				c, mt := newTestClient(t)
				serve(t, mt, http.MethodPut, profilePath, reply{status: http.StatusOK})
				serve(t, mt, http.MethodPatch, profilePath, tt.r)
				assert.NoError(t, p.patch(c, &ProfileUpdate{Company: Ptr("ACME")}))
				assert.Equal(t, 1, calls(mt, http.MethodPatch, profilePath))
				assert.Zero(t, calls(mt, http.MethodPut, profilePath), "PUT sent")
			})
		}
	}
}

func TestProfilePatch_InvalidInput(t *testing.T) {
	t.Parallel()
	for _, p := range profilePatchers {
		t.Run(p.name, func(t *testing.T) {
			runInvalid(t, func(c *Client, in *ProfileUpdate) (any, error) { return nil, p.patch(c, in) }, []invalidCase[*ProfileUpdate]{
				{"nil", nil, "ProfileUpdate"},
				{"currency too long", &ProfileUpdate{PreferredCurrency: Ptr("EURO")}, "ProfileUpdate.PreferredCurrency"},
				{"currency too short", &ProfileUpdate{PreferredCurrency: Ptr("EU")}, "ProfileUpdate.PreferredCurrency"},
				{"currency empty", &ProfileUpdate{PreferredCurrency: Ptr("")}, "ProfileUpdate.PreferredCurrency"},
				{"currency with digit", &ProfileUpdate{PreferredCurrency: Ptr("E1R")}, "ProfileUpdate.PreferredCurrency"},
				{"currency non-ASCII", &ProfileUpdate{PreferredCurrency: Ptr("€UR")}, "ProfileUpdate.PreferredCurrency"},
				{"negative version", &ProfileUpdate{FirstName: Ptr("J"), Metadata: &Metadata{Version: -1}}, "ProfileUpdate.Metadata.Version"},
			})
		})
	}
}
