"""Outbound side effects (message delivery) behind the domain's interfaces."""
