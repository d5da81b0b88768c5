package main

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
)

// The settings the plugin itself acts on; every other setting is the service's and is handed to it as is.
const (
	keyServiceCommand = "ServiceCommand"
	keyServiceURL     = "ServiceURL"
	keyServiceSecret  = "ServiceSecret"
	keyCommandTrigger = "CommandTrigger"
)

// configuration is one snapshot of the plugin's settings. It is never mutated after it is built:
// OnConfigurationChange builds a new one and swaps it in, readers take it under the lock.
type configuration struct {
	ServiceCommand string
	ServiceURL     string
	ServiceSecret  string
	CommandTrigger string
	// Settings holds every setting of the schema under its manifest key (CardPeople, not cardpeople),
	// typed as the schema says: bool, float64 for numbers, string otherwise.
	Settings map[string]any
}

// Clone is a deep copy, so a caller may keep it while the plugin swaps in a new one.
func (c *configuration) Clone() *configuration {
	out := *c
	out.Settings = make(map[string]any, len(c.Settings))
	for k, v := range c.Settings {
		out.Settings[k] = v
	}
	return &out
}

// Connected reports whether a service is named at all (a command to start or a URL to reach).
func (c *configuration) Connected() bool {
	return c.ServiceCommand != "" || c.ServiceURL != ""
}

// settingError names the setting the way the System Console shows it, so the admin knows what to fix.
type settingError struct {
	Key, DisplayName, Want string
}

func (e *settingError) Error() string {
	return fmt.Sprintf("whoknows: the setting %s (%q) must be %s", e.Key, e.DisplayName, e.Want)
}

// schemaSettings lists the manifest's settings, flat and in order.
func schemaSettings(m *model.Manifest) []*model.PluginSetting {
	if m == nil || m.SettingsSchema == nil {
		return nil
	}
	out := append([]*model.PluginSetting{}, m.SettingsSchema.Settings...)
	for _, s := range m.SettingsSchema.Sections {
		out = append(out, s.Settings...)
	}
	return out
}

// parseConfiguration types and checks raw settings as the server stores them (keys in any case,
// as the System Console lowercases them; values typed, or strings from environment overrides).
// A missing key takes the manifest's default. The first bad value is returned as a *settingError.
func parseConfiguration(m *model.Manifest, raw map[string]any) (*configuration, error) {
	lower := make(map[string]any, len(raw))
	for k, v := range raw {
		lower[strings.ToLower(k)] = v
	}
	cfg := &configuration{Settings: map[string]any{}}
	for _, s := range schemaSettings(m) {
		value, ok := lower[strings.ToLower(s.Key)]
		if !ok || value == nil {
			value = s.Default
		}
		typed, err := typeSetting(s, value)
		if err != nil {
			return nil, err
		}
		cfg.Settings[s.Key] = typed
	}
	text := func(key string) string { v, _ := cfg.Settings[key].(string); return strings.TrimSpace(v) }
	cfg.ServiceCommand = text(keyServiceCommand)
	cfg.ServiceURL = strings.TrimRight(text(keyServiceURL), "/")
	cfg.ServiceSecret = text(keyServiceSecret)
	cfg.CommandTrigger = strings.TrimPrefix(text(keyCommandTrigger), "/")
	if err := cfg.check(m); err != nil {
		return nil, err
	}
	return cfg, nil
}

func display(m *model.Manifest, key string) string {
	for _, s := range schemaSettings(m) {
		if s.Key == key {
			return s.DisplayName
		}
	}
	return key
}

// check holds the rules the plugin needs to do its own job; the service's finer rules are asked of
// the service (see ConfigurationWillBeSaved).
func (c *configuration) check(m *model.Manifest) error {
	bad := func(key, want string) error { return &settingError{key, display(m, key), want} }
	if c.ServiceCommand != "" && c.ServiceURL != "" {
		return bad(keyServiceURL, "empty when a service command is set (set one of the two)")
	}
	if c.ServiceURL != "" && c.ServiceSecret == "" {
		// A service the plugin did not start cannot be told the generated secret.
		return bad(keyServiceSecret, "set (Regenerate) when a service URL is set, and given to that service as WHOKNOWS_PLUGIN_SECRET")
	}
	if c.ServiceURL != "" {
		for _, one := range strings.Split(c.ServiceURL, ",") {
			one = strings.TrimRight(strings.TrimSpace(one), "/")
			u, err := url.Parse(one)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(one, " \t") {
				return bad(keyServiceURL, "empty, an http(s) URL such as http://127.0.0.1:8077, or several separated by commas")
			}
		}
	}
	if strings.ContainsAny(c.ServiceCommand, "\n\r") {
		return bad(keyServiceCommand, "one line")
	}
	if c.CommandTrigger == "" || strings.ContainsAny(c.CommandTrigger, " \t/") {
		return bad(keyCommandTrigger, "one word without the slash, such as whoknows")
	}
	return nil
}

func typeSetting(s *model.PluginSetting, value any) (any, error) {
	bad := func(want string) error { return &settingError{s.Key, s.DisplayName, want} }
	switch s.Type {
	case "bool":
		switch v := value.(type) {
		case bool:
			return v, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
				return b, nil
			}
		}
		return nil, bad("true or false")
	case "number":
		var f float64
		switch v := value.(type) {
		case float64:
			f = v
		case int:
			f = float64(v)
		case int64:
			f = float64(v)
		case string:
			parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, bad("a number")
			}
			f = parsed
		default:
			return nil, bad("a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return nil, bad("a number of at least 0")
		}
		return f, nil
	case "radio", "dropdown":
		v, _ := value.(string)
		values := make([]string, 0, len(s.Options))
		for _, o := range s.Options {
			if o.Value == v {
				return v, nil
			}
			values = append(values, o.Value)
		}
		return nil, bad("one of " + strings.Join(values, ", "))
	default:
		switch v := value.(type) {
		case string:
			return v, nil
		case float64, bool:
			return fmt.Sprint(v), nil
		}
		return nil, bad("text")
	}
}
