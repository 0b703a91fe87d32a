"""The sr chapter's library code."""
