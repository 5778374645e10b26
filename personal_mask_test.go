package emporix

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMaskPersonal(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                 "",
		"no address here":  "no address here",
		"jane@example.com": "j***@example.com",
		"Duplicate account 'jane.doe+shop@example.co.uk' for tenant 'mytenant'.": "Duplicate account 'j***@example.co.uk' for tenant 'mytenant'.",
		"a@b.de and x.y@mail.example.org":                                        "a***@b.de and x***@mail.example.org",
		"user@localhost":                                                         "user@localhost", // not an address in running text: no dot in the domain
		"tenant=mytenant@v2":                                                     "tenant=mytenant@v2",
		`{"email":"jane@example.com"}`:                                           `{"email":"j***@example.com"}`,
	} {
		assert.Equal(t, want, maskPersonal(in), in)
	}
}
