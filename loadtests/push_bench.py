"""``python -m loadtests.push_bench``: the Duo Push benchmark under its documented name.

The scenario is `loadtests.scenarios.push` (also ``python -m loadtests push``).
"""

from loadtests.scenarios.push import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m loadtests.push_bench"))
