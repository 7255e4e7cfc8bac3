"""kldiv.distributions, Normal family, multivariate normals and Independent: against torch.

One registration per (p, q) pair torch registers with p in the Normal family
(:data:`conformance.specs.NORMAL_FAMILIES`), on seeded random valid parameters whose batch shapes
broadcast; plus the pairs of these families torch lacks (LogNormal, Independent ↔
MultivariateNormal: :data:`conformance.specs.EXTRA_PAIRS`), against the same law in torch.
"""

from __future__ import annotations

from conformance.pair_cases import batch_cases, register_pair, torch_reference
from conformance.specs import NORMAL_FAMILIES, torch_reference_pairs

BATCHES = (((), ()), ((4,), (4,)), ((3,), (2, 1)), ((2, 3), (3,)), ((), (5,)))
CASES_PER_BATCH = 3


for _p, _q in torch_reference_pairs(NORMAL_FAMILIES):
    register_pair(_p, _q, torch_reference(_p, _q), batch_cases(_p, _q, BATCHES, CASES_PER_BATCH))
