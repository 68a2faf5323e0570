"""``python -m loadtests.seed``: seed passcode people into a running service (the locustfile's).

The command is `loadtests.scenarios.seed` (also ``python -m loadtests seed``).
"""

from loadtests.scenarios.seed import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m loadtests.seed"))
