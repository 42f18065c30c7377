"""Dialogs shown over a screen (help now; confirmations arrive with the actions)."""
