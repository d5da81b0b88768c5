"""The pure core: events, the index, ranking and cards. No sockets, HTTP, clocks or Mattermost JSON."""
