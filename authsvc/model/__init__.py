"""The vocabulary every layer shares: users, phones, tokens, settings, factors, attempts, pushes.

Plain frozen dataclasses and enums, no I/O; this package imports nothing from `authsvc` but the
error tree (`authsvc.errors`). `store/` maps these values to Redis, `factors/` computes with them,
`domain/` decides with them and `http/` renders them: no raw Redis hash crosses a layer.
"""
