"""kldiv's cross-library conformance suite.

Every public function is compared with its trusted reference (torch, torchmetrics, SciPy) on
every installed backend and dtype, on seeded random cases and named edge cases; an mpmath oracle
decides the cases where kldiv deliberately differs (``conformance/deviations.py``).

Run it as ``python -m conformance`` (the report) or ``pytest conformance`` (the same cases as
tests). Add a function with one :func:`conformance.registry.register` call in a module of
``conformance/cases/``.
"""
