package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/emporix-go/emporix/emporixtest"
)

// controls registers the test controls under /_fake/, a prefix no Emporix
// path starts with. They are what emporixtest's Go methods offer, for
// callers that are not Go: the e-mailed codes a tutorial step needs, the
// clock, faults and customers.
func (f *fake) controls(mux *http.ServeMux) {
	mux.HandleFunc("GET /_fake/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, f.info())
	})
	mux.HandleFunc("GET /_fake/outbox", func(w http.ResponseWriter, r *http.Request) {
		type mail struct {
			Kind           emporixtest.MailKind `json:"kind"`
			To             string               `json:"to"`
			Token          string               `json:"token"`
			CustomerNumber string               `json:"customerNumber"`
			Site           string               `json:"site,omitempty"`
			Sent           time.Time            `json:"sent"`
		}
		out := []mail{}
		for _, m := range f.srv.Outbox(r.URL.Query().Get("email")) {
			out = append(out, mail{m.Kind, m.To, m.Token, m.CustomerNumber, m.Site, m.Sent})
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /_fake/customers", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if !readJSON(w, r, &in) {
			return
		}
		if in.Email == "" || in.Password == "" {
			writeError(w, http.StatusBadRequest, errors.New("email and password are required"))
			return
		}
		number, err := f.srv.AddCustomer(in.Email, in.Password)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, seededCustomer{Email: in.Email, CustomerNumber: number})
	})
	mux.HandleFunc("POST /_fake/customers/{number}/activate", func(w http.ResponseWriter, r *http.Request) {
		if !f.srv.ActivateCustomer(r.PathValue("number")) {
			writeError(w, http.StatusNotFound, errors.New("no such customer"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_fake/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Duration string }
		if !readJSON(w, r, &in) {
			return
		}
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("duration: want a non-negative Go duration such as \"90s\" or \"2h\", got %q", in.Duration))
			return
		}
		f.advance(d)
		writeJSON(w, http.StatusOK, map[string]time.Time{"now": f.srv.Now()})
	})
	mux.HandleFunc("POST /_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Target     string
			Status     int
			Body       string
			Drop       bool
			Delay      string
			RetryAfter string
			Times      int
			Commit     bool
		}
		if !readJSON(w, r, &in) {
			return
		}
		fault := emporixtest.Fault{Status: in.Status, Body: in.Body, Drop: in.Drop, Times: in.Times, Commit: in.Commit}
		for _, d := range []struct {
			name, value string
			into        *time.Duration
		}{{"delay", in.Delay, &fault.Delay}, {"retryAfter", in.RetryAfter, &fault.RetryAfter}} {
			if d.value == "" {
				continue
			}
			v, err := time.ParseDuration(d.value)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("%s: %v", d.name, err))
				return
			}
			*d.into = v
		}
		if in.Target == "" {
			writeError(w, http.StatusBadRequest, errors.New("target is required: an operationId or \"METHOD /path\""))
			return
		}
		if err := checkFault(fault); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		if err := inject(f.srv, namedFault{target: in.Target, fault: fault}); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]int{"pending": f.srv.PendingFaults()})
	})
	mux.HandleFunc("DELETE /_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		f.srv.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("body: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]any{"status": status, "message": err.Error()})
}
