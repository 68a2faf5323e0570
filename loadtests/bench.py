"""``python -m loadtests.bench``: the passcode benchmark under its documented name.

The scenario is `loadtests.scenarios.passcode` (also ``python -m loadtests passcode``).
"""

from loadtests.scenarios.passcode import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m loadtests.bench"))
