"""Alerts: conditions that need a person (dead deliveries, an old screening queue, DNS down, workers gone,
a form posted from a site not on its list, a spike in rejections), opened once, sent to the destinations
marked for alerts, resolved when they clear. `run_alert_checks(app)` is one turn."""

from app.alerts.runner import AlertTurn, run_alert_checks

__all__ = ["AlertTurn", "run_alert_checks"]
