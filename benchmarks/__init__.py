"""Side-by-side benchmarks of kldiv against NumPy, SciPy, torch and torchmetrics.

Run ``python -m benchmarks`` (or ``nox -s bench``); ``--help`` lists the options. Importing this
package pins every math library to one thread, so it must come before NumPy or torch.
"""

import os

for _variable in (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_variable] = "1"
