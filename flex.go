package emporix

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// The service spells one quantity several ways: expires_in is an integer on
// the anonymous and exchange responses, a JSON number (2591999 or 2591999.0)
// on login and refresh, and a string ("2591999") on social login;
// initialPassword is typed string in the spec but sent as a boolean. These
// types accept every spelling. Their errors never quote the value.

var errFlexSeconds = errors.New("expected a number of seconds as a JSON number or numeric string")

// flexSeconds is a duration in whole seconds decoded from a number or a
// numeric string. null and "" decode as zero, meaning "not given".
type flexSeconds struct {
	d   time.Duration
	set bool
}

// maxFlexSeconds keeps conversions clear of time.Duration overflow (~292 years).
const maxFlexSeconds = 1 << 33

func (f *flexSeconds) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = flexSeconds{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		unq, err := strconv.Unquote(s)
		if err != nil {
			return errFlexSeconds
		}
		s = strings.TrimSpace(unq)
		if s == "" {
			*f = flexSeconds{}
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return errFlexSeconds
	}
	if v < 0 {
		v = 0
	}
	if v > maxFlexSeconds {
		v = maxFlexSeconds
	}
	*f = flexSeconds{d: time.Duration(v * float64(time.Second)), set: true}
	return nil
}

// expiry turns a lifetime received at now into an absolute time; a missing
// lifetime yields the zero time.
func (f flexSeconds) expiry(now time.Time) time.Time {
	if !f.set {
		return time.Time{}
	}
	return now.Add(f.d)
}

var errFlexBool = errors.New("expected a boolean or a \"true\"/\"false\" string")

// flexBool decodes true/false, "true"/"false" (any case), 1/0 and null.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		unq, err := strconv.Unquote(s)
		if err != nil {
			return errFlexBool
		}
		s = strings.TrimSpace(unq)
	}
	switch strings.ToLower(s) {
	case "true", "1":
		*f = true
	case "false", "0", "", "null":
		*f = false
	default:
		return errFlexBool
	}
	return nil
}
