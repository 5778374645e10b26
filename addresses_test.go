package emporix

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	addressesPath = "/customer/mytenant/me/addresses"
	addressID     = "b05c20e034"
	addressPath   = addressesPath + "/" + addressID
	addressTags   = addressPath + "/tags"

	// addressSpecExample is the spec's AddressDto example.
	addressSpecExample = `{"contactName":"John Doe","companyName":"Emporix","street":"Platz der Republik",
		"streetNumber":"1","streetAppendix":"","extraLine1":"","extraLine2":"","extraLine3":"","extraLine4":"",
		"zipCode":"11011","city":"Berlin","country":"DE","state":"Berlin","contactPhone":"123456789",
		"tags":["BILLING","SHIPPING"],"id":"b05c20e034","isDefault":true}`
)

// addressSpecDecoded is addressSpecExample decoded.
func addressSpecDecoded() Address {
	return Address{
		ID: "b05c20e034", ContactName: "John Doe", CompanyName: "Emporix", Street: "Platz der Republik",
		StreetNumber: "1", ZipCode: "11011", City: "Berlin", Country: "DE", State: "Berlin",
		ContactPhone: "123456789", IsDefault: true, Tags: []string{"BILLING", "SHIPPING"},
	}
}

// addressOps are the operations on the address with the given raw ID and
// its escaped form.
func addressOps(id, escaped string) []svcOp {
	one := addressesPath + "/" + escaped
	op := func(name, method, path string, call func(ctx context.Context, c *Client) error) svcOp {
		return svcOp{name: "Addresses." + name, method: method, path: path, call: call}
	}
	return []svcOp{
		op("Get", http.MethodGet, one, func(ctx context.Context, c *Client) error {
			_, err := c.Addresses.Get(ctx, id)
			return err
		}),
		op("Update", http.MethodPatch, one, func(ctx context.Context, c *Client) error {
			return c.Addresses.Update(ctx, id, &AddressUpdate{City: Ptr("Bonn"), Metadata: &Metadata{Version: 3}})
		}),
		op("Delete", http.MethodDelete, one, func(ctx context.Context, c *Client) error { return c.Addresses.Delete(ctx, id) }),
		op("AddTags", http.MethodPost, one+"/tags", func(ctx context.Context, c *Client) error {
			return c.Addresses.AddTags(ctx, id, TagBilling)
		}),
		op("RemoveTags", http.MethodDelete, one+"/tags", func(ctx context.Context, c *Client) error {
			return c.Addresses.RemoveTags(ctx, id, TagBilling)
		}),
	}
}

// ---- List ----

func TestAddressesList_SpecExample(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, http.MethodGet, addressesPath, jsonReply(http.StatusOK, `[`+addressSpecExample+`,
		{"id":"c11","contactName":"Office","country":"DE","isDefault":false,"tags":[],
		 "metadata":{"mixins":{"delivery":"https://res.example/d.json"},"version":3},
		 "mixins":{"delivery":{"window":"evening","days":[1,2]}}}]`))

	got, err := c.Addresses.List(context.Background())
	require.NoError(t, err)

	assertRequest(t, only(t, sent), wantRequest{
		method: http.MethodGet, path: addressesPath, auth: "Bearer " + custAccess,
	})
	assert.Equal(t, []Address{
		addressSpecDecoded(),
		{
			ID: "c11", ContactName: "Office", Country: "DE", Tags: []string{},
			Metadata: &Metadata{Mixins: map[string]any{"delivery": "https://res.example/d.json"}, Version: 3},
			Mixins:   Mixins{"delivery": map[string]any{"window": "evening", "days": []any{float64(1), float64(2)}}},
		},
	}, got)
	assert.True(t, got[0].IsDefault)
	assert.True(t, got[0].HasTag(TagShipping))
	assert.False(t, got[1].IsDefault)
	assert.False(t, got[1].HasTag(TagShipping))
}

func TestAddressesList_Empty(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "tolerance: a null list")
	for _, body := range []string{`[]`, `null`} {
		t.Run(body, func(t *testing.T) {
			c, mt := newTestClient(t)
			serve(t, mt, http.MethodGet, addressesPath, jsonReply(http.StatusOK, body))
			got, err := c.Addresses.List(context.Background())
			require.NoError(t, err)
			assert.NotNil(t, got, "an empty list is not nil")
			assert.Empty(t, got)
		})
	}
}

