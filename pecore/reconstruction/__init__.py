"""The reconstruction chapter's library code."""
