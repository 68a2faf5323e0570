"""The simulated carrier and inbox bound to a test's service process: found the way
`mobile-sim sms` finds it, through the ``outbox.json`` the service wrote in its data dir."""

from __future__ import annotations

from pathlib import Path

from mobile_sim.carrier import Carrier, Endpoint, find_endpoint
from tests.harness import Service


def data_dir(service: Service) -> Path:
    """The service's data dir (``AUTHSVC_DATA_DIR``)."""
    return service.data_dir


def outbox_endpoint(service: Service) -> Endpoint:
    """The outbox endpoint and token the service announced."""
    return find_endpoint(None, None, data_dir(service))


def carrier_of(service: Service) -> Carrier:
    """A carrier reading `service`'s outbox over HTTP (trusting its dev CA over TLS)."""
    return Carrier(outbox_endpoint(service),
                   ca_file=str(service.tls_ca) if service.tls_ca else None)
