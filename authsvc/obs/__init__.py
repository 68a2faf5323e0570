"""Observability leaves: Prometheus metrics (`metrics.py`) and log formatting (`logs.py`).
They import nothing from authsvc, so every layer may record into them."""