func TestAddressesList_UnusableBody(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "robustness: unusable success bodies")
	for _, body := range []string{"", `{"id":"b05c20e034"}`, `[{"id":1}]`, "<html>"} {
		t.Run(body, func(t *testing.T) {
			c, mt := newTestClient(t)
			serve(t, mt, http.MethodGet, addressesPath, reply{status: http.StatusOK, body: body})
			got, err := c.Addresses.List(context.Background())
			assert.Nil(t, got)
			assert.ErrorIs(t, err, ErrInvalidResponse)
		})
	}
}

// ---- Create ----

func TestAddressesCreate_Bodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *AddressCreate
		id   string // the id the service answers
		want string
	}{
		{
			name: "spec example",
			in: &AddressCreate{
				ContactName: "John Doe", CompanyName: "Emporix", Street: "Platz der Republik", StreetNumber: "1",
				ZipCode: "11011", City: "Berlin", Country: "DE", State: "Berlin", ContactPhone: "123456789",
				Tags: []string{TagBilling, TagShipping},
			},
			id: "b05c20e034",
			want: `{"contactName":"John Doe","companyName":"Emporix","street":"Platz der Republik","streetNumber":"1",
				"zipCode":"11011","city":"Berlin","country":"DE","state":"Berlin","contactPhone":"123456789",
				"tags":["BILLING","SHIPPING"]}`,
		},
		{
			name: "every field",
			in: &AddressCreate{
				ContactName: "Jane Roe", CompanyName: "ACME", Street: "Main St", StreetNumber: "5a",
				StreetAppendix: "rear", ExtraLine1: "l1", ExtraLine2: "l2", ExtraLine3: "l3", ExtraLine4: "l4",
				ZipCode: "10115", City: "Berlin", Country: "DE", State: "BE", ContactPhone: "+49",
				Tags:     []string{"HOME"},
				Metadata: &BasicMetadata{Mixins: map[string]any{"delivery": "https://res.example/d.json"}},
				Mixins:   Mixins{"delivery": map[string]any{"window": "evening", "floor": 3, "lift": true}},
			},
			id: "new-1",
			want: `{"contactName":"Jane Roe","companyName":"ACME","street":"Main St","streetNumber":"5a",
				"streetAppendix":"rear","extraLine1":"l1","extraLine2":"l2","extraLine3":"l3","extraLine4":"l4",
				"zipCode":"10115","city":"Berlin","country":"DE","state":"BE","contactPhone":"+49",
				"tags":["HOME"],"metadata":{"mixins":{"delivery":"https://res.example/d.json"}},
				"mixins":{"delivery":{"window":"evening","floor":3,"lift":true}}}`,
		},
		{name: "minimal", in: &AddressCreate{ContactName: "John Doe"}, id: "x", want: `{"contactName":"John Doe"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			sent := serve(t, mt, http.MethodPost, addressesPath, jsonReply(http.StatusCreated, `{"id":"`+tt.id+`"}`))
			id, err := c.Addresses.Create(context.Background(), tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.id, id)
			assertRequest(t, only(t, sent), wantRequest{method: http.MethodPost, path: addressesPath, auth: bearer(custAccess),
				contentType: "application/json", body: tt.want})
		})
	}
}

func TestAddressesCreate_UnusableResponse(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "robustness: a 201 without a usable id")
	tests := []struct {
		name string
		r    reply
	}{
		{"201 without id", jsonReply(http.StatusCreated, `{}`)},
		{"201 with empty id", jsonReply(http.StatusCreated, `{"id":""}`)},
		{"201 with null id", jsonReply(http.StatusCreated, `{"id":null}`)},
		{"201 empty body", reply{status: http.StatusCreated}},
		{"201 malformed", reply{status: http.StatusCreated, body: `{"id":`}},
		{"201 id not a string", jsonReply(http.StatusCreated, `{"id":42}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			serve(t, mt, http.MethodPost, addressesPath, tt.r)
			id, err := c.Addresses.Create(context.Background(), &AddressCreate{ContactName: "John Doe"})
			assert.Empty(t, id)
			assert.ErrorIs(t, err, ErrInvalidResponse)
			re := requireResponseError(t, err, http.StatusCreated)
			assert.Equal(t, http.MethodPost, re.Method)
			assert.Equal(t, addressesPath, re.Path)
			assert.NotErrorIs(t, err, ErrInvalidInput)
			assert.Equal(t, 1, calls(mt, http.MethodPost, addressesPath), "a create is never repeated")
		})
	}
}

