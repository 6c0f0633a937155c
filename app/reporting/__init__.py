"""Reporting: dashboard figures, the charts that draw them, and spreadsheet-safe CSV exports."""
