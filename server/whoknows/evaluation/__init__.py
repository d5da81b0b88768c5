"""Measuring how well a method answers "who knows about X?" (see the evaluation protocol)."""
