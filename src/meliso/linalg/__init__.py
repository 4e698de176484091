"""In-memory linear algebra: large matrices over many crossbars and solvers whose every
matrix-vector product runs on them (MELISO's In-Memory Linear Solver direction)."""

from .matrix import CrossbarMatrix, as_sparse
from .problems import poisson2d, problem, random_spd
from .solvers import METHODS, SolveResult, cg, gmres, refine, richardson

__all__ = ["METHODS", "CrossbarMatrix", "SolveResult", "as_sparse", "cg", "gmres", "poisson2d",
           "problem", "random_spd", "refine", "richardson"]
