"""authsvc's load tests: one driver core (`loadtests.core`) with small scenarios on top
(`loadtests.scenarios`), run as ``python -m loadtests SCENARIO``; the documented commands
(``python -m loadtests.bench`` and the rest at this level) are thin modules over the same code.
loadtests/README.md describes the layout."""
