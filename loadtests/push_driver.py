"""``python -m loadtests.push_driver``: keep N pushes in flight against a running service.

The driver is `loadtests.scenarios.push_driver` (also ``python -m loadtests push-driver``).
"""

from loadtests.scenarios.push_driver import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m loadtests.push_driver"))
