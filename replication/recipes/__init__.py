"""What several experiments do, written once, so that an experiment module reads as: which runs,
which networks and methods (by name), what is measured.

    images.py    the image-GAN recipe: a scale's image data, training a generator/critic pair on
                 it, the quality reference and measures of generated images (the feature
                 extractor comes from the run context: one setting per scale file)
    outcomes.py  a run's sample-quality outcome (works / poor / collapses / fails) and verdict
                 primitives over runs, with the methods named by the caller
    plots.py     the figures several report notebooks draw

Experiments import from here and never from each other (a test walks their imports).
"""
