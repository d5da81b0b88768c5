"""The SQLite files the service keeps beside the conversation store, the store as one folder, and their migrations."""
