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
The KL terms use ``scipy.special.rel_entr`` (zero where p = 0), which equals the original's
sums over each model's own support; ``js_divergence`` sums over the smaller support only.
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
    """Jensen–Shannon divergence in bits between two count tables (normalised here).

    Summed over the smaller table's support only: an n-gram that only the larger model q has
    gets m = q/2, so its KL(q‖m) term is q ln 2 and those terms add up to (1 − Σ_{p's support} q)
    ln 2. The same value, but an evaluation against a reference of millions of n-grams (a held-out
    Billion Word) costs the samples' few thousand look-ups instead of the reference's size."""
    if len(p) > len(q):
        p, q = q, p
    keys = list(p)
    pv = np.fromiter((p[k] for k in keys), dtype=np.float64, count=len(keys))
    qv = np.fromiter((q.get(k, 0) for k in keys), dtype=np.float64, count=len(keys))
    pv, qv = pv / pv.sum(), qv / float(sum(q.values()))
    m = (pv + qv) / 2
    return float(0.5 * (rel_entr(pv, m).sum() + rel_entr(qv, m).sum()) / math.log(2) + 0.5 * (1.0 - qv.sum()))


def ngram_js(samples: Iterable[Sequence], reference: Sequence[Sequence] | dict[int, Counter],
             orders: Sequence[int] = NGRAM_ORDERS) -> dict[str, float]:
    """{'js1': …, 'js4': …} between generated samples and real lines (or their precomputed counts,
    ``{n: ngram_counts(lines, n)}``, to avoid recounting a large corpus every evaluation)."""
    samples = [tuple(s) for s in samples]
    if not isinstance(reference, dict):
        reference = {n: ngram_counts(reference, n) for n in orders}
    return {f"js{n}": js_divergence(ngram_counts(samples, n), reference[n]) for n in orders}
