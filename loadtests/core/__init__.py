"""The load tests' driver core: child processes, the service and its Redis, wrk, CPU accounting,
duo_client's signing, the population files, the one seeding module, reports and profiles."""
