package command

import "testing"

func TestBuildHasEverySubcommandWithItsHint(t *testing.T) {
	table, err := ParseTable([]byte(`{"trigger":"whoknows","description":"Find experts","hint":"[topic]",
		"subcommands":[{"name":"me","hint":"","help":"What you are known for"},
		{"name":"optout","hint":"","help":"Stop being suggested"},
		{"name":"person","hint":"@someone","help":"What someone knows"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cmd := Build(table, "askus")
	if cmd.Trigger != "askus" || cmd.AutocompleteData.Trigger != "askus" || !cmd.AutoComplete {
		t.Fatalf("the configured trigger must win: %+v", cmd)
	}
	if err := cmd.AutocompleteData.IsValid(); err != nil {
		t.Fatalf("the server would refuse this autocomplete: %v", err)
	}
	subs := cmd.AutocompleteData.SubCommands
	if len(subs) != 3 || subs[0].Trigger != "me" || subs[2].Trigger != "person" {
		t.Fatalf("sub-commands: %+v", subs)
	}
	if subs[2].Hint != "@someone" || subs[2].HelpText != "What someone knows" || len(subs[2].Arguments) != 1 {
		t.Fatalf("person's hint and argument: %+v", subs[2])
	}
	if len(subs[0].Arguments) != 0 {
		t.Fatalf("me takes no argument: %+v", subs[0].Arguments)
	}
}

func TestParseTableRefusesWhatCannotBeRegistered(t *testing.T) {
	for _, bad := range []string{`not json`, `{"subcommands":[]}`, `{"subcommands":[{"name":"two words"}]}`, `{"subcommands":[{"name":""}]}`} {
		if _, err := ParseTable([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestFallbackIsAValidCommand(t *testing.T) {
	if err := Build(Fallback(), "whoknows").AutocompleteData.IsValid(); err != nil {
		t.Fatal(err)
	}
}
