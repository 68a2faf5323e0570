"""docs/alerts.yml parses as Prometheus rules, every alert says what it means and what to do,
and every metric it names is one the service exposes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from authsvc.obs.metrics import metric_names

PROMETHEUS_OWN = {"up"}  # written by Prometheus for every scrape target


def test_every_alert_names_existing_metrics_and_says_what_to_do(repo_root: Path) -> None:
    rules = yaml.safe_load((repo_root / "docs" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 6
    known = metric_names() | PROMETHEUS_OWN
    operations = (repo_root / "docs" / "operations.md").read_text()
    for alert in alerts:
        assert re.fullmatch(r"Authsvc[A-Za-z]+", alert["alert"])
        assert alert["labels"]["severity"] in ("page", "ticket")
        assert alert["annotations"]["summary"] and len(alert["annotations"]["runbook"]) > 80
        named = set(re.findall(r"\b(authsvc_[a-z_]+)", alert["expr"])) | (
            {"up"} if re.search(r"\bup\{", alert["expr"]) else set())
        assert named and named <= known, (alert["alert"], named - known)
        assert f"`{alert['alert']}`" in operations


def test_the_check_refuses_a_metric_that_does_not_exist() -> None:
    assert "authsvc_decisions_total" in metric_names()
    assert "authsvc_logins_total" not in metric_names()
