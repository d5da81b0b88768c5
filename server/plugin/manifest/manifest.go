// Package manifest builds the bundle's plugin.json: the repository's plugin.json (the service's
// settings, which the Python service reads too) with the plugin's own link settings put first.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mattermost/mattermost/server/public/model"
)

// Bundle returns the bundle manifest, refusing one the server would refuse.
func Bundle(base, linkSettings []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("plugin.json: %w", err)
	}
	var schema map[string]json.RawMessage
	if err := json.Unmarshal(doc["settings_schema"], &schema); err != nil {
		return nil, fmt.Errorf("plugin.json settings_schema: %w", err)
	}
	var settings, link []json.RawMessage
	if err := json.Unmarshal(schema["settings"], &settings); err != nil {
		return nil, fmt.Errorf("plugin.json settings_schema.settings: %w", err)
	}
	if err := json.Unmarshal(linkSettings, &link); err != nil {
		return nil, fmt.Errorf("link settings: %w", err)
	}
	merged, err := json.Marshal(append(link, settings...))
	if err != nil {
		return nil, err
	}
	schema["settings"] = merged
	if doc["settings_schema"], err = json.Marshal(schema); err != nil {
		return nil, err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var m model.Manifest
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("bundle manifest: %w", err)
	}
	if err := m.IsValid(); err != nil {
		return nil, fmt.Errorf("bundle manifest: %w", err)
	}
	seen := map[string]bool{}
	for _, s := range m.SettingsSchema.Settings {
		if seen[s.Key] {
			return nil, fmt.Errorf("bundle manifest: the setting %s is defined twice", s.Key)
		}
		seen[s.Key] = true
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		return nil, err
	}
	return append(pretty.Bytes(), '\n'), nil
}