func TestAddressesCreate_InvalidInput(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *AddressCreate) (any, error) { return c.Addresses.Create(context.Background(), in) }, []invalidCase[*AddressCreate]{
		{"nil", nil, "AddressCreate"},
		{"empty tag", &AddressCreate{ContactName: "J", Tags: []string{"BILLING", ""}}, "AddressCreate.Tags"},
		{"blank tag", &AddressCreate{ContactName: "J", Tags: []string{" "}}, "AddressCreate.Tags"},
		{"tag with comma", &AddressCreate{ContactName: "J", Tags: []string{"BILLING,SHIPPING"}}, "AddressCreate.Tags"},
	})
}

// ---- Get ----

func TestAddressesGet_SpecExample(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	sent := serve(t, mt, http.MethodGet, addressPath, jsonReply(http.StatusOK, addressSpecExample))

	got, err := c.Addresses.Get(context.Background(), addressID)
	require.NoError(t, err)

	assertRequest(t, only(t, sent), wantRequest{
		method: http.MethodGet, path: "/customer/mytenant/me/addresses/b05c20e034", auth: "Bearer " + custAccess,
	})
	want := addressSpecDecoded()
	assert.Equal(t, &want, got)
}

func TestAddressesGet_WithMetadataAndMixins(t *testing.T) {
	t.Parallel()
	c, mt := newTestClient(t)
	serve(t, mt, http.MethodGet, addressPath, jsonReply(http.StatusOK, `{"id":"b05c20e034","contactName":"J",
		"isDefault":false,"tags":["SHIPPING"],"metadata":{"mixins":{"m":"https://res.example/m.json"},"version":9},
		"mixins":{"m":{"k":"v"}},"unknownField":"ignored"}`))
	got, err := c.Addresses.Get(context.Background(), addressID)
	require.NoError(t, err)
	assert.Equal(t, &Address{
		ID: "b05c20e034", ContactName: "J", Tags: []string{"SHIPPING"},
		Metadata: &Metadata{Mixins: map[string]any{"m": "https://res.example/m.json"}, Version: 9},
		Mixins:   Mixins{"m": map[string]any{"k": "v"}},
	}, got)
	assert.Equal(t, 9, got.Metadata.Version)
}

func TestAddressesGet_UnusableBody(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "robustness: an empty 200")
	c, mt := newTestClient(t)
	serve(t, mt, http.MethodGet, addressPath, reply{status: http.StatusOK})
	got, err := c.Addresses.Get(context.Background(), addressID)
	assert.Nil(t, got)
	assert.ErrorIs(t, err, ErrInvalidResponse)
}

// ---- Update ----

