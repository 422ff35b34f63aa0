"""The metric stack: IS/FID/KID via torch-fidelity (Inception or a labelled proxy classifier),
WAE sharpness, the WGAN-GP character n-gram JS divergence, exact W1 by optimal transport.

    fidelity.py    samples -> uint8 -> features -> IS, FID, KID (torch-fidelity's maths); protocols
    inception.py   the TF-compatible Inception extractor of torch-fidelity (a verified weights file)
    proxy_net.py   the proxy classifier as a network and a torch-fidelity feature extractor
    proxy.py       training it, THE proxy of a scale, class coverage and intra-class FID
    sharpness.py   WAE's sharpness (Laplacian variance)
    ngram.py       WGAN-GP Table 4's character n-gram JS divergence
    transport.py   exact W1 and its optimal potential (POT)

Import from the submodule (``from replication.metrics.fidelity import evaluate_samples``), so a
run that needs only ``exact_w1`` never loads torch-fidelity.
"""
