package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

// What people see when the plugin cannot hand their command to the service.
const (
	msgStarting      = "whoknows is starting, try again in a moment."
	msgNotConfigured = "whoknows is not connected to its service yet: a System Admin sets Service command or Service URL in System Console > Plugins > Who knows."
	msgRefused       = "whoknows' service refused the plugin: its secret does not match. A System Admin checks Service secret in System Console > Plugins > Who knows."
)

// unavailable is what a failed command hand-over tells people: the service refused the plugin's secret (401: a
// setting to fix, not a wait), or it is not answering yet (starting, restarting, or not listening). Button answers
// are relayed as the service gives them (its 401/403 carry their own text, a forged caller's among them).
func unavailable(status int) string {
	if status == http.StatusUnauthorized {
		return msgRefused
	}
	return msgStarting
}

// ExecuteCommand hands /whoknows to the service with the server's CommandArgs (the caller's user id
// is the server's, never parsed from the text) and returns the service's CommandResponse.
func (p *Plugin) ExecuteCommand(_ *plugin.Context, args *model.CommandArgs) (*model.CommandResponse, *model.AppError) {
	if !p.getConfiguration().Connected() {
		return ephemeral(msgNotConfigured), nil
	}
	body, err := json.Marshal(args)
	if err != nil {
		return ephemeral(msgStarting), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, data, err := p.link.spreadCall(ctx, http.MethodPost, "/plugin/v1/command", body, http.Header{headerUser: {args.UserId}})
	if err != nil {
		return ephemeral(msgStarting), nil
	}
	if status != http.StatusOK {
		return ephemeral(unavailable(status)), nil
	}
	resp, err := model.CommandResponseFromJSON(bytes.NewReader(data))
	if err != nil {
		return ephemeral(msgStarting), nil
	}
	return resp, nil
}

func ephemeral(text string) *model.CommandResponse {
	return &model.CommandResponse{ResponseType: model.CommandResponseTypeEphemeral, Text: text}
}
