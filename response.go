package emporix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
)

// errBodyTooLarge reports a body over the call's cap; repeating the
// request would not shrink it.
var errBodyTooLarge = errors.New("response body too large")

// readSuccess is the retry engine's response handler: it reads a 2xx body
// in full, up to the call's cap, leaving error bodies to checkResponse.
func (k *call) readSuccess(resp *http.Response) error {
	k.status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	data, err := readCapped(resp.Body, resp.ContentLength, k.maxBody, false)
	if err != nil {
		return err
	}
	k.respBody = data
	return nil
}

// First and largest piece of a body of unknown length: small answers take
// one small allocation, and a body refused at the cap costs at most one
// piece more than the bytes read.
const (
	firstPiece = 512
	maxPiece   = 64 << 10
)

// readCapped reads a body of declared length size (-1 when unknown)
// through io.LimitReader, never reading more than limit+1 bytes. A body
// over limit is errBodyTooLarge, refused before reading when its declared
// length already says so; with truncate, its first limit bytes are
// returned instead.
//
// A body of known length is read into one buffer of that size. One of
// unknown length is read in pieces that grow to maxPiece and are joined
// at the end, so that the memory of a refused body stays close to the
// bytes read, where growing one slice would allocate about twice as much.
func readCapped(body io.Reader, size, limit int64, truncate bool) ([]byte, error) {
	if size > limit && !truncate {
		return nil, errBodyTooLarge
	}
	r := io.LimitReader(body, limit+1)
	if truncate {
		r = io.LimitReader(body, limit)
	}
	if size >= 0 {
		// A spare byte sees the end of the body without growing.
		buf := make([]byte, 0, min(size, limit)+1)
		for {
			if len(buf) == cap(buf) {
				buf = slices.Grow(buf, 1)
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if int64(len(buf)) > limit {
				return nil, errBodyTooLarge
			}
			if err == io.EOF {
				return buf, nil
			}
			if err != nil {
				return nil, err
			}
		}
	}
	var (
		pieces [][]byte
		total  int64
		piece  = make([]byte, 0, firstPiece)
	)
	for {
		if len(piece) == cap(piece) {
			pieces = append(pieces, piece)
			piece = make([]byte, 0, min(2*cap(piece), maxPiece))
		}
		n, err := r.Read(piece[len(piece):cap(piece)])
		piece = piece[:len(piece)+n]
		total += int64(n)
		if total > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			if len(pieces) == 0 {
				return piece, nil
			}
			return slices.Concat(append(pieces, piece)...), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// doJSON runs a call and decodes a required JSON body into out.
func (c *Client) doJSON(ctx context.Context, k *call, out any) error {
	resp, err := c.do(ctx, k)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return c.unusable(k, resp.status, "empty body", nil)
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return c.unusable(k, resp.status, "malformed JSON", err)
	}
	return nil
}

// doCreated runs a create whose answer is a ResourceLocation and returns
// the new resource's ID.
func (c *Client) doCreated(ctx context.Context, k *call) (string, error) {
	var loc struct {
		ID string `json:"id"`
	}
	if err := c.doJSON(ctx, k, &loc); err != nil {
		return "", err
	}
	if loc.ID == "" {
		return "", c.unusable(k, k.status, "no id in response", nil)
	}
	return loc.ID, nil
}

// doNoContent runs a call whose success body, if any, carries nothing.
func (c *Client) doNoContent(ctx context.Context, k *call) error {
	_, err := c.do(ctx, k)
	return err
}

func (c *Client) unusable(k *call, status int, reason string, err error) error {
	return &ResponseError{Method: k.op.Method, Path: k.shownPath, StatusCode: status, Reason: reason, Err: err}
}
