"""Leads: one per person; classification, reviewer decisions, and sales feedback with its public link."""
