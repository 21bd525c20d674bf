"""edgesim as the fitness oracle: channel pruning, mixed precision, hardware and co-design search.

``run`` (NSGA-II, grid or random; serial, processes or Dask; checkpointed) and ``sweep`` (a grid
over spec fields). A candidate's cost is computed on the IR only; its torch module is built only
when asked for (accuracy, ``Candidate.module``).
"""

from edgesim.search.problem import Gene, ProblemKind, SearchProblem
from edgesim.search.result import Candidate, SearchResult
from edgesim.search.run import run
from edgesim.search.sweep import sweep

__all__ = ["Candidate", "Gene", "ProblemKind", "SearchProblem", "SearchResult", "run", "sweep"]
