"""Size limits for problem payloads, stated in the published schemas and enforced by parsing.

They bound the work one request can cause: classical solvers and the BQM
are O(variables + terms) in memory, and a dense covariance is O(n^2).
"""

from __future__ import annotations

from typing import Final

MAX_VARIABLES: Final = 2000
MAX_TERMS: Final = 100_000  # maxcut edges / qubo quadratic terms
MAX_ASSETS: Final = 2000  # portfolio: covariance is n x n
# Coefficients beyond this can overflow sums of 1e5 terms or swamp float64
# precision once the portfolio penalty is added; real inputs are far smaller.
MAX_ABS_COEFFICIENT: Final = 1e12
# Enforced by the web layer before parsing; exported so both quote one number.
MAX_PAYLOAD_BYTES: Final = 2_000_000
# A payload with 100k bad edges should not produce a 100k-line error.
MAX_REPORTED_ERRORS: Final = 50
