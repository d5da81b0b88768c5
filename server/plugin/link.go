package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Headers of the link (see LINK.md).
const (
	headerSecret = "X-Whoknows-Secret"
	headerUser   = "X-Whoknows-User-Id"
	headerServer = "Mattermost-User-Id"
)

// link is the plugin's side of the HTTP link to the service: where the service is and the secret
// both sides share.
type link struct {
	client *http.Client
	mu     sync.RWMutex
	base   string // http://127.0.0.1:<port> of the service, "" while there is none
	secret string
}

const eventTimeout = 3 * time.Second

func newLink() *link {
	return &link{client: &http.Client{Timeout: 15 * time.Second}}
}

func (l *link) set(base, secret string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.base, l.secret = strings.TrimRight(base, "/"), secret
}

func (l *link) target() (string, string) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.base, l.secret
}

// secretMatches compares in constant time; an empty secret matches nothing.
func (l *link) secretMatches(given string) bool {
	_, secret := l.target()
	return secret != "" && subtle.ConstantTimeCompare([]byte(given), []byte(secret)) == 1
}

// sendEvent posts one event; a failure is dropped, not retried (the service catches up from the
// server's history at its next start).
func (l *link) sendEvent(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	resp, err := l.do(ctx, http.MethodPost, "/plugin/v1/events", body, nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("the service answered %d", resp.StatusCode)
	}
	return nil
}

var errNoService = fmt.Errorf("no service to reach")

// do sends one request to the service with the secret; the caller closes the body.
func (l *link) do(ctx context.Context, method, path string, body []byte, header http.Header) (*http.Response, error) {
	base, secret := l.target()
	if base == "" {
		return nil, errNoService
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(headerSecret, secret)
	return l.client.Do(req)
}

// call is do for small JSON answers: it returns the status and at most 1 MiB of the body.
func (l *link) call(ctx context.Context, method, path string, body []byte, header http.Header) (int, []byte, error) {
	resp, err := l.do(ctx, method, path, body, header)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}
