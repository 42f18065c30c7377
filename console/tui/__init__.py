"""The Textual console: the App, its screens and the batched watch-driven updates (read-only by default)."""