func TestAddressesUpdate_Bodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *AddressUpdate
		want string
	}{
		{
			name: "spec example",
			in: &AddressUpdate{
				ContactName: Ptr("John Doe"), CompanyName: Ptr("Emporix"), Street: Ptr("Platz der Republik"),
				StreetNumber: Ptr("1"), StreetAppendix: Ptr(""), ExtraLine1: Ptr(""), ExtraLine2: Ptr(""),
				ExtraLine3: Ptr(""), ExtraLine4: Ptr(""), ZipCode: Ptr("11011"), City: Ptr("Berlin"),
				Country: Ptr("DE"), State: Ptr("Berlin"), ContactPhone: Ptr("123456789"),
				Tags: []string{TagBilling, TagShipping}, IsDefault: Ptr(true),
			},
			want: `{"contactName":"John Doe","companyName":"Emporix","street":"Platz der Republik",
				"streetNumber":"1","streetAppendix":"","extraLine1":"","extraLine2":"","extraLine3":"","extraLine4":"",
				"zipCode":"11011","city":"Berlin","country":"DE","state":"Berlin","contactPhone":"123456789",
				"tags":["BILLING","SHIPPING"],"isDefault":true}`,
		},
		{
			name: "version and mixins",
			in: &AddressUpdate{
				City:     Ptr("Bonn"),
				Metadata: &Metadata{Version: 3, Mixins: map[string]any{"m": "https://res.example/m.json"}},
				Mixins:   Mixins{"m": map[string]any{"k": []any{"a", 1.5, nil}}},
			},
			want: `{"city":"Bonn","metadata":{"version":3,"mixins":{"m":"https://res.example/m.json"}},
				"mixins":{"m":{"k":["a",1.5,null]}}}`,
		},
		{
			name: "zero version omitted",
			in:   &AddressUpdate{City: Ptr("Bonn"), Metadata: &Metadata{Mixins: map[string]any{"m": "u"}}},
			want: `{"city":"Bonn","metadata":{"mixins":{"m":"u"}}}`,
		},
		{
			name: "nil pointers omitted",
			in:   &AddressUpdate{ZipCode: Ptr("53111")},
			want: `{"zipCode":"53111"}`,
		},
		{
			name: "isDefault false is sent",
			in:   &AddressUpdate{IsDefault: Ptr(false)},
			want: `{"isDefault":false}`,
		},
		{
			name: "empty non-nil tags clear the tags",
			in:   &AddressUpdate{Tags: []string{}},
			want: `{"tags":[]}`,
		},
		{
			name: "empty update",
			in:   &AddressUpdate{},
			want: `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newTestClient(t)
			sent := serve(t, mt, http.MethodPatch, addressPath, reply{status: http.StatusOK})
			require.NoError(t, c.Addresses.Update(context.Background(), addressID, tt.in))
			assertRequest(t, only(t, sent), wantRequest{
				method: http.MethodPatch, path: "/customer/mytenant/me/addresses/b05c20e034",
				auth: "Bearer " + custAccess, contentType: "application/json", body: tt.want,
			})
		})
	}
}

func TestAddressesUpdate_SuccessResponses(t *testing.T) {
	t.Parallel()
	allowOffSpecResponses(t, "tolerance: a body or a 204 where the spec documents an empty 200")
	for _, r := range []reply{{status: http.StatusOK}, {status: http.StatusNoContent}, jsonReply(http.StatusOK, `{}`)} {
		t.Run(http.StatusText(r.status)+r.body, func(t *testing.T) {
			c, mt := newTestClient(t)
			serve(t, mt, http.MethodPut, addressPath, reply{status: http.StatusOK})
			serve(t, mt, http.MethodPatch, addressPath, r)
			assert.NoError(t, c.Addresses.Update(context.Background(), addressID, &AddressUpdate{City: Ptr("Bonn")}))
			assert.Equal(t, 1, calls(mt, http.MethodPatch, addressPath))
			assert.Zero(t, calls(mt, http.MethodPut, addressPath), "address update must be PATCH, never PUT")
		})
	}
}

func TestAddressesUpdate_InvalidInput(t *testing.T) {
	t.Parallel()
	runInvalid(t, func(c *Client, in *AddressUpdate) (any, error) {
		return nil, c.Addresses.Update(context.Background(), addressID, in)
	}, []invalidCase[*AddressUpdate]{
		{"nil body", nil, "AddressUpdate"},
		{"empty tag", &AddressUpdate{Tags: []string{""}}, "AddressUpdate.Tags"},
		{"tag with comma", &AddressUpdate{Tags: []string{"A,B"}}, "AddressUpdate.Tags"},
		{"negative version", &AddressUpdate{Metadata: &Metadata{Version: -2}}, "AddressUpdate.Metadata.Version"},
	})
}

// ---- Delete ----

func TestAddressesDelete(t *testing.T) {
	t.Parallel()
	for _, r := range []reply{{status: http.StatusNoContent}, {status: http.StatusOK}} {
		t.Run(http.StatusText(r.status), func(t *testing.T) {
			if r.status != http.StatusNoContent {
				allowOffSpecResponses(t, "tolerance: 200 where the spec documents 204")
			}
			c, mt := newTestClient(t)
			sent := serve(t, mt, http.MethodDelete, addressPath, r)
			require.NoError(t, c.Addresses.Delete(context.Background(), addressID))
			assertRequest(t, only(t, sent), wantRequest{
				method: http.MethodDelete, path: "/customer/mytenant/me/addresses/b05c20e034",
				auth: "Bearer " + custAccess,
			})
		})
	}
}

// ---- AddTags and RemoveTags ----

var addressTaggers = []struct {
	name   string
	method string
	op     func(c *Client, id string, tags ...string) error
}{
	{"AddTags", http.MethodPost, func(c *Client, id string, tags ...string) error {
		return c.Addresses.AddTags(context.Background(), id, tags...)
	}},
	{"RemoveTags", http.MethodDelete, func(c *Client, id string, tags ...string) error {
		return c.Addresses.RemoveTags(context.Background(), id, tags...)
	}},
}

func TestAddressesTags_Request(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tags []string
		want string
	}{
		{"two", []string{TagBilling, TagShipping}, "BILLING,SHIPPING"},
		{"one", []string{TagShipping}, "SHIPPING"},
		{"custom with space and ampersand", []string{"HOME & GARDEN", "x"}, "HOME & GARDEN,x"},
	}
	for _, tg := range addressTaggers {
		for _, tt := range tests {
			t.Run(tg.name+"/"+tt.name, func(t *testing.T) {
				c, mt := newTestClient(t)
				sent := serve(t, mt, tg.method, addressTags, reply{status: http.StatusNoContent})
				require.NoError(t, tg.op(c, addressID, tt.tags...))
				assertRequest(t, only(t, sent), wantRequest{
					method: tg.method, path: "/customer/mytenant/me/addresses/b05c20e034/tags",
					query: url.Values{"tags": {tt.want}}, auth: "Bearer " + custAccess,
				})
			})
		}
	}
}

func TestAddressesTags_InvalidInput(t *testing.T) {
	t.Parallel()
	for _, tg := range addressTaggers {
		t.Run(tg.name, func(t *testing.T) {
			runInvalid(t, func(c *Client, tags []string) (any, error) { return nil, tg.op(c, addressID, tags...) }, []invalidCase[[]string]{
				{"no tags", nil, "tags"},
				{"empty tag list", []string{}, "tags"},
				{"empty tag", []string{""}, "tags"},
				{"blank tag among others", []string{TagBilling, "  "}, "tags"},
				{"tag with comma", []string{"BILLING,SHIPPING"}, "tags"},
			})
		})
	}
}

// ---- across operations ----

func TestAddresses_PathEscaping(t *testing.T) {
	t.Parallel()
	ids := []struct{ raw, escaped string }{
		{"a/b c", "a%2Fb%20c"},
		{"x?y#z%", "x%3Fy%23z%25"},
		{"...", "..."},
		{"ümlaut", "%C3%BCmlaut"},
	}
	for _, id := range ids {
		for _, op := range addressOps(id.raw, id.escaped) {
			t.Run(op.name+"/"+id.escaped, func(t *testing.T) {
				c, mt := newTestClient(t)
				r := reply{status: http.StatusNoContent}
				switch op.method {
				case http.MethodGet:
					r = jsonReply(http.StatusOK, addressSpecExample)
				case http.MethodPatch:
					r = reply{status: http.StatusOK}
				}
				sent := serve(t, mt, op.method, op.path, r)
				require.NoError(t, op.call(context.Background(), c))
				assert.Equal(t, op.path, pathOf(only(t, sent)), "the ID must arrive escaped as one path segment")
				assert.Equal(t, 1, mt.GetTotalCallCount())
			})
		}
	}
}

func TestAddresses_EmptyOrDotIDSendsNothing(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", ".", ".."} {
		for _, op := range addressOps(id, id) {
			t.Run(op.name+"/"+id, func(t *testing.T) {
				c, mt := newTestClient(t)
				requireInvalid(t, op.call(context.Background(), c), "addressID")
				requireNoRequests(t, mt)
			})
		}
	}
}
