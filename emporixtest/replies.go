package emporixtest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// reply is a complete answer, built while the state lock is held and
// written after it is released.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("emporixtest: cannot encode reply: %v", err))
	}
	return reply{status: status, body: b}
}

// empty is a success answer without a body: 200 for PATCH, 202, 204.
func empty(status int) reply { return reply{status: status} }

// errorMessage is the spec's ErrorMessage body of 400, 403, 404 and 409.
type errorMessage struct {
	Status  int           `json:"status"`
	Type    string        `json:"type"`
	Message string        `json:"message"`
	Details []errorDetail `json:"details,omitempty"`
}

// errorDetail is one ErrorMessage details entry.
type errorDetail struct {
	Field   string `json:"field,omitempty"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message"`
}

func errReply(status int, typ, msg string, details ...errorDetail) reply {
	return jsonReply(status, errorMessage{Status: status, Type: typ, Message: msg, Details: details})
}

func badRequest(msg string, details ...errorDetail) reply {
	return errReply(http.StatusBadRequest, "bad_request", msg, details...)
}

func invalidTenant() reply {
	return badRequest("The tenant information provided with the request is not valid.")
}

// unauthorized is a 401 the service itself (not the gateway) gives, such
// as for wrong credentials. It uses the ErrorMessage shape and carries no
// gateway error code, so clients do not mistake it for a rejected token.
func unauthorized(msg string) reply {
	return errReply(http.StatusUnauthorized, "unauthorized", msg)
}

// forbidden is the spec's 403 example, verbatim (its type violates the
// spec's own lowercase pattern, as the real example does).
func forbidden() reply {
	return errReply(http.StatusForbidden, "Forbidden", "User not authorized.")
}

func conflict(msg string) reply {
	return errReply(http.StatusConflict, "conflict_resource", msg)
}

// Gateway (Apigee) fault strings and codes of the spec's 401 examples.
const (
	faultInvalidToken = "Invalid access token"
	codeInvalidToken  = "oauth.v2.InvalidAccessToken"
	faultExpiredToken = "Access Token expired"
	codeExpiredToken  = "keymanagement.service.access_token_expired"
	faultInvalidKey   = "Invalid ApiKey"
	codeInvalidKey    = "oauth.v2.InvalidApiKey"
)

type gatewayFault struct {
	Fault struct {
		FaultString string `json:"faultstring"`
		Detail      struct {
			ErrorCode string `json:"errorcode"`
		} `json:"detail"`
	} `json:"fault"`
}

// fault is the gateway's 401 body.
func fault(faultString, code string) reply {
	var f gatewayFault
	f.Fault.FaultString = faultString
	f.Fault.Detail.ErrorCode = code
	return jsonReply(http.StatusUnauthorized, f)
}

func invalidToken() reply { return fault(faultInvalidToken, codeInvalidToken) }
func expiredToken() reply { return fault(faultExpiredToken, codeExpiredToken) }

// detail helpers for validation failures.
func missing(field string) errorDetail {
	return errorDetail{Field: field, Type: "missing_value", Message: field + " is required."}
}

func invalidValue(field, msg string) errorDetail {
	return errorDetail{Field: field, Type: "invalid_value", Message: msg}
}

// validationFailed answers 400 for a list of field problems.
func validationFailed(details []errorDetail) reply {
	return errReply(http.StatusBadRequest, "validation_failure", "The request is not valid.", details...)
}
