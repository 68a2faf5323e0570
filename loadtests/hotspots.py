"""``python -m loadtests.hotspots FILE``: CPU per layer of a passcode bench's profile.

The scenario is `loadtests.scenarios.hotspots` (also ``python -m loadtests hotspots FILE``).
"""

from loadtests.scenarios.hotspots import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m loadtests.hotspots"))
