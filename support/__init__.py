"""Running a real Warehouse for tests and benchmarks alike.

`livecluster` starts `manage.py serve` on free ports with a database of its own,
`production` starts `deploy/run-production.sh` the same way, and `databases` makes and
drops the throwaway databases both need. The end-to-end and reliability tests and the
scripts in `bench/` share these, so a benchmark measures exactly what the tests check.
"""
