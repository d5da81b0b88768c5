"""The composition root: lifecycle, the one writer, discovery and live events, backfill, registration, repair, import."""
