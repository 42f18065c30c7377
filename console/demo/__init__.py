"""The demo fleet: its Git repository content, workspace and seeded incidents (bootstrap.py)."""
