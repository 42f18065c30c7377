"""Reusable Textual widgets that take plain values (never import `console`), and the one
terminal-safety policy for untrusted strings (`safe_text`, pure; `text`, its Rich wrapper)."""
