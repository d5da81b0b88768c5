// Command plugin is the whoknows Mattermost server plugin: see LINK.md for what it sends and serves.
package main

import "github.com/mattermost/mattermost/server/public/plugin"

func main() {
	plugin.ClientMain(&Plugin{})
}
