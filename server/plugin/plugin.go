package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/whoknows/whoknows/server/plugin/command"
)

const (
	botUsername   = "whoknows"
	botIconPath   = "assets/bot-icon.png"
	kvSecret      = "service_secret"
	eventsBacklog = 4096
)

// Plugin is whoknows's adapter inside the server. Its state is set in OnActivate and torn down in
// OnDeactivate; the configuration is swapped whole on every change.
type Plugin struct {
	plugin.MattermostPlugin

	configLock sync.RWMutex
	config     *configuration
	manifest   *model.Manifest

	bot       atomic.Value // string: the bot's user id
	link      *link
	child     *supervisor // under childLock
	childLock sync.Mutex
	router    http.Handler
	work      chan func()
	dropped   atomic.Int64
	seq       atomic.Uint64 // the number of the last event sent or dropped (LINK.md, Events)
	boot      string        // random, new at each activation: numbers count from 1 again
	stop      chan struct{}
	done      chan struct{}

	commandLock sync.Mutex
	trigger     string        // the trigger registered now, "" before
	table       command.Table // the table registered now
	cancelWait  context.CancelFunc
}

// newBoot names one activation, so the service can tell numbers of a new run from a gap.
func newBoot() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *Plugin) botID() string {
	id, _ := p.bot.Load().(string)
	return id
}

func (p *Plugin) getConfiguration() *configuration {
	p.configLock.RLock()
	defer p.configLock.RUnlock()
	if p.config == nil {
		return &configuration{CommandTrigger: "whoknows", Settings: map[string]any{}}
	}
	return p.config
}

// loadManifest reads the bundle's plugin.json: the settings schema is what the configuration is
// typed and checked against.
func (p *Plugin) loadManifest() (*model.Manifest, error) {
	if p.manifest != nil {
		return p.manifest, nil
	}
	dir, err := p.API.GetBundlePath()
	if err != nil {
		return nil, err
	}
	m, _, err := model.FindManifest(dir)
	if err != nil {
		return nil, err
	}
	p.manifest = m
	return m, nil
}

// OnConfigurationChange swaps in the new configuration (an invalid one is logged and the old one
// kept: ConfigurationWillBeSaved has already refused it in the System Console) and, once active,
// applies it: the link target, the child, the command, and the copy the service holds.
func (p *Plugin) OnConfigurationChange() error {
	m, err := p.loadManifest()
	if err != nil {
		return fmt.Errorf("whoknows: cannot read the plugin manifest: %w", err)
	}
	raw := map[string]any{}
	if err := p.API.LoadPluginConfiguration(&raw); err != nil {
		return fmt.Errorf("whoknows: cannot load the configuration: %w", err)
	}
	cfg, err := parseConfiguration(m, raw)
	if err != nil {
		p.API.LogError("whoknows: the configuration is invalid, the previous one stays", "error", err.Error())
		return err
	}
	p.configLock.Lock()
	old := p.config
	p.config = cfg
	p.configLock.Unlock()
	if p.link != nil {
		p.apply(old, cfg)
	}
	return nil
}

// ConfigurationWillBeSaved refuses a plugin configuration the plugin or the service cannot use,
// with the setting's name: this is the error the System Console shows on Save.
func (p *Plugin) ConfigurationWillBeSaved(newCfg *model.Config) (*model.Config, error) {
	m, err := p.loadManifest()
	if err != nil || newCfg == nil {
		return nil, nil
	}
	raw, ok := newCfg.PluginSettings.Plugins[m.Id]
	if !ok {
		return nil, nil
	}
	cfg, err := parseConfiguration(m, raw)
	if err == nil {
		err = p.serviceRefuses(cfg)
	}
	if err != nil {
		appErr := model.NewAppError("ConfigurationWillBeSaved", "plugins.whoknows.invalid_setting", nil, "", http.StatusBadRequest)
		appErr.Message = err.Error()
		appErr.SkipTranslation = true
		return nil, appErr
	}
	return nil, nil
}

