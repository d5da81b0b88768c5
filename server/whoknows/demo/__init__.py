"""A seeded generator of plausible team conversations, as Mattermost bulk-export JSONL.

The small `demo` preset is what a newcomer imports and asks; the `bench` preset scales to a
million posts for measuring the ranking. Both come with the ground truth: who the experts
of each topic really are.
"""

from .generator import DEFAULT_END_MS, Preset, generate, scale_for
from .summary import TopicTruth, WorkspaceSummary

__all__ = ["DEFAULT_END_MS", "Preset", "TopicTruth", "WorkspaceSummary", "generate", "scale_for"]
