"""Converters from public data sets into the formats of the evaluation protocol."""