// serviceRefuses asks a running service to check its own settings (their ranges and formats are
// the service's rules, not the plugin's). An unreachable service refuses nothing.
func (p *Plugin) serviceRefuses(cfg *configuration) error {
	if p.link == nil {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"settings": cfg.Settings})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	status, data, err := p.link.call(ctx, http.MethodPost, "/plugin/v1/config/check", body, nil)
	if err != nil || status != http.StatusUnprocessableEntity {
		return nil
	}
	var answer struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &answer) != nil || answer.Error == "" {
		return nil
	}
	return fmt.Errorf("whoknows: %s", answer.Error)
}

func (p *Plugin) OnActivate() error {
	m, err := p.loadManifest()
	if err != nil {
		return fmt.Errorf("whoknows: cannot read the plugin manifest: %w", err)
	}
	client := pluginapi.NewClient(p.API, p.Driver)
	botID, err := client.Bot.EnsureBot(&model.Bot{
		Username:    botUsername,
		DisplayName: m.Name,
		Description: "Finds who knows about a topic, from the team's conversations.",
	}, pluginapi.ProfileImagePath(botIconPath))
	if err != nil {
		return fmt.Errorf("whoknows: cannot ensure the bot account: %w", err)
	}
	p.bot.Store(botID)

	if _, err := p.ensureSecret(); err != nil {
		return err
	}
	p.link = newLink()
	p.boot = newBoot()
	p.seq.Store(0)
	p.work = make(chan func(), eventsBacklog)
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.runEvents(p.work, p.stop, p.done)
	p.router = p.newRouter()
	p.apply(nil, p.getConfiguration())
	return nil
}

func (p *Plugin) OnDeactivate() error {
	p.commandLock.Lock()
	if p.cancelWait != nil {
		p.cancelWait()
	}
	p.commandLock.Unlock()
	p.childLock.Lock()
	if p.child != nil {
		p.child.Stop()
		p.child = nil
	}
	p.childLock.Unlock()
	if p.stop != nil {
		close(p.stop)
		<-p.done
	}
	return nil
}

