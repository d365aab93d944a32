"""Helpers the extensions share (not extensions themselves)."""
