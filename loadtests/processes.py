"""``from loadtests.processes import free_port`` (docs/performance.md's ceiling recipe): the child
processes' helpers live in `loadtests.core.processes`."""

from loadtests.core.processes import ChildFailed, Children, free_port

__all__ = ["ChildFailed", "Children", "free_port"]
