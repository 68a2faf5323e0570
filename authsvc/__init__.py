"""authsvc: a self-hostable two-factor authentication service that speaks Duo's wire protocol."""

__version__ = "0.1.0"
