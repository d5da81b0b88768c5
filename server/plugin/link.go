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
// both sides share. With several service processes (ServiceURL lists them) one leads (applies events)
// and the others answer commands and clicks from the shared store, refusing events with 503, or stand
// by and refuse everything: events go to the one that took the last event, commands and clicks to each
// process in turn, and on a refused connection or a 503 to the next, so a dead, starting or standing-by
// process is routed around. A configuration goes to every process.
type link struct {
	client    *http.Client
	mu        sync.Mutex
	bases     []string // http://127.0.0.1:<port> of each service process, none while there is none
	preferred int      // the index in bases that took the last event
	turn      int      // where the next spread request starts
	secret    string
}

const eventTimeout = 3 * time.Second

func newLink() *link {
	return &link{client: &http.Client{Timeout: 15 * time.Second}}
}

// set takes one base or a comma-separated list ("" for none).
func (l *link) set(bases, secret string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bases, l.preferred, l.secret = splitBases(bases), 0, secret
}

func splitBases(bases string) []string {
	var out []string
	for _, b := range strings.Split(bases, ",") {
		if b = strings.TrimRight(strings.TrimSpace(b), "/"); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// target is the base to try first ("" when there is none) and the secret.
func (l *link) target() (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bases) == 0 {
		return "", l.secret
	}
	return l.bases[l.preferred], l.secret
}

// order is every base, the preferred one first, or (spread) the next one in turn first.
func (l *link) order(spread bool) ([]int, []string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.bases)
	start := l.preferred
	if spread && n > 0 {
		start = l.turn % n
		l.turn = (l.turn + 1) % n
	}
	idx := make([]int, 0, n)
	for i := 0; i < n; i++ {
		idx = append(idx, (start+i)%n)
	}
	return idx, append([]string(nil), l.bases...), l.secret
}

func (l *link) answered(i int, base string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < len(l.bases) && l.bases[i] == base {
		l.preferred = i
	}
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

// do sends one request to the service with the secret; the caller closes the body. With several
// service processes it goes to the preferred one (the one that took the last event: events stay in
// order at the leader) and, when that one refuses the connection or answers 503 (not leading,
// starting), to the next; the last answer (or error) is returned when none takes it.
func (l *link) do(ctx context.Context, method, path string, body []byte, header http.Header) (*http.Response, error) {
	return l.send(ctx, false, method, path, body, header)
}

// spread is do for commands and clicks, which every process answers: each request starts at the
// next process in turn.
func (l *link) spread(ctx context.Context, method, path string, body []byte, header http.Header) (*http.Response, error) {
	return l.send(ctx, true, method, path, body, header)
}

func (l *link) send(ctx context.Context, spread bool, method, path string, body []byte, header http.Header) (*http.Response, error) {
	idx, bases, secret := l.order(spread)
	if len(bases) == 0 {
		return nil, errNoService
	}
	var kept *http.Response // a 503 (standing by, starting), returned when no other process answers
	var lastErr error
	for _, i := range idx {
		resp, err := l.once(ctx, bases[i], method, path, body, header, secret)
		switch {
		case err != nil:
			lastErr = err
		case resp.StatusCode == http.StatusServiceUnavailable:
			if kept != nil {
				kept.Body.Close()
			}
			kept = resp
		default:
			if kept != nil {
				kept.Body.Close()
			}
			if !spread {
				l.answered(i, bases[i])
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	if kept != nil {
		return kept, nil
	}
	return nil, lastErr
}

func (l *link) once(ctx context.Context, base, method, path string, body []byte, header http.Header, secret string) (*http.Response, error) {
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
	return small(l.do(ctx, method, path, body, header))
}

// spreadCall is spread for small JSON answers.
func (l *link) spreadCall(ctx context.Context, method, path string, body []byte, header http.Header) (int, []byte, error) {
	return small(l.spread(ctx, method, path, body, header))
}

// broadcast sends one request to every service process (a configuration: each answers from its own
// settings) and returns how many took it (a 2xx answer) and the last failure's status or error.
func (l *link) broadcast(ctx context.Context, method, path string, body []byte) (int, int, error) {
	_, bases, secret := l.order(false)
	took, status := 0, 0
	var lastErr error
	for _, base := range bases {
		resp, err := l.once(ctx, base, method, path, body, nil, secret)
		if err != nil {
			lastErr = err
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode < 300 {
			took++
		} else {
			status = resp.StatusCode
		}
	}
	return took, status, lastErr
}

func small(resp *http.Response, err error) (int, []byte, error) {
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}
