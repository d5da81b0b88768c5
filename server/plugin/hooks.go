package main

import (
	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

// The hooks only queue work: the channel lookups that decide consent and the send happen on the
// link's worker, so a hook never waits for the service or the database.
//
// Consent is enforced here, before anything leaves the server: direct and group messages are never
// forwarded, and a private channel only once the bot is a member of it (see forwardable).

func (p *Plugin) MessageHasBeenPosted(_ *plugin.Context, post *model.Post) {
	p.later(func() { p.sendPost(kindPosted, post) })
}

func (p *Plugin) MessageHasBeenUpdated(_ *plugin.Context, newPost, _ *model.Post) {
	p.later(func() { p.sendPost(kindEdited, newPost) })
}

func (p *Plugin) MessageHasBeenDeleted(_ *plugin.Context, post *model.Post) {
	p.later(func() { p.sendPost(kindDeleted, post) })
}

func (p *Plugin) ReactionHasBeenAdded(_ *plugin.Context, reaction *model.Reaction) {
	p.later(func() { p.sendReaction(kindReactionAdded, reaction) })
}

func (p *Plugin) ReactionHasBeenRemoved(_ *plugin.Context, reaction *model.Reaction) {
	p.later(func() { p.sendReaction(kindReactionRemoved, reaction) })
}

func (p *Plugin) UserHasJoinedChannel(_ *plugin.Context, member *model.ChannelMember, actor *model.User) {
	p.later(func() { p.sendMember(kindMemberAdded, member, actor) })
}

func (p *Plugin) UserHasLeftChannel(_ *plugin.Context, member *model.ChannelMember, actor *model.User) {
	p.later(func() { p.sendMember(kindMemberRemoved, member, actor) })
}

func (p *Plugin) ChannelHasBeenCreated(_ *plugin.Context, channel *model.Channel) {
	p.later(func() {
		// A new private channel has no bot in it yet; when a member adds the bot, member_added follows.
		if channel.Type == model.ChannelTypeOpen {
			p.send(payload{Kind: kindChannel, At: model.GetMillis(), ChannelType: channel.Type, Channel: channel})
		}
	})
}

func (p *Plugin) UserHasBeenCreated(_ *plugin.Context, user *model.User) {
	p.later(func() { p.send(payload{Kind: kindUser, At: model.GetMillis(), User: publicUser(user)}) })
}

func (p *Plugin) UserHasBeenDeactivated(_ *plugin.Context, user *model.User) {
	p.later(func() { p.send(payload{Kind: kindUser, At: model.GetMillis(), User: publicUser(user)}) })
}

// later runs f on the events worker; when its queue is full the event is dropped and counted.
func (p *Plugin) later(f func()) {
	select {
	case p.work <- f:
	default:
		p.seq.Add(1) // a number no event carries: the service sees the gap and catches up
		if n := p.dropped.Add(1); n == 1 || n%1000 == 0 {
			p.API.LogWarn("whoknows: the event queue is full, events are dropped", "dropped", n)
		}
	}
}

// runEvents is the one events worker: it decides consent and sends, one event at a time.
func (p *Plugin) runEvents(work <-chan func(), stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case f := <-work:
			f()
		}
	}
}

func (p *Plugin) send(ev payload) {
	// Numbered in sending order; a number whose event never reached the service (down, failed, dropped) shows up
	// as a gap there, so the service knows to catch up.
	ev.Seq, ev.Boot = p.seq.Add(1), p.boot
	body, err := encode(ev)
	if err != nil {
		p.API.LogError("whoknows: cannot encode an event", "kind", ev.Kind, "error", err.Error())
		return
	}
	if err := p.link.sendEvent(body); err != nil && err != errNoService {
		p.API.LogDebug("whoknows: an event did not reach the service", "kind", ev.Kind, "error", err.Error())
	}
}

func (p *Plugin) sendPost(kind string, post *model.Post) {
	channel, ok := p.forwardable(post.ChannelId)
	if !ok {
		return
	}
	p.send(postPayload(kind, post, channel.Type, model.GetMillis()))
}

func (p *Plugin) sendReaction(kind string, reaction *model.Reaction) {
	channelID := reaction.ChannelId
	if channelID == "" {
		post, appErr := p.API.GetPost(reaction.PostId)
		if appErr != nil {
			return
		}
		channelID = post.ChannelId
	}
	channel, ok := p.forwardable(channelID)
	if !ok {
		return
	}
	p.send(payload{Kind: kind, At: model.GetMillis(), ChannelType: channel.Type, Reaction: reaction})
}

func (p *Plugin) sendMember(kind string, member *model.ChannelMember, actor *model.User) {
	channel, ok := p.forwardable(member.ChannelId)
	if !ok && !(member.UserId == p.botID() && kind == kindMemberRemoved) {
		// The bot leaving a private channel is still news: the service stops indexing it.
		return
	}
	if channel == nil {
		channel = &model.Channel{Id: member.ChannelId, Type: model.ChannelTypePrivate}
	}
	ev := payload{Kind: kind, At: model.GetMillis(), ChannelType: channel.Type, Member: member}
	if actor != nil {
		ev.ActorID = actor.Id
	}
	p.send(ev)
}

// forwardable is the consent rule: a public channel always, a private channel while the bot is a
// member, a direct or group message never. The channel is looked up now (not cached), so a channel
// converted from public to private stops being forwarded at once.
func (p *Plugin) forwardable(channelID string) (*model.Channel, bool) {
	channel, appErr := p.API.GetChannel(channelID)
	if appErr != nil {
		return nil, false
	}
	return channel, consents(channel, func() bool {
		_, err := p.API.GetChannelMember(channelID, p.botID())
		return err == nil
	})
}

// consents is forwardable's rule on its own, so it is tested without a server.
func consents(channel *model.Channel, botIsMember func() bool) bool {
	switch channel.Type {
	case model.ChannelTypeOpen:
		return true
	case model.ChannelTypePrivate:
		return botIsMember()
	default:
		return false
	}
}
