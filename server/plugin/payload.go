package main

import (
	"encoding/json"

	"github.com/mattermost/mattermost/server/public/model"
)

// Event kinds sent to POST {service}/plugin/v1/events (see LINK.md).
const (
	kindPosted          = "posted"
	kindEdited          = "edited"
	kindDeleted         = "deleted"
	kindReactionAdded   = "reaction_added"
	kindReactionRemoved = "reaction_removed"
	kindMemberAdded     = "member_added"
	kindMemberRemoved   = "member_removed"
	kindChannel         = "channel"
	kindUser            = "user"
)

// payload is one event as the service receives it: the kind, the Mattermost model object as the
// server serialises it (the same JSON the websocket and REST carry), and the channel's type where the
// event belongs to a channel. Exactly one of the object fields is set.
type payload struct {
	Kind        string               `json:"kind"`
	At          int64                `json:"at"`
	Seq         uint64               `json:"seq"`
	Boot        string               `json:"boot"`
	ChannelType model.ChannelType    `json:"channel_type,omitempty"`
	Post        *model.Post          `json:"post,omitempty"`
	Reaction    *model.Reaction      `json:"reaction,omitempty"`
	Member      *model.ChannelMember `json:"member,omitempty"`
	ActorID     string               `json:"actor_id,omitempty"`
	Channel     *model.Channel       `json:"channel,omitempty"`
	User        *model.User          `json:"user,omitempty"`
}

// publicUser strips what the service has no business seeing (password hash, auth data, MFA secret,
// email, notify props); the name fields stay, the expert cards show them.
func publicUser(u *model.User) *model.User {
	c := *u
	c.Sanitize(map[string]bool{"email": false, "fullname": true})
	c.Email = ""
	c.NotifyProps = nil
	c.Props = nil
	return &c
}

// postPayload drops the parts of a post that are not the post (its thread, its embeds and
// previews); reactions stay out too, they come as their own events.
func postPayload(kind string, post *model.Post, channelType model.ChannelType, at int64) payload {
	c := post.Clone()
	c.Metadata = nil
	if kind == kindDeleted && c.DeleteAt == 0 {
		// The hook's copy is the post as it was before the delete; the service needs when it went.
		c.DeleteAt = at
	}
	return payload{Kind: kind, At: at, ChannelType: channelType, Post: c}
}

func encode(p payload) ([]byte, error) {
	return json.Marshal(p)
}
