"""The settings of every experiment as types (``SETTINGS[experiment id]``), parsed by
``replication.settings.parse`` when ``replication.config.resolve`` resolves a scale.

Shared blocks first (image data, quality, outcome thresholds, methods), then each experiment:
its small blocks (``block``: one line each), then its class. A network is a registry spec
(``{arch: ..., its parameters}``), checked by ``replication.nets.build`` when it is built; a
``dict`` training block is a partial one, shared by the variants merged over it. Each field's
source is in the experiment's settings file, beside its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from replication.settings import block, choice, variants
from replication.settings.training import TrainingSpec

Network = dict  # a registry spec
UINT8_RULES = ("wgan_gp_resnet", "wgan_gp_dcgan", "round")  # replication.metrics.fidelity.to_uint8
IS_PROTOCOLS = ("wgan_gp_is", "wgan_gp_is_fig3")            # replication.metrics.fidelity.PROTOCOLS


# -- shared blocks ---------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class ImageData:
    """A split of an image dataset at a resolution (``None``: as packed); ``channels``: what the
    networks are built for (``None``: the data's); ``drop_last``: drop an epoch's short last batch;
    ``dequantize``: WGAN-GP ResNet's uniform dequantisation of real batches."""

    dataset: str
    split: str = "train"
    resolution: int | None = None
    channels: int | None = None
    drop_last: bool = False
    dequantize: bool = False


@dataclass(frozen=True, kw_only=True)
class ReferenceSet:
    """Real images that generated ones are compared with: a split, all of it or a seeded subset."""

    split: str
    images: int | None = None


@dataclass(frozen=True, kw_only=True)
class Quality:
    """FID (and, with a labelled proxy, the class measures) of ``samples`` generated images."""

    samples: int
    batch_size: int
    reference: ReferenceSet
    uint8_rule: str = choice(UINT8_RULES, "round")
    min_class_samples: int = 50


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """Pre-registered thresholds of the works / poor / collapses / fails rule for one kind of
    features (``replication.recipes.outcomes.outcome``): collapse within classes (recall at most
    ``collapse_recall`` with at least ``collapse_duplicates`` near-copies), then a quality gate
    (intra-class FID with class labels, FID without), then collapse across classes."""

    works_fid: float
    gate_fid: float | None = None
    gate_intra_fid: float | None = None
    collapse_effective_classes: float | None = None
    collapse_recall: float | None = None
    collapse_duplicates: float | None = None


@dataclass(frozen=True, kw_only=True)
class Method:
    """A method (or model): its training block and networks, merged over the shared ones."""

    training: TrainingSpec
    networks: dict[str, Network] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NormedMethod(Method):
    """A method whose critic normalisation is its own (WGAN-GP: layer norm; the others: batch norm)."""

    critic_norm: str = choice(("batch", "layer", "none"))


@dataclass(frozen=True, kw_only=True)
class Variants:
    """Shared networks and a partial training block, and the methods merged over them."""

    networks: dict[str, Network] = field(default_factory=dict)
    training: dict
    methods: dict[str, Method] = variants(over=("training", "networks"))


# -- WGAN Figure 1 and the exercise tables -----------------------------------------------------

CriticGradients = block("CriticGradients", thetas=tuple[float, ...], training=dict)  # a delta over learn's


@dataclass(frozen=True, kw_only=True)
class LearnRuns(Variants):
    grad_window: int  # evaluations over which the gradient at the start is read


@dataclass(frozen=True, kw_only=True)
class WganDistances:
    seed: int
    theta_points: int
    ot_samples: int
    ot_repeats: int
    js_thetas: tuple[float, ...]
    js_far_theta: float
    critic_network: Network
    theta_generator: Network
    js_bound: TrainingSpec
    learn: LearnRuns
    critic_gradients: CriticGradients


# -- WGAN Figure 2 ------------------------------------------------------------------------------

Gaussian1d = block("Gaussian1d", mean=float, std=float)
Grid1d = block("Grid1d", low=float, high=float, points=int)


@dataclass(frozen=True, kw_only=True)
class WganCritics(Variants):
    seed: int
    seeds: tuple[int, ...]
    real: Gaussian1d
    fake: Gaussian1d
    network: Network
    grid: Grid1d
    eval_samples: int
    between_modes: tuple[float, float]
    figure_samples: int


# -- WGAN-GP Figure 1 ---------------------------------------------------------------------------

Grid2d = block("Grid2d", range=float, points=int)


@dataclass(frozen=True, kw_only=True)
class DeepRuns(Variants):
    clip_values: tuple[float, ...]
    init_within_clip: bool  # a clipped critic starts inside +-c (registry init_bound)
    measure_batches: int
    histogram_bins: int


@dataclass(frozen=True, kw_only=True)
class WgangpToy:
    seed: int
    datasets: tuple[str, ...]
    data: dict[str, dict]  # keyword arguments of each law (replication.data.toy.TOY_2D)
    fixed_generator_noise: float
    surface: Variants
    grid: Grid2d
    eval_samples: int
    ot_repeats: int
    figure_samples: int
    deep: DeepRuns


# -- the metric stack ---------------------------------------------------------------------------

ProxyTraining = block("ProxyTraining", n_train=int, n_test=int, epochs=int, batch_size=int, lr=float,
                      shuffled_labels=bool)  # shuffled: a negative control's broken data
InceptionAnchors = block("InceptionAnchors", n_train=int, n_test=int, is_splits=int, batch_size=int)


@dataclass(frozen=True, kw_only=True)
class ProxyReference:
    train_pool: int
    n_eval: int
    null_draws: int
    is_splits: int
    kid_subsets: int
    kid_subset_size: int
    batch_size: int
    eval_classes: tuple[int, ...] | None = None  # a control: the evaluation set of these classes only


@dataclass(frozen=True, kw_only=True)
class MetricsCalibration:
    seed: int
    proxy: ProxyTraining
    reference: ProxyReference
    inception: InceptionAnchors


# -- WGAN Figures 3, 4, 8 -----------------------------------------------------------------------

LrSweep = block("LrSweep", learning_rates=tuple[float, ...], fail_ratio=float)
CurveMeasures = block("CurveMeasures", median_width=int, flat_from=float, compare_from=float, improved_ratio=float)


@dataclass(frozen=True, kw_only=True)
class CurveQuality(Quality):
    metric: str = choice(("fid",), "fid")


@dataclass(frozen=True, kw_only=True)
class WganCurves:
    seed: int
    seeds: tuple[int, ...]
    data: ImageData
    nz: int
    networks: dict[str, Network]
    models: dict[str, dict[str, str]]  # model -> {generator: network name, critic: network name}
    methods: dict[str, Method] = variants(over=())  # whole training blocks
    lr_sweep: LrSweep
    quality: CurveQuality
    curves: CurveMeasures


# -- WGAN Figures 5, 6, 7 -----------------------------------------------------------------------

StabilityNetworks = block("StabilityNetworks", generators=dict[str, Network], critic=Network)


@dataclass(frozen=True, kw_only=True)
class WganStability:
    seed: int
    seeds: tuple[int, ...]
    data: ImageData
    nz: int
    networks: StabilityNetworks
    methods: dict[str, Method] = variants(over=())  # whole training blocks
    quality: Quality
    outcome: dict[str, Outcome]  # per features: proxy, inception


# -- WGAN-GP Figure 3 and Table 3 ---------------------------------------------------------------

InceptionScore = block("InceptionScore", protocol=(str, choice(IS_PROTOCOLS)), samples=int, batch_size=int)
CifarCurveMeasures = block("CifarCurveMeasures", final_fraction=float, level_fraction=float)
KidSubsets = block("KidSubsets", subsets=int, subset_size=int)
ResnetEvaluation = block("ResnetEvaluation", protocol=(str, choice(IS_PROTOCOLS)), samples=int, curve_samples=int, batch_size=int,
                         reference=ReferenceSet, kid=KidSubsets)


@dataclass(frozen=True, kw_only=True)
class WgangpCifarCurves(Variants):
    seed: int
    seeds: tuple[int, ...]
    data: ImageData
    inception_score: InceptionScore
    measures: CifarCurveMeasures


@dataclass(frozen=True, kw_only=True)
class WgangpCifarResnet:
    seed: int
    seeds: tuple[int, ...]
    data: ImageData
    networks: dict[str, Network]
    training: dict
    models: dict[str, Method] = variants(over=("training", "networks"))
    evaluation: ResnetEvaluation


# -- WGAN-GP Figure 5 ---------------------------------------------------------------------------

Subset = block("Subset", size=int, seed=int)
Blocks = block("Blocks", block=int, window=int)
Fig5aCurve = block("Fig5aCurve", block=int, window=int, flat_windows=int)
Fig5a = block("Fig5a", datasets=tuple[str, ...], networks=dict[str, Network], training=TrainingSpec, curve=Fig5aCurve)


@dataclass(frozen=True, kw_only=True)
class WgangpOverfitting(Variants):
    seed: int
    dataset: str
    splits: dict[str, str]  # train, valid
    subset: Subset
    train_sets: tuple[str, ...]
    curves: Blocks
    fig5a: Fig5a


# -- WGAN-GP Table 4 ----------------------------------------------------------------------------

TextData = block("TextData", dataset=str, train_split=str, heldout_split=str | None, seq_len=int, max_vocab=int)
Ngram = block("Ngram", orders=tuple[int, ...], samples=int, batch_size=int, floor_draws=int)
Plateau = block("Plateau", plateau_fraction=float, plateau_tol=float)
TableLines = block("TableLines", lines=int)


@dataclass(frozen=True, kw_only=True)
class WgangpLanguage:
    seed: int
    seeds: tuple[int, ...]
    data: TextData
    networks: dict[str, Network]
    training: dict
    methods: dict[str, Method] = variants()
    ngram: Ngram
    comparison: Plateau
    table: TableLines
    published_samples: tuple[str, ...]


# -- WGAN-GP Figure 2 ---------------------------------------------------------------------------

GridCells = block("GridCells", methods=tuple[str, ...], architectures=tuple[str, ...])


@dataclass(frozen=True, kw_only=True)
class WgangpLsunArchitectures:
    seed: int
    seeds: tuple[int, ...]
    data: ImageData
    nz: int
    grid: GridCells
    architectures: dict[str, dict[str, Network]]  # architecture -> {generator, critic}
    training: dict
    methods: dict[str, NormedMethod] = variants()
    quality: Quality
    outcome: dict[str, Outcome]


# -- WGAN-GP Table 2 ----------------------------------------------------------------------------

ArchitectureSampler = block("ArchitectureSampler", seed=int, architectures=int, space=dict[str, list],
                            baseline=dict[str, dict])  # factors (replication.nets.sampler)
ScoreEvaluation = block("ScoreEvaluation", protocol=(str, choice(IS_PROTOCOLS)), samples=int, batch_size=int,
                        real_split=str, curve_samples=int)
PublishedTable = block("PublishedTable", columns=tuple[str, ...], rows=tuple[list, ...])  # threshold, then counts
Rescale = block("Rescale", baseline_score=float, baseline_fraction_of_real=float)
Judging = block("Judging", alpha=float, only_gan_max_fraction=float, equivalence_margin=float,
                headline_thresholds=tuple[float, ...], headline_outcomes=tuple[str, ...])


@dataclass(frozen=True, kw_only=True)
class WgangpArchitectures:
    seed: int
    data: ImageData
    nz: int
    sampler: ArchitectureSampler
    init: str
    training: dict
    methods: dict[str, NormedMethod] = variants()
    critic_weight_decay: float
    evaluation: ScoreEvaluation
    table2: PublishedTable
    rescale: Rescale
    judging: Judging


# -- WAE ----------------------------------------------------------------------------------------

WaeData = block("WaeData", name=str, train=str, test=str)
WaeEvaluation = block("WaeEvaluation", fid_samples=int, reference_images=int | None, sharpness_samples=int,
                      sharpness_pixel_range=tuple[float, float], reconstruction_images=int, batch_size=int)
WaeFigures = block("WaeFigures", reconstruction_rows=int, columns=int, sample_grid=int, interpolation_rows=int,
                   interpolation_steps=int)


@dataclass(frozen=True, kw_only=True)
class WaeSetup:
    data: WaeData
    networks: dict[str, Network]
    training: dict
    models: dict[str, Method] = variants(over=("training", "networks"))


@dataclass(frozen=True, kw_only=True)
class Wae:
    seed: int
    seeds: tuple[int, ...]
    setups: tuple[str, ...]
    table: str
    models: tuple[str, ...]
    mnist: WaeSetup
    celeba: WaeSetup
    evaluation: WaeEvaluation
    figures: WaeFigures


SETTINGS = {
    "wgan_distances": WganDistances, "wgan_critics": WganCritics, "wgangp_toy": WgangpToy,
    "metrics_calibration": MetricsCalibration, "wgan_curves": WganCurves, "wgan_stability": WganStability,
    "wgangp_cifar_curves": WgangpCifarCurves, "wgangp_cifar_resnet": WgangpCifarResnet,
    "wgangp_overfitting": WgangpOverfitting, "wgangp_language": WgangpLanguage,
    "wgangp_lsun_architectures": WgangpLsunArchitectures, "wgangp_architectures": WgangpArchitectures, "wae": Wae,
}
