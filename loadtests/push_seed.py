"""``python -m loadtests.push_seed``: enroll people with one phone each through the Admin API.

The command is `loadtests.scenarios.seed` (also ``python -m loadtests push-seed``).
"""

from loadtests.scenarios.seed import main_push

if __name__ == "__main__":
    raise SystemExit(main_push(prog="python -m loadtests.push_seed"))
