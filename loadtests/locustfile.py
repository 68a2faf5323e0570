"""Passcode sign-ins under load: ``locust -f loadtests/locustfile.py`` (loadtests/README.md).

The scenario is `loadtests.scenarios.locust_passcode`; locust finds its user class here.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # locust puts only this file's folder on sys.path
    sys.path.insert(0, str(ROOT))

from loadtests.scenarios.locust_passcode import TokenHolder  # noqa: E402

__all__ = ["TokenHolder"]
