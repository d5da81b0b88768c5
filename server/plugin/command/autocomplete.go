// Package command turns the service's command table into the slash command the plugin registers.
package command

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
)

// Table is what the service answers at GET /plugin/v1/autocomplete (and `whoknows autocomplete` prints).
type Table struct {
	Trigger     string       `json:"trigger"`
	Description string       `json:"description"`
	Hint        string       `json:"hint"`
	Subcommands []Subcommand `json:"subcommands"`
}

// Subcommand is one row of the service's command table.
type Subcommand struct {
	Name string `json:"name"`
	Hint string `json:"hint"`
	Help string `json:"help"`
}

// Fallback is registered until the service answers, so /whoknows exists (and says it is starting).
func Fallback() Table {
	return Table{
		Trigger:     "whoknows",
		Description: "Find who knows about a topic, from the team's conversations.",
		Hint:        "[topic | @person | me | help]",
		Subcommands: []Subcommand{{Name: "help", Help: "What /whoknows can do."}},
	}
}

// ParseTable reads the service's answer; a table without sub-commands or with nameless rows is refused.
func ParseTable(data []byte) (Table, error) {
	var t Table
	if err := json.Unmarshal(data, &t); err != nil {
		return Table{}, fmt.Errorf("autocomplete table: %w", err)
	}
	if len(t.Subcommands) == 0 {
		return Table{}, fmt.Errorf("autocomplete table: no sub-commands")
	}
	for i, s := range t.Subcommands {
		if strings.TrimSpace(s.Name) == "" || strings.ContainsAny(s.Name, " \t") {
			return Table{}, fmt.Errorf("autocomplete table: sub-command %d has no one-word name", i)
		}
	}
	return t, nil
}

// Build makes the registered command; trigger is the configured one (the CommandTrigger setting),
// which wins over the table's.
func Build(t Table, trigger string) *model.Command {
	root := model.NewAutocompleteData(trigger, t.Hint, t.Description)
	for _, s := range t.Subcommands {
		sub := model.NewAutocompleteData(s.Name, s.Hint, s.Help)
		if s.Hint != "" {
			sub.AddTextArgument(s.Help, s.Hint, "")
		}
		root.AddCommand(sub)
	}
	return &model.Command{
		Trigger:          trigger,
		DisplayName:      "Who knows",
		Description:      t.Description,
		AutoComplete:     true,
		AutoCompleteDesc: t.Description,
		AutoCompleteHint: t.Hint,
		AutocompleteData: root,
	}
}
