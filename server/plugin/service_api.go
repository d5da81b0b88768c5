package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/mattermost/mattermost/server/public/model"
)

// serviceRoutes are the service's calls back into the server, behind requireSecret. Under
// /service/api/v4 they mirror the Mattermost REST routes the service's REST client already uses
// (same paths, parameters and JSON), answered through the plugin API as the bot; /service/v1 has
// what REST has no route for. See LINK.md for the list.
func (p *Plugin) serviceRoutes() http.Handler {
	mux := http.NewServeMux()
	v4 := "/service/api/v4"
	mux.HandleFunc("GET "+v4+"/users/me", p.apiMe)
	mux.HandleFunc("POST "+v4+"/users/ids", p.apiUsers)
	mux.HandleFunc("GET "+v4+"/users/username/{username}", p.apiUserByName)
	mux.HandleFunc("GET "+v4+"/users/me/teams", p.apiTeams)
	mux.HandleFunc("GET "+v4+"/users/me/teams/{team}/channels", p.apiMyChannels)
	mux.HandleFunc("GET "+v4+"/teams/{team}/channels", p.apiPublicChannels)
	mux.HandleFunc("GET "+v4+"/teams/{team}/members/{user}", p.apiTeamMember)
	mux.HandleFunc("GET "+v4+"/channels/{channel}", p.apiChannel)
	mux.HandleFunc("GET "+v4+"/channels/{channel}/members", p.apiChannelMembers)
	mux.HandleFunc("GET "+v4+"/channels/{channel}/members/{user}", p.apiChannelMember)
	mux.HandleFunc("POST "+v4+"/channels/{channel}/members", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusForbidden, "the whoknows bot joins no channel: a member adds it")
	})
	mux.HandleFunc("GET "+v4+"/channels/{channel}/posts", p.apiPosts)
	mux.HandleFunc("POST "+v4+"/posts", p.apiCreatePost)
	mux.HandleFunc("POST "+v4+"/posts/ephemeral", p.apiEphemeral)
	mux.HandleFunc("GET "+v4+"/posts/{post}/thread", p.apiThread)
	mux.HandleFunc("PUT "+v4+"/posts/{post}/patch", p.apiPatchPost)
	mux.HandleFunc("DELETE "+v4+"/posts/{post}", p.apiDeletePost)
	mux.HandleFunc("POST "+v4+"/posts/{post}/pin", func(w http.ResponseWriter, r *http.Request) { p.apiPin(w, r, true) })
	mux.HandleFunc("POST "+v4+"/posts/{post}/unpin", func(w http.ResponseWriter, r *http.Request) { p.apiPin(w, r, false) })
	mux.HandleFunc("POST "+v4+"/files", p.apiUpload)
	mux.HandleFunc("GET "+v4+"/commands", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, []any{}) })
	mux.HandleFunc("GET /service/v1/config", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, p.linkInfo(p.getConfiguration()))
	})
	mux.HandleFunc("GET /service/v1/can_read", p.apiCanRead)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "the whoknows plugin does not serve this route")
	})
	return mux
}

func appError(w http.ResponseWriter, appErr *model.AppError) {
	status := appErr.StatusCode
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeError(w, status, appErr.Id)
}

func intParam(r *http.Request, name string, fallback, most int) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 0 {
		return fallback
	}
	return min(n, most)
}

func readJSON(w http.ResponseWriter, r *http.Request, into any) bool {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil || json.Unmarshal(data, into) != nil {
		writeError(w, http.StatusBadRequest, "the body must be JSON")
		return false
	}
	return true
}

// visibleChannel is the channel if the bot may see it: a public one, or one the bot is a member of
// (a private channel it was added to, a direct message with it). Anything else is 403, as REST says.
func (p *Plugin) visibleChannel(w http.ResponseWriter, channelID string) (*model.Channel, bool) {
	channel, appErr := p.API.GetChannel(channelID)
	if appErr != nil {
		appError(w, appErr)
		return nil, false
	}
	if channel.Type == model.ChannelTypeOpen {
		return channel, true
	}
	if _, err := p.API.GetChannelMember(channelID, p.botID()); err != nil {
		writeError(w, http.StatusForbidden, "the whoknows bot is not a member of this channel")
		return nil, false
	}
	return channel, true
}

func (p *Plugin) apiMe(w http.ResponseWriter, _ *http.Request) {
	user, appErr := p.API.GetUser(p.botID())
	if appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusOK, user)
}

