package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"

	"github.com/whoknows/whoknows/server/plugin/manifest"
)

// bundleManifest is the manifest the server will read: the repository's plugin.json with the link settings.
func bundleManifest(t *testing.T) *model.Manifest {
	t.Helper()
	base, err := os.ReadFile("../../plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	link, err := os.ReadFile("link-settings.json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := manifest.Bundle(base, link)
	if err != nil {
		t.Fatal(err)
	}
	var m model.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestBundleManifestIsOneTheServerAccepts(t *testing.T) {
	m := bundleManifest(t)
	if m.Id != "whoknows" || m.MinServerVersion != "9.1.0" {
		t.Fatalf("id %q, min_server_version %q", m.Id, m.MinServerVersion)
	}
	for _, arch := range []string{"linux-amd64", "linux-arm64"} {
		if m.Server.Executables[arch] == "" {
			t.Errorf("no server executable for %s", arch)
		}
	}
	keys := map[string]bool{}
	for _, s := range m.SettingsSchema.Settings {
		keys[s.Key] = true
	}
	for _, k := range []string{keyServiceCommand, keyServiceURL, keyServiceSecret, keyCommandTrigger, "CardPeople", "SuggestionMode"} {
		if !keys[k] {
			t.Errorf("the bundle manifest has no setting %s", k)
		}
	}
}

func TestBundleRefusesADuplicatedSetting(t *testing.T) {
	base, _ := os.ReadFile("../../plugin.json")
	_, err := manifest.Bundle(base, []byte(`[{"key":"CardPeople","display_name":"x","type":"number","help_text":"","default":1}]`))
	if err == nil || !strings.Contains(err.Error(), "CardPeople") {
		t.Fatalf("want a refusal naming CardPeople, got %v", err)
	}
}

func TestDefaultsMakeAValidConfiguration(t *testing.T) {
	cfg, err := parseConfiguration(bundleManifest(t), map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CommandTrigger != "whoknows" || cfg.Connected() {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.Settings["CardPeople"] != float64(3) || cfg.Settings["Suggestions"] != true || cfg.Settings["SuggestionMode"] != "thread" {
		t.Fatalf("defaults typed from the schema: %v", cfg.Settings)
	}
}

func TestServerStoredValuesAreTypedWhateverTheirCase(t *testing.T) {
	// The System Console stores keys lowercased; environment overrides arrive as strings.
	cfg, err := parseConfiguration(bundleManifest(t), map[string]any{
		"cardpeople": "5", "suggestions": "false", "serviceurl": "http://127.0.0.1:9/", "suggestionmode": "ephemeral", "servicesecret": "s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Settings["CardPeople"] != float64(5) || cfg.Settings["Suggestions"] != false || cfg.ServiceURL != "http://127.0.0.1:9" {
		t.Fatalf("typed: %+v", cfg)
	}
}

func TestABadValueIsRefusedWithTheSettingsName(t *testing.T) {
	m := bundleManifest(t)
	cases := map[string]map[string]any{
		"CardPeople":     {"CardPeople": "three"},
		"Suggestions":    {"suggestions": "maybe"},
		"SuggestionMode": {"SuggestionMode": "shout"},
		"ServiceURL":     {"ServiceURL": "ftp://example", "ServiceSecret": "s"},
		"ServiceSecret":  {"ServiceURL": "http://127.0.0.1:9"},
		"CommandTrigger": {"CommandTrigger": "who knows"},
		"BatchEvents":    {"BatchEvents": -1},
	}
	for key, raw := range cases {
		_, err := parseConfiguration(m, raw)
		var se *settingError
		if !errors.As(err, &se) || se.Key != key || !strings.Contains(err.Error(), key) {
			t.Errorf("%v: want a refusal naming %s, got %v", raw, key, err)
		}
	}
	_, err := parseConfiguration(m, map[string]any{"ServiceCommand": "/bin/true", "ServiceURL": "http://127.0.0.1:9", "ServiceSecret": "s"})
	if err == nil || !strings.Contains(err.Error(), "ServiceURL") {
		t.Errorf("both a command and a URL must be refused, got %v", err)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	cfg, _ := parseConfiguration(bundleManifest(t), map[string]any{})
	c := cfg.Clone()
	c.Settings["CardPeople"] = float64(9)
	if cfg.Settings["CardPeople"] != float64(3) {
		t.Fatal("a clone shares its settings with the original")
	}
}

// fakeService records what the plugin sends to the service.
type fakeService struct {
	mu           sync.Mutex
	requests     []recorded
	status       int
	answer       string
	refuseEvents bool // a service process that answers but does not lead: events get 503
}

type recorded struct {
	Path, Secret, User string
	Body               []byte
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.URL.RequestURI(), r.Header.Get(headerSecret), r.Header.Get(headerUser), body})
	status, answer := f.status, f.answer
	if f.refuseEvents && r.URL.Path == "/plugin/v1/events" {
		status = http.StatusServiceUnavailable
	}
	f.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *fakeService) last(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("the service got no request")
	}
	return f.requests[len(f.requests)-1]
}

func linkedPlugin(t *testing.T, service http.Handler) *Plugin {
	t.Helper()
	server := httptest.NewServer(service)
	t.Cleanup(server.Close)
	p := &Plugin{link: newLink(), config: &configuration{ServiceURL: server.URL, CommandTrigger: "whoknows"}}
	p.link.set(server.URL, "s3cret")
	p.router = p.newRouter()
	return p
}

func TestActionWithoutServerSetUserIsRefused(t *testing.T) {
	service := &fakeService{}
	p := linkedPlugin(t, service)
	w := httptest.NewRecorder()
	p.router.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/actions/more", strings.NewReader(`{"user_id":"mallory"}`)))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", w.Code)
	}
	if len(service.requests) != 0 {
		t.Fatal("a request without a server-set user reached the service")
	}
}

func TestForgedBodyUserIsReplacedByTheServerSetOne(t *testing.T) {
	service := &fakeService{answer: `{"update":{"message":"ok"}}`}
	p := linkedPlugin(t, service)
	r := httptest.NewRequest(http.MethodPost, "/actions/more?card=1", strings.NewReader(`{"user_id":"mallory","user_name":"mallory","context":{"page":2}}`))
	r.Header.Set(headerServer, "alice-id")
	w := httptest.NewRecorder()
	p.router.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"message":"ok"`) {
		t.Fatalf("answer %d %s", w.Code, w.Body.String())
	}
	got := service.last(t)
	if got.Path != "/plugin/v1/actions/more?card=1" || got.User != "alice-id" || got.Secret != "s3cret" {
		t.Fatalf("forwarded as %+v", got)
	}
	var body map[string]any
	_ = json.Unmarshal(got.Body, &body)
	if body["user_id"] != "alice-id" || body["user_name"] != nil || body["context"].(map[string]any)["page"] != float64(2) {
		t.Fatalf("body %s", got.Body)
	}
}

func TestActionWhileTheServiceIsDownSaysItIsStarting(t *testing.T) {
	p := &Plugin{link: newLink()}
	p.router = p.newRouter()
	r := httptest.NewRequest(http.MethodPost, "/actions/more", strings.NewReader(`{}`))
	r.Header.Set(headerServer, "alice-id")
	w := httptest.NewRecorder()
	p.router.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), msgStarting) {
		t.Fatalf("answer %s", w.Body.String())
	}
}

func TestServiceRoutesNeedTheSecret(t *testing.T) {
	p := linkedPlugin(t, &fakeService{})
	for _, header := range []http.Header{{}, {headerSecret: {"wrong"}}, {"Authorization": {"Bearer wrong"}}, {headerServer: {"alice-id"}}} {
		r := httptest.NewRequest(http.MethodGet, "/service/v1/config", nil)
		r.Header = header
		w := httptest.NewRecorder()
		p.router.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("headers %v: status %d, want 401", header, w.Code)
		}
	}
}

func TestSecretIsAcceptedAsHeaderOrBearer(t *testing.T) {
	l := newLink()
	l.set("http://x", "s3cret")
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, header := range []http.Header{{headerSecret: {"s3cret"}}, {"Authorization": {"Bearer s3cret"}}} {
		r := httptest.NewRequest(http.MethodGet, "/service/x", nil)
		r.Header = header
		w := httptest.NewRecorder()
		requireSecret(l, ok).ServeHTTP(w, r)
		if w.Code != http.StatusTeapot {
			t.Errorf("headers %v: status %d", header, w.Code)
		}
	}
	empty := newLink()
	if empty.secretMatches("") {
		t.Error("an empty secret must match nothing")
	}
}

func TestCommandGoesToTheServiceWithTheServersUser(t *testing.T) {
	service := &fakeService{answer: `{"response_type":"ephemeral","text":"alice knows"}`}
	p := linkedPlugin(t, service)
	resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "alice-id", ChannelId: "c1", TeamId: "t1", RootId: "r1", Command: "/whoknows kubernetes"})
	if appErr != nil || resp.Text != "alice knows" {
		t.Fatalf("response %+v %v", resp, appErr)
	}
	got := service.last(t)
	var args map[string]any
	_ = json.Unmarshal(got.Body, &args)
	if got.Path != "/plugin/v1/command" || got.User != "alice-id" || args["user_id"] != "alice-id" || args["command"] != "/whoknows kubernetes" || args["root_id"] != "r1" {
		t.Fatalf("forwarded %+v %s", got, got.Body)
	}
}

func TestCommandWhileTheServiceFailsSaysItIsStarting(t *testing.T) {
	p := linkedPlugin(t, &fakeService{status: http.StatusInternalServerError})
	resp, _ := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "u", Command: "/whoknows x"})
	if resp.Text != msgStarting || resp.ResponseType != model.CommandResponseTypeEphemeral {
		t.Fatalf("%+v", resp)
	}
	idle := &Plugin{link: newLink(), config: &configuration{CommandTrigger: "whoknows"}}
	resp, _ = idle.ExecuteCommand(nil, &model.CommandArgs{UserId: "u", Command: "/whoknows x"})
	if resp.Text != msgNotConfigured {
		t.Fatalf("%+v", resp)
	}
}

// The service answers 503 "starting" until its start-up has finished, and refuses connections before it listens: both
// reach people as the starting line, for commands and buttons alike.
func TestCommandAndButtonWhileTheServiceStartsSayItIsStarting(t *testing.T) {
	starting := &fakeService{status: http.StatusServiceUnavailable, answer: `{"error":"starting","text":"whoknows is starting, try again in a moment."}`}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more: connection refused
	refused := &Plugin{link: newLink(), config: &configuration{ServiceURL: closed.URL, CommandTrigger: "whoknows"}}
	refused.link.set(closed.URL, "s3cret")
	refused.router = refused.newRouter()
	for name, p := range map[string]*Plugin{"503": linkedPlugin(t, starting), "refused": refused} {
		resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "u", Command: "/whoknows x"})
		if appErr != nil || resp.Text != msgStarting || resp.ResponseType != model.CommandResponseTypeEphemeral {
			t.Errorf("%s: command answered %+v %v", name, resp, appErr)
		}
		r := httptest.NewRequest(http.MethodPost, "/actions/more", strings.NewReader(`{}`))
		r.Header.Set(headerServer, "alice-id")
		w := httptest.NewRecorder()
		p.router.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), msgStarting) {
			t.Errorf("%s: button answered %d %s", name, w.Code, w.Body.String())
		}
	}
}

// A service that refuses the plugin's secret is a setting to fix: people are told so, not to wait for a start.
func TestAServiceThatRefusesTheSecretIsNotCalledStarting(t *testing.T) {
	p := linkedPlugin(t, &fakeService{status: http.StatusUnauthorized, answer: `{"error":"unauthorized"}`})
	resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "u", Command: "/whoknows x"})
	if appErr != nil || resp.Text != msgRefused {
		t.Errorf("command answered %+v %v", resp, appErr)
	}
}

func TestPayloadsCarryTheModelJSON(t *testing.T) {
	post := &model.Post{Id: "p1", ChannelId: "c1", UserId: "u1", Message: "how do I rotate keys?", CreateAt: 10, UpdateAt: 11,
		Metadata: &model.PostMetadata{Reactions: []*model.Reaction{{UserId: "u2"}}}}
	data, err := encode(postPayload(kindPosted, post, model.ChannelTypeOpen, 11))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(data, &got)
	p := got["post"].(map[string]any)
	if got["kind"] != "posted" || got["channel_type"] != "O" || got["at"] != float64(11) || p["id"] != "p1" || p["message"] != "how do I rotate keys?" || p["user_id"] != "u1" {
		t.Fatalf("payload %s", data)
	}
	if _, has := p["metadata"]; has {
		t.Fatalf("the post's metadata (reactions, embeds) must not be sent: %s", data)
	}
	if post.Metadata == nil {
		t.Fatal("building the payload changed the hook's post")
	}
}

func TestADeletedPostSaysWhenItWent(t *testing.T) {
	post := &model.Post{Id: "p1", ChannelId: "c1", UserId: "u1", UpdateAt: 5}
	got := postPayload(kindDeleted, post, model.ChannelTypeOpen, 99)
	if got.Post.DeleteAt != 99 || post.DeleteAt != 0 {
		t.Fatalf("delete_at %d (hook's post %d)", got.Post.DeleteAt, post.DeleteAt)
	}
}

func TestUserPayloadHasNoSecrets(t *testing.T) {
	u := &model.User{Id: "u1", Username: "alice", FirstName: "Alice", Email: "alice@example.com", Password: "hash", AuthData: model.NewPointer("x"), MfaSecret: "m"}
	data, _ := encode(payload{Kind: kindUser, User: publicUser(u)})
	text := string(data)
	for _, leak := range []string{"alice@example.com", "hash", `"m"`} {
		if strings.Contains(text, leak) {
			t.Errorf("%s leaks %s", text, leak)
		}
	}
	if !strings.Contains(text, `"username":"alice"`) || !strings.Contains(text, `"first_name":"Alice"`) || u.Email == "" {
		t.Errorf("payload %s (or the hook's user was changed)", text)
	}
}

func TestConsent(t *testing.T) {
	member, outsider := func() bool { return true }, func() bool { return false }
	cases := []struct {
		kind   model.ChannelType
		member func() bool
		want   bool
	}{
		{model.ChannelTypeOpen, outsider, true},
		{model.ChannelTypePrivate, member, true},
		{model.ChannelTypePrivate, outsider, false},
		{model.ChannelTypeDirect, member, false},
		{model.ChannelTypeGroup, member, false},
	}
	for _, c := range cases {
		if got := consents(&model.Channel{Type: c.kind}, c.member); got != c.want {
			t.Errorf("%s (bot member %v): forwarded %v, want %v", c.kind, c.member(), got, c.want)
		}
	}
}

func TestChildEnvironment(t *testing.T) {
	cfg, _ := parseConfiguration(bundleManifest(t), map[string]any{"ServiceCommand": "whoknows serve-plugin", "CardPeople": 4})
	env := map[string]string{}
	for _, kv := range childEnv(cfg, "http://127.0.0.1:8065/plugins/whoknows", "s3cret", "bot-id", "/plugins/whoknows", 4242) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{
		"WHOKNOWS_MODE": "plugin", "WHOKNOWS_PLUGIN_SECRET": "s3cret", "WHOKNOWS_BOT_TOKEN": "s3cret",
		"WHOKNOWS_PLUGIN_URL": "http://127.0.0.1:8065/plugins/whoknows", "WHOKNOWS_MATTERMOST_URL": "http://127.0.0.1:8065/plugins/whoknows/service",
		"WHOKNOWS_HTTP_HOST": "127.0.0.1", "WHOKNOWS_HTTP_PORT": "4242", "WHOKNOWS_CARD_PEOPLE": "4", "WHOKNOWS_BOT_USER_ID": "bot-id",
		"WHOKNOWS_SUGGESTION_MIN_CONFIDENCE": "0.3", "WHOKNOWS_JOIN_PUBLIC_CHANNELS": "false", "WHOKNOWS_HIGH_TRAFFIC_POSTS_PER_DAY": "300",
		"WHOKNOWS_ASSETS": "/plugins/whoknows/assets", "WHOKNOWS_MANIFEST": "/plugins/whoknows/plugin.json",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if _, leaked := env["WHOKNOWS_SERVICE_COMMAND"]; leaked {
		t.Error("the plugin's own settings are not the service's")
	}
}

func TestInternalBase(t *testing.T) {
	c := &model.Config{}
	c.SetDefaults()
	*c.ServiceSettings.ListenAddress = ":8065"
	*c.ServiceSettings.SiteURL = "https://chat.example.com/mm/"
	if got := internalBase(c); got != "http://127.0.0.1:8065/mm" {
		t.Fatalf("%s", got)
	}
}

func TestEventsAreNumberedSoTheServiceSeesWhatItMissed(t *testing.T) {
	service := &fakeService{}
	p := linkedPlugin(t, service)
	p.API = quietAPI{}
	p.boot = "boot1"
	user := &model.User{Id: "u1", Username: "alice"}
	seqs := func() []float64 {
		service.mu.Lock()
		defer service.mu.Unlock()
		var out []float64
		for _, r := range service.requests {
			var got map[string]any
			_ = json.Unmarshal(r.Body, &got)
			if got["boot"] != "boot1" {
				t.Fatalf("event without its activation: %s", r.Body)
			}
			out = append(out, got["seq"].(float64))
		}
		return out
	}
	p.send(payload{Kind: kindUser, User: user})
	service.mu.Lock()
	service.status = http.StatusInternalServerError // this one does not land
	service.mu.Unlock()
	p.send(payload{Kind: kindUser, User: user})
	service.mu.Lock()
	service.status = 0
	service.mu.Unlock()
	p.work = make(chan func()) // no worker and no room: the next hook is dropped
	p.later(func() {})
	p.send(payload{Kind: kindUser, User: user})
	if got := seqs(); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 4 {
		t.Fatalf("numbers sent %v: want 1, 2 (failed), then 4 after the dropped 3", got)
	}
}

// quietAPI is the plugin API as far as logging: what the events worker calls when a send fails.
type quietAPI struct{ plugin.API }

func (quietAPI) LogWarn(string, ...any)  {}
func (quietAPI) LogDebug(string, ...any) {}

// With several service processes (ServiceURL lists them), requests reach the one that leads: one standing by
// (503 "starting") or gone (connection refused) is routed around, and the one that answered is tried first next time.
func TestSeveralServicesRequestsGoToTheOneThatLeads(t *testing.T) {
	standby := &fakeService{status: http.StatusServiceUnavailable, answer: `{"error":"starting"}`}
	leader := &fakeService{answer: `{"response_type":"ephemeral","text":"alice knows"}`}
	standbyServer, leaderServer := httptest.NewServer(standby), httptest.NewServer(leader)
	t.Cleanup(standbyServer.Close)
	t.Cleanup(leaderServer.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	bases := gone.URL + ", " + standbyServer.URL + "/ ," + leaderServer.URL
	if _, err := parseConfiguration(bundleManifest(t), map[string]any{"ServiceURL": bases, "ServiceSecret": "s"}); err != nil {
		t.Fatalf("a list of URLs is a valid ServiceURL: %v", err)
	}
	p := &Plugin{link: newLink(), config: &configuration{ServiceURL: bases, CommandTrigger: "whoknows"}}
	p.link.set(bases, "s3cret")
	for round := 0; round < 2; round++ {
		resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "alice-id", Command: "/whoknows kubernetes"})
		if appErr != nil || resp.Text != "alice knows" {
			t.Fatalf("round %d: %+v %v", round, resp, appErr)
		}
	}
	if len(leader.requests) != 2 {
		t.Fatalf("the leader got %d of the 2 commands: a standing-by process is routed around", len(leader.requests))
	}
	leaderServer.Close() // the leader dies; the other one takes over
	standby.mu.Lock()
	standby.status, standby.answer = http.StatusOK, `{"response_type":"ephemeral","text":"bob knows"}`
	standby.mu.Unlock()
	resp, _ := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "alice-id", Command: "/whoknows kubernetes"})
	if resp.Text != "bob knows" {
		t.Fatalf("after the leader died: %+v", resp)
	}
	standby.mu.Lock()
	standby.status = http.StatusServiceUnavailable
	standby.mu.Unlock()
	resp, _ = p.ExecuteCommand(nil, &model.CommandArgs{UserId: "alice-id", Command: "/whoknows kubernetes"})
	if resp.Text != msgStarting {
		t.Fatalf("with no process leading, people are told it is starting: %+v", resp)
	}
	for _, bad := range []string{"http://a:1,", "http://a:1, ftp://b", "http://a:1 http://b:2"} {
		if _, err := parseConfiguration(bundleManifest(t), map[string]any{"ServiceURL": bad, "ServiceSecret": "s"}); err == nil {
			t.Errorf("ServiceURL %q must be refused", bad)
		}
	}
}

func (f *fakeService) paths() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, r := range f.requests {
		out[r.Path]++
	}
	return out
}

func TestSeveralServicesCommandsAreSpreadEventsGoToTheLeaderConfigurationToAll(t *testing.T) {
	follower := &fakeService{refuseEvents: true, answer: `{"response_type":"ephemeral","text":"from the follower"}`}
	leader := &fakeService{answer: `{"response_type":"ephemeral","text":"from the leader"}`}
	followerServer, leaderServer := httptest.NewServer(follower), httptest.NewServer(leader)
	t.Cleanup(followerServer.Close)
	t.Cleanup(leaderServer.Close)
	bases := followerServer.URL + "," + leaderServer.URL
	p := &Plugin{link: newLink(), config: &configuration{ServiceURL: bases, CommandTrigger: "whoknows"}}
	p.link.set(bases, "s3cret")
	answers := map[string]int{}
	for round := 0; round < 4; round++ {
		resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "alice-id", Command: "/whoknows kubernetes"})
		if appErr != nil {
			t.Fatal(appErr)
		}
		answers[resp.Text]++
	}
	if answers["from the follower"] != 2 || answers["from the leader"] != 2 {
		t.Fatalf("four commands take turns over the two processes: %v", answers)
	}
	for i := 0; i < 3; i++ {
		if err := p.link.sendEvent([]byte(`{"events":[]}`)); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if got := leader.paths()["/plugin/v1/events"]; got != 3 {
		t.Fatalf("every event reaches the leader, got %d of 3", got)
	}
	if got := follower.paths()["/plugin/v1/events"]; got != 1 {
		t.Fatalf("the follower refused the first event and was not asked again, asked %d times", got)
	}
	took, _, err := p.link.broadcast(context.Background(), http.MethodPost, "/plugin/v1/config", []byte(`{}`))
	if took != 2 || err != nil || follower.paths()["/plugin/v1/config"] != 1 || leader.paths()["/plugin/v1/config"] != 1 {
		t.Fatalf("a configuration reaches both processes: took %d, %v", took, err)
	}
	leaderServer.Close() // the leader dies: commands still answered, by the follower
	for round := 0; round < 2; round++ {
		if resp, _ := p.ExecuteCommand(nil, &model.CommandArgs{UserId: "alice-id", Command: "/whoknows kubernetes"}); resp.Text != "from the follower" {
			t.Fatalf("round %d after the leader died: %+v", round, resp)
		}
	}
}
