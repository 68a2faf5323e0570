"""``python -m loadtests.push_hotspots FILE``: CPU per layer and per request of a push bench's
profile: `loadtests.scenarios.hotspots` with ``--requests`` (``python -m loadtests hotspots
--requests FILE``)."""

from loadtests.scenarios.hotspots import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m loadtests.push_hotspots", requests=True))
