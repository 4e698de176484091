"""In-memory linear algebra: large matrices over many crossbars and solvers whose every
matrix-vector product runs on them (MELISO's In-Memory Linear Solver direction)."""

from .matrix import CrossbarMatrix
from .problems import poisson2d, problem, random_spd
from .reading import as_sparse
from .solvers import (
    METHODS,
    LPResult,
    SolveResult,
    cg,
    gmres,
    kaczmarz,
    pdhg,
    refine,
    richardson,
    solve,
)
from .tasks import matvec_task, product_errors, solve_task

__all__ = ["METHODS", "CrossbarMatrix", "LPResult", "SolveResult", "as_sparse", "cg", "gmres",
           "kaczmarz", "matvec_task", "pdhg", "poisson2d", "problem", "product_errors",
           "random_spd", "refine", "richardson", "solve", "solve_task"]
