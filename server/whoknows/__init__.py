"""whoknows: answers "who knows about X?" inside Mattermost, from the conversation the team already has."""

__version__ = "0.1.0"
