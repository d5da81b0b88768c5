"""Thin translators to the systems whoknows speaks to: Mattermost REST, websocket and events, HTTP, bulk export."""
