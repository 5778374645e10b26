package emporix

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// isLetters reports whether s is exactly n ASCII letters.
func isLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// blank reports whether s is empty or only white space.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// requireEmail refuses an empty e-mail address.
func requireEmail(field, email string) error {
	if blank(email) {
		return invalid(field, "must not be empty")
	}
	return nil
}

// minLoginPassword is the spec's minLength for PasswordAuthentication.password.
const minLoginPassword = 6

// requirePassword refuses an empty password or one shorter than minLen
// characters. The reason never quotes the password.
func requirePassword(field, password string, minLen int) error {
	if password == "" {
		return invalid(field, "must not be empty")
	}
	if utf8.RuneCountInString(password) < minLen {
		return invalid(field, "must be at least "+strconv.Itoa(minLen)+" characters long")
	}
	return nil
}

// requireValue refuses an empty string.
func requireValue(field, value string) error {
	if value == "" {
		return invalid(field, "must not be empty")
	}
	return nil
}

// requirePathParam refuses an empty path parameter and the dot segments "."
// and "..": url.PathEscape leaves dots as they are, and a proxy or server
// that resolves dot segments would turn DELETE .../me/addresses/.. into
// DELETE .../me.
func requirePathParam(field, value string) error {
	if err := requireValue(field, value); err != nil {
		return err
	}
	if value == "." || value == ".." {
		return invalid(field, "must not be a dot segment")
	}
	return nil
}
