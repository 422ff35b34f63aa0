"""The image-GAN recipe: a scale's image data, a generator/critic pair trained on it by the
engine, and the quality of generated images on the scale's features (``RunContext.extractor``:
TF-Inception at paper, the calibrated proxy classifier below it).

Real images are uint8 N x C x R x R at the settings' resolution (Fashion-MNIST's 28 x 28
zero-padded to the 32 x 32 stand-in) and scaled to [-1, 1] per batch (``ImageSource``: WGAN
main.py's ToTensor + Normalize(0.5, 0.5), gan_cifar_resnet.py's dequantisation when the data
says so); z ~ N(0, I) unless the caller passes another prior.
"""

from __future__ import annotations

import torch

from replication.data import at_resolution, load_images, to_symmetric_range
from replication.data.batches import ImageSource, SamplerSource
from replication.data.toy import gaussian_noise
from replication.errors import ReplicationError
from replication.settings.experiments import ImageData, Quality
from replication.train import EvalData, Sources, Trainer


def load(data: ImageData, split: str | None = None, *, labelled: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A split's uint8 images at ``data.resolution`` with ``data.channels`` (a grey set repeated
    to 3 channels as a view, no copy), and its labels (None for an unlabelled set; an error when
    ``labelled``: a conditional model needs them)."""
    loaded = load_images(data.dataset, split or data.split)
    if labelled and loaded.labels is None:
        raise ReplicationError(f"{data.dataset}/{split or data.split} has no labels: the conditional model needs them")
    images = loaded.images if data.resolution is None else at_resolution(loaded.images, data.resolution)
    if data.channels is not None and images.shape[1] != data.channels:
        if (images.shape[1], data.channels) != (1, 3):
            raise ReplicationError(f"{data.dataset} has {images.shape[1]} channel(s) but data.channels = "
                                   f"{data.channels}: set it to the data's")
        images = images.expand(-1, 3, -1, -1)
    return images, loaded.labels


def train_pair(ctx, training, networks: dict, data: ImageData, images: torch.Tensor, *, labels=None, noise=None,
               probes: dict | None = None, streams=None) -> tuple[Trainer, dict]:
    """Train a generator/critic pair on real images (batches as ``data`` says; ``labels`` for a
    conditional model), evaluating with ``probes``; the final networks and logs go into the run
    folder. ``streams``: the context whose seeds the data and weights use (default ``ctx``)."""
    streams = streams or ctx
    noise = noise or gaussian_noise(networks["generator"]["nz"])
    B = training.batch_size
    sources = Sources(real=ImageSource(images, B, streams.seed_for("data/real"), ctx.device, drop_last=data.drop_last,
                                       labels=labels, dequantize=data.dequantize),
                      noise=SamplerSource(noise, B, ctx.device, streams.seed_for("data/noise")))
    trainer = streams.make_trainer(training, networks, sources, eval_data=EvalData(noise=noise),
                                   probes={name: probe() for name, probe in (probes or {}).items()})
    trainer.fit()
    return trainer, trainer.write_outputs(ctx.out_dir)


def quality_reference(ctx, data: ImageData, quality: Quality) -> tuple:
    """(extractor, reference): the FID statistics and features of ``quality.reference`` (a subset
    of a split seeded by the run) on this scale's features; with a labelled proxy also per class
    (for ``quality_measures``' class measures)."""
    from replication.metrics.proxy import class_reference
    from replication.metrics.fidelity import reference_statistics

    R = quality.reference
    real, labels = load(data, R.split)
    n = len(real) if R.images is None else R.images
    if n > len(real):
        raise ReplicationError(f"quality.reference.images = {n} but the {R.split} split has {len(real)}")
    keep = torch.randperm(len(real), generator=torch.Generator().manual_seed(ctx.seed_for("reference")))[:n]
    keep = keep.sort().values
    extractor, name = ctx.extractor(), f"{data.dataset}/{R.split}[{n}]"
    if extractor.proxy and labels is not None:
        return extractor, class_reference(to_symmetric_range(real[keep]), labels[keep], extractor, name,
                                          rule=quality.uint8_rule)
    return extractor, reference_statistics(to_symmetric_range(real[keep]), extractor, name, rule=quality.uint8_rule)


def quality_measures(samples: torch.Tensor, extractor, reference: dict, quality: Quality) -> dict[str, float]:
    """FID, precision, recall and duplicates of generated images in [-1, 1], from one feature pass; with a
    labelled reference also the class measures (coverage, entropy, effective classes,
    intra-class FID: ``replication.metrics.proxy.class_measures``)."""
    from replication.metrics.proxy import class_measures
    from replication.metrics.fidelity import evaluate_samples

    B, rule = quality.batch_size, quality.uint8_rule
    if "classes" in reference:
        return class_measures(samples, extractor, reference, rule=rule, batch_size=B,
                              min_class_samples=quality.min_class_samples)
    records = evaluate_samples(samples, extractor, metrics=("fid", "diversity"), reference=reference, rule=rule,
                               batch_size=B)
    return {r["metric"].lower(): float(r["value"]) for r in records}


def quality_probe(ctx, data: ImageData, quality: Quality):
    """The probe ``quality`` during training: ``quality_measures`` of ``quality.samples`` fresh
    samples (a factory: the reference is computed when the trainer is built)."""
    def make():
        extractor, reference = quality_reference(ctx, data, quality)
        return lambda ev: quality_measures(ev.fake_samples(quality.samples, quality.batch_size), extractor,
                                           reference, quality)
    return make


def final_quality(ctx, generator, data: ImageData, quality: Quality, noise) -> dict:
    """The evaluation job's measures of a final generator: ``quality_measures`` of
    ``quality.samples`` samples from a seeded noise stream of its own."""
    from replication.train.evaluation import draw_samples

    extractor, reference = quality_reference(ctx, data, quality)
    samples = draw_samples(generator, noise, quality.samples, quality.batch_size, ctx.seed_for("evaluate/samples"),
                           ctx.device)
    return {**quality_measures(samples, extractor, reference, quality), "samples": len(samples),
            "reference": reference["name"], "proxy": extractor.proxy}
