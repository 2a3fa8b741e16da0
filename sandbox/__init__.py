"""A fake Customer.io App API for tests, the demo and the benchmarks."""
