"""Where PE comes from, and whether high-PE channels see like humans: chapter 09's library code."""
