// Pins the Mattermost server (Team Edition) that the end-to-end tests run
// against. Nothing here is imported by the bot: build-mattermost.sh compiles
// github.com/mattermost/mattermost/server/v8/cmd/mattermost from this module.
//
// The pair below (server/v8 + server/public, Mattermost 11.4.0 of 2026-01-13)
// is one the Playbooks plugin pinned together, so it is known to compile. The
// module proxy serves only some server/v8 pseudo-versions (no version list;
// e.g. v8.0.0-20260626143749-f31c2869bad3 answers 403), and the checksum
// database has none of them: go.sum holds their hashes. The go command ignores a
// dependency's replace/exclude directives: the one in server/v8's go.mod is
// copied below. Do not run a plain `go mod tidy` here (it would follow the
// `enterprise` build tag to a private module); see build-mattermost.sh.
module whoknows.test/mattermost

go 1.24.11

require (
	github.com/mattermost/mattermost/server/public v0.1.22-0.20260113165922-8e4cadbc88ee
	github.com/mattermost/mattermost/server/v8 v8.0.0-20260113162330-9e1d4c2072c0
)

// Copied from server/v8's go.mod at the pinned version.
replace github.com/olekukonko/tablewriter => github.com/olekukonko/tablewriter v0.0.5
