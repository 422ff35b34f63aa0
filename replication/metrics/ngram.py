"""Character n-gram Jensen–Shannon divergence of the WGAN-GP language experiment.

Provenance: ``language_helpers.NgramLanguageModel`` (``tokenize=False``) and its ``js_with``
in igul222/improved_wgan_training, as used by ``gan_language.py``:
- a sample is a sequence of tokens (characters, including the padding '`' and 'unk');
- the n-grams of a sample are all windows ``sample[i:i+n]``, i = 0..len−n (no boundary
  symbols); probabilities are count / total n-grams (maximum likelihood, no smoothing);
- JS = ½[KL(p‖m) + KL(q‖m)] / ln 2 with m = (p+q)/2, i.e. **in bits** (0 for identical
  models, 1 for disjoint supports);
- the code logs ``js1``..``js4`` between 640 generated samples and the model of all real
  lines; a start-up baseline compares lines[:640] with lines[640:].
The KL terms use ``scipy.special.rel_entr`` over the union of both supports (zero where
p = 0), which equals the original's sums over each model's own support.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import numpy as np
from scipy.special import rel_entr

NGRAM_ORDERS = (1, 2, 3, 4)


def ngram_counts(samples: Iterable[Sequence], n: int) -> Counter:
    """Counts of all length-``n`` windows of every sample (strings or token tuples)."""
    counts: Counter = Counter()
    for sample in samples:
        tokens = tuple(sample)
        counts.update(tokens[i:i + n] for i in range(len(tokens) - n + 1))
    return counts


def js_divergence(p: Counter, q: Counter) -> float:
    """Jensen–Shannon divergence in bits between two count tables (normalised here)."""
    support = list(p.keys() | q.keys())
    pv = np.array([p[k] for k in support], dtype=np.float64)
    qv = np.array([q[k] for k in support], dtype=np.float64)
    pv, qv = pv / pv.sum(), qv / qv.sum()
    m = (pv + qv) / 2
    return float(0.5 * (rel_entr(pv, m).sum() + rel_entr(qv, m).sum()) / math.log(2))


def ngram_js(samples: Iterable[Sequence], reference: Sequence[Sequence] | dict[int, Counter],
             orders: Sequence[int] = NGRAM_ORDERS) -> dict[str, float]:
    """{'js1': …, 'js4': …} between generated samples and real lines (or their precomputed counts,
    ``{n: ngram_counts(lines, n)}``, to avoid recounting a large corpus every evaluation)."""
    samples = [tuple(s) for s in samples]
    if not isinstance(reference, dict):
        reference = {n: ngram_counts(reference, n) for n in orders}
    return {f"js{n}": js_divergence(ngram_counts(samples, n), reference[n]) for n in orders}
