"""``python -m loadtests.ceiling``: the ceiling app under its documented name.

The app is `loadtests.scenarios.ceiling` (also ``python -m loadtests ceiling``).
"""

from loadtests.scenarios.ceiling import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m loadtests.ceiling"))
