package emporix

import (
	"regexp"
	"strings"
)

// The service echoes personal data in its messages ("Duplicate account
// 'jane@example.com' for tenant 'mytenant'."), and applications log error
// texts. The SDK masks e-mail addresses in every text it shows: error
// messages, field errors, kept bodies and its own log records. Where the
// server's own words are needed, APIError.ServerMessage keeps them.

// emailPattern matches an e-mail address as it appears in running text:
// the local part of RFC 5322's dot-atom characters, a domain of at least
// two labels.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)

// maskPersonal masks the e-mail addresses in s: "jane@example.com" becomes
// "j***@example.com", which still tells a support engineer which domain
// and roughly which account without naming the person.
func maskPersonal(s string) string {
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	return emailPattern.ReplaceAllStringFunc(s, maskEmail)
}

// maskEmail masks one address, keeping the first character of the local
// part (after any quote the surrounding text put there) and the domain.
func maskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at:]
	keep := 0
	for keep < len(local) && strings.IndexByte(`'"`, local[keep]) >= 0 {
		keep++
	}
	if keep < len(local) {
		keep++
	}
	return local[:keep] + "***" + domain
}
