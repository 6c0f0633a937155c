"""Consent: the boxes a visitor ticks, their double opt-in and their withdrawal (docs/privacy.md)."""
