"""The load-test scenarios, each a small module with ``main(argv, prog)`` on top of
`loadtests.core`; ``python -m loadtests`` lists and runs them."""
