package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/plugin"
)

const maxBody = 1 << 20

// ServeHTTP serves /plugins/<id>/...: button actions from people (the caller is the server-set
// Mattermost-User-Id header, nothing else) and the service's calls back into the server (the shared
// secret, no user).
func (p *Plugin) ServeHTTP(_ *plugin.Context, w http.ResponseWriter, r *http.Request) {
	if p.router == nil {
		writeError(w, http.StatusServiceUnavailable, "whoknows is not active")
		return
	}
	p.router.ServeHTTP(w, r)
}

func (p *Plugin) newRouter() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/actions/", requireUser(http.HandlerFunc(p.forwardAction)))
	mux.Handle("/service/", requireSecret(p.link, p.serviceRoutes()))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such whoknows route")
	})
	return mux
}

// requireUser refuses a request the server did not authenticate: only the server sets
// Mattermost-User-Id (it deletes any copy a client sends).
func requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(headerServer) == "" {
			writeError(w, http.StatusUnauthorized, "sign in to Mattermost to use whoknows")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireSecret refuses a request without the shared secret, given as X-Whoknows-Secret or as a
// bearer token (so the service's Mattermost REST client works unchanged against /service/api/v4).
func requireSecret(l *link, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given := r.Header.Get(headerSecret)
		if given == "" {
			if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
				given = auth[7:]
			}
		}
		if !l.secretMatches(given) {
			writeError(w, http.StatusUnauthorized, "this route is for the whoknows service")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// callerBody makes the body say who the server says the caller is: a user_id (and user_name) in a
// JSON object body is replaced, so a forged one never reaches the service. Other bodies pass as is.
func callerBody(body []byte, userID string) []byte {
	var obj map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &obj) != nil || obj == nil {
		return body
	}
	id, _ := json.Marshal(userID)
	obj["user_id"] = id
	delete(obj, "user_name")
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

// forwardAction sends a button click to the service as POST /plugin/v1/actions/<rest>, with the
// caller in X-Whoknows-User-Id, and relays the answer (an integration response).
func (p *Plugin) forwardAction(w http.ResponseWriter, r *http.Request) {
	userID := r.Header.Get(headerServer)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the request")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/actions/")
	path := "/plugin/v1/actions/" + rest
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	header := http.Header{headerUser: {userID}, "Content-Type": {"application/json"}}
	status, data, err := p.link.spreadCall(ctx, http.MethodPost, path, callerBody(body, userID), header)
	if err != nil || status >= 500 {
		writeJSON(w, http.StatusOK, map[string]string{"ephemeral_text": msgStarting})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// writeJSON writes in one Write: the server's in-process writer for button requests keeps only the
// last one.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"message":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// writeError answers in the shape of a Mattermost REST error, so the service's REST client reports it.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"id": "plugins.whoknows.error", "message": message, "status_code": status})
}