// ensureSecret returns the shared secret, generating and storing it (KV) on first activation.
func (p *Plugin) ensureSecret() (string, error) {
	stored, appErr := p.API.KVGet(kvSecret)
	if appErr != nil {
		return "", fmt.Errorf("whoknows: cannot read the service secret: %w", appErr)
	}
	if len(stored) > 0 {
		return string(stored), nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	// Set only if still absent: another node of a cluster may have stored its own meanwhile.
	set, appErr := p.API.KVSetWithOptions(kvSecret, []byte(secret), model.PluginKVSetOptions{Atomic: true, OldValue: nil})
	if appErr != nil {
		return "", fmt.Errorf("whoknows: cannot store the service secret: %w", appErr)
	}
	if !set {
		return p.ensureSecret()
	}
	return secret, nil
}

// secret is the setting when an admin set one (needed with ServiceURL, where the running service
// must be told it), else the generated one.
func (p *Plugin) secret(cfg *configuration) string {
	if cfg.ServiceSecret != "" {
		return cfg.ServiceSecret
	}
	s, _ := p.ensureSecret()
	return s
}

// apply makes the running plugin match cfg: link target, child process, command, service copy.
func (p *Plugin) apply(old, cfg *configuration) {
	secret := p.secret(cfg)
	p.childLock.Lock()
	defer p.childLock.Unlock()
	restartChild := old == nil || old.ServiceCommand != cfg.ServiceCommand || old.ServiceSecret != cfg.ServiceSecret
	if restartChild && p.child != nil {
		p.child.Stop()
		p.child = nil
	}
	switch {
	case cfg.ServiceURL != "":
		p.link.set(cfg.ServiceURL, secret)
	case cfg.ServiceCommand != "":
		if p.child == nil {
			p.link.set("", secret)
			p.child = p.startChild(cfg, secret)
		}
	default:
		p.link.set("", secret)
	}
	p.register(p.currentTable(), cfg.CommandTrigger)
	p.awaitService()
}

func (p *Plugin) currentTable() command.Table {
	p.commandLock.Lock()
	defer p.commandLock.Unlock()
	if len(p.table.Subcommands) == 0 {
		return command.Fallback()
	}
	return p.table
}

// register (re-)registers the slash command; a changed trigger unregisters the old one first.
func (p *Plugin) register(table command.Table, trigger string) {
	p.commandLock.Lock()
	defer p.commandLock.Unlock()
	if p.trigger != "" && p.trigger != trigger {
		_ = p.API.UnregisterCommand("", p.trigger)
	}
	if err := p.API.RegisterCommand(command.Build(table, trigger)); err != nil {
		p.API.LogError("whoknows: cannot register the slash command", "trigger", trigger, "error", err.Error())
		return
	}
	p.trigger, p.table = trigger, table
}

// awaitService polls the service until it answers its command table, then registers the real
// autocomplete and hands the service the configuration. A newer call cancels an older one.
func (p *Plugin) awaitService() {
	p.commandLock.Lock()
	if p.cancelWait != nil {
		p.cancelWait()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancelWait = cancel
	p.commandLock.Unlock()
	go func() {
		delay := 500 * time.Millisecond
		for {
			if p.handshake(ctx) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(delay*2, 10*time.Second)
		}
	}()
}

func (p *Plugin) handshake(ctx context.Context) bool {
	l := p.link
	if l == nil {
		return true
	}
	if base, _ := l.target(); base == "" {
		return false
	}
	callCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	status, data, err := l.call(callCtx, http.MethodGet, "/plugin/v1/autocomplete", nil, nil)
	if err != nil || status != http.StatusOK {
		return false
	}
	table, err := command.ParseTable(data)
	if err != nil {
		p.API.LogError("whoknows: the service's command table is unusable", "error", err.Error())
		return false
	}
	cfg := p.getConfiguration()
	if ctx.Err() != nil {
		return true
	}
	p.register(table, cfg.CommandTrigger)
	return p.pushConfig(ctx, cfg)
}

// linkInfo is the configuration as the service receives it (POST /plugin/v1/config, and
// GET /service/v1/config for a service that asks).
func (p *Plugin) linkInfo(cfg *configuration) map[string]any {
	version := ""
	if p.manifest != nil {
		version = p.manifest.Version
	}
	return map[string]any{
		"settings":       cfg.Settings,
		"plugin_url":     p.pluginURL(),
		"site_url":       siteURL(p.API.GetConfig()),
		"bot_user_id":    p.botID(),
		"bot_username":   botUsername,
		"plugin_version": version,
	}
}

func (p *Plugin) pushConfig(ctx context.Context, cfg *configuration) bool {
	body, _ := json.Marshal(p.linkInfo(cfg))
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	took, status, err := p.link.broadcast(callCtx, http.MethodPost, "/plugin/v1/config", body)
	if took == 0 {
		if ctx.Err() == nil {
			p.API.LogWarn("whoknows: the service did not take the configuration", "status", status, "error", fmt.Sprint(err))
		}
		return false
	}
	return true
}

// pluginURL is where a service on this machine reaches the plugin's routes: the server's own
// listener on loopback (the site URL may be a proxy the machine cannot reach), plus the subpath.
func (p *Plugin) pluginURL() string {
	return internalBase(p.API.GetConfig()) + "/plugins/" + p.manifestID()
}

func (p *Plugin) manifestID() string {
	if p.manifest != nil {
		return p.manifest.Id
	}
	return "whoknows"
}

func siteURL(c *model.Config) string {
	if c == nil || c.ServiceSettings.SiteURL == nil {
		return ""
	}
	return *c.ServiceSettings.SiteURL
}
