"""Solvers. Each module exposes ``solve(problem, options, *, seed) -> SolveResult``."""
