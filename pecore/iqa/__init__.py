"""The iqa chapter's library code."""