func (p *Plugin) apiUsers(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if !readJSON(w, r, &ids) {
		return
	}
	out := make([]*model.User, 0, len(ids))
	for _, id := range ids {
		if user, appErr := p.API.GetUser(id); appErr == nil {
			out = append(out, publicUser(user))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// apiUserByName is one person by username (a `/whoknows @name` for someone the service never heard of), or 404.
func (p *Plugin) apiUserByName(w http.ResponseWriter, r *http.Request) {
	user, appErr := p.API.GetUserByUsername(r.PathValue("username"))
	if appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusOK, publicUser(user))
}

// apiTeams is every team: the plugin is installed for the whole server (bot mode had only the teams
// an admin added the bot to).
func (p *Plugin) apiTeams(w http.ResponseWriter, _ *http.Request) {
	teams, appErr := p.API.GetTeams()
	if appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusOK, teams)
}

// apiMyChannels answers the channels whoknows hears in the team: every public channel (the plugin's
// hooks see them all, the bot needs to join none) and the private channels and direct messages the
// bot is a member of. The service's discovery then finds what it indexes without joining anything.
func (p *Plugin) apiMyChannels(w http.ResponseWriter, r *http.Request) {
	team := r.PathValue("team")
	mine, appErr := p.API.GetChannelsForTeamForUser(team, p.botID(), false)
	if appErr != nil {
		appError(w, appErr)
		return
	}
	seen := map[string]bool{}
	out := []*model.Channel{}
	for _, c := range mine {
		seen[c.Id] = true
		out = append(out, c)
	}
	const perPage = 200
	for page := 0; ; page++ {
		public, appErr := p.API.GetPublicChannelsForTeam(team, page, perPage)
		if appErr != nil {
			appError(w, appErr)
			return
		}
		for _, c := range public {
			if !seen[c.Id] {
				seen[c.Id] = true
				out = append(out, c)
			}
		}
		if len(public) < perPage {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (p *Plugin) apiPublicChannels(w http.ResponseWriter, r *http.Request) {
	channels, appErr := p.API.GetPublicChannelsForTeam(r.PathValue("team"), intParam(r, "page", 0, 1<<20), intParam(r, "per_page", 60, 200))
	if appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusOK, channels)
}

func (p *Plugin) apiTeamMember(w http.ResponseWriter, r *http.Request) {
	member, appErr := p.API.GetTeamMember(r.PathValue("team"), r.PathValue("user"))
	if appErr != nil || member.DeleteAt > 0 {
		writeError(w, http.StatusNotFound, "not a member of the team")
		return
	}
	writeJSON(w, http.StatusOK, member)
}

func (p *Plugin) apiChannel(w http.ResponseWriter, r *http.Request) {
	if channel, ok := p.visibleChannel(w, r.PathValue("channel")); ok {
		writeJSON(w, http.StatusOK, channel)
	}
}

func (p *Plugin) apiChannelMembers(w http.ResponseWriter, r *http.Request) {
	channel, ok := p.visibleChannel(w, r.PathValue("channel"))
	if !ok {
		return
	}
	members, appErr := p.API.GetChannelMembers(channel.Id, intParam(r, "page", 0, 1<<20), intParam(r, "per_page", 60, 200))
	if appErr != nil {
		appError(w, appErr)
		return
	}
	if members == nil {
		members = model.ChannelMembers{}
	}
	writeJSON(w, http.StatusOK, members)
}

func (p *Plugin) apiChannelMember(w http.ResponseWriter, r *http.Request) {
	channel, ok := p.visibleChannel(w, r.PathValue("channel"))
	if !ok {
		return
	}
	member, appErr := p.API.GetChannelMember(channel.Id, r.PathValue("user"))
	if appErr != nil {
		writeError(w, http.StatusNotFound, "not a member of the channel")
		return
	}
	writeJSON(w, http.StatusOK, member)
}

// apiPosts is GET /channels/{id}/posts: since=<ms>, or before=<post id> with per_page, or the newest page.
func (p *Plugin) apiPosts(w http.ResponseWriter, r *http.Request) {
	channel, ok := p.visibleChannel(w, r.PathValue("channel"))
	if !ok {
		return
	}
	q := r.URL.Query()
	perPage := intParam(r, "per_page", 60, 200)
	var list *model.PostList
	var appErr *model.AppError
	switch {
	case q.Get("since") != "":
		since, err := strconv.ParseInt(q.Get("since"), 10, 64)
		if err != nil || since < 0 {
			writeError(w, http.StatusBadRequest, "since must be a time in milliseconds")
			return
		}
		list, appErr = p.API.GetPostsSince(channel.Id, since)
	case q.Get("before") != "":
		list, appErr = p.API.GetPostsBefore(channel.Id, q.Get("before"), intParam(r, "page", 0, 1<<20), perPage)
	default:
		list, appErr = p.API.GetPostsForChannel(channel.Id, intParam(r, "page", 0, 1<<20), perPage)
	}
	if appErr != nil {
		appError(w, appErr)
		return
	}
	list.MakeNonNil()
	writeJSON(w, http.StatusOK, list)
}

// botPost is the part of a post the service chooses; the author is always the bot.
type botPost struct {
	ChannelID string         `json:"channel_id"`
	Message   string         `json:"message"`
	RootID    string         `json:"root_id"`
	Props     map[string]any `json:"props"`
	FileIDs   []string       `json:"file_ids"`
}

func (b botPost) post(botID string) *model.Post {
	post := &model.Post{UserId: botID, ChannelId: b.ChannelID, Message: b.Message, RootId: b.RootID, FileIds: b.FileIDs}
	post.SetProps(b.Props)
	return post
}

func (p *Plugin) apiCreatePost(w http.ResponseWriter, r *http.Request) {
	var in botPost
	if !readJSON(w, r, &in) {
		return
	}
	if _, ok := p.visibleChannel(w, in.ChannelID); !ok {
		return
	}
	created, appErr := p.API.CreatePost(in.post(p.botID()))
	if appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

// apiEphemeral sends a note only user_id sees, through the plugin API: no permission to grant.
func (p *Plugin) apiEphemeral(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string  `json:"user_id"`
		Post   botPost `json:"post"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.UserID == "" || in.Post.ChannelID == "" {
		writeError(w, http.StatusBadRequest, "user_id and post.channel_id are required")
		return
	}
	sent := p.API.SendEphemeralPost(in.UserID, in.Post.post(p.botID()))
	writeJSON(w, http.StatusCreated, sent)
}

func (p *Plugin) apiThread(w http.ResponseWriter, r *http.Request) {
	root, appErr := p.API.GetPost(r.PathValue("post"))
	if appErr != nil {
		appError(w, appErr)
		return
	}
	if _, ok := p.visibleChannel(w, root.ChannelId); !ok {
		return
	}
	list, appErr := p.API.GetPostThread(root.Id)
	if appErr != nil {
		appError(w, appErr)
		return
	}
	list.MakeNonNil()
	writeJSON(w, http.StatusOK, list)
}

// ownPost is the post if the bot wrote it: the service edits, deletes and pins only its own posts.
func (p *Plugin) ownPost(w http.ResponseWriter, id string) (*model.Post, bool) {
	post, appErr := p.API.GetPost(id)
	if appErr != nil {
		appError(w, appErr)
		return nil, false
	}
	if post.UserId != p.botID() {
		writeError(w, http.StatusForbidden, "the whoknows bot changes only its own posts")
		return nil, false
	}
	return post, true
}

func (p *Plugin) apiPatchPost(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message *string `json:"message"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	post, ok := p.ownPost(w, r.PathValue("post"))
	if !ok {
		return
	}
	if in.Message != nil {
		post.Message = *in.Message
	}
	updated, appErr := p.API.UpdatePost(post)
	if appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

func (p *Plugin) apiDeletePost(w http.ResponseWriter, r *http.Request) {
	post, ok := p.ownPost(w, r.PathValue("post"))
	if !ok {
		return
	}
	if appErr := p.API.DeletePost(post.Id); appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

func (p *Plugin) apiPin(w http.ResponseWriter, r *http.Request, pinned bool) {
	post, ok := p.ownPost(w, r.PathValue("post"))
	if !ok {
		return
	}
	post.IsPinned = pinned
	if _, appErr := p.API.UpdatePost(post); appErr != nil {
		appError(w, appErr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

func (p *Plugin) apiUpload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be multipart with channel_id and files")
		return
	}
	channelID := r.FormValue("channel_id")
	if _, ok := p.visibleChannel(w, channelID); !ok {
		return
	}
	infos := []*model.FileInfo{}
	for _, header := range r.MultipartForm.File["files"] {
		f, err := header.Open()
		if err != nil {
			writeError(w, http.StatusBadRequest, "cannot read an uploaded file")
			return
		}
		data, err := io.ReadAll(io.LimitReader(f, 32<<20))
		f.Close()
		if err != nil {
			writeError(w, http.StatusBadRequest, "cannot read an uploaded file")
			return
		}
		info, appErr := p.API.UploadFile(data, channelID, header.Filename)
		if appErr != nil {
			appError(w, appErr)
			return
		}
		infos = append(infos, info)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"file_infos": infos})
}

// apiCanRead is the server's own read check for a person and a channel, as REST applies it to that
// person's requests: channel permission, or for a public channel the team's read_public_channel.
func (p *Plugin) apiCanRead(w http.ResponseWriter, r *http.Request) {
	userID, channelID := r.URL.Query().Get("user_id"), r.URL.Query().Get("channel_id")
	if userID == "" || channelID == "" {
		writeError(w, http.StatusBadRequest, "user_id and channel_id are required")
		return
	}
	channel, appErr := p.API.GetChannel(channelID)
	if appErr != nil {
		writeJSON(w, http.StatusOK, map[string]bool{"can_read": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"can_read": canRead(p, userID, channel)})
}

func canRead(p *Plugin, userID string, channel *model.Channel) bool {
	if p.API.HasPermissionToChannel(userID, channel.Id, model.PermissionReadChannelContent) {
		return true
	}
	cfg := p.API.GetConfig()
	compliance := cfg != nil && cfg.ComplianceSettings.Enable != nil && *cfg.ComplianceSettings.Enable
	return channel.Type == model.ChannelTypeOpen && !compliance &&
		p.API.HasPermissionToTeam(userID, channel.TeamId, model.PermissionReadPublicChannel)
}
