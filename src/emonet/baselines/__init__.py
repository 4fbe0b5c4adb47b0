"""Classic baselines: openSMILE functionals + scikit-learn classifiers on EmoSet partitions.

Runs are written in the format of a trained EmoNet run's evaluation, so ``emonet compare`` and the
experiment recipe can put a baseline next to any model.
"""

from emonet.baselines.classifiers import CLASSIFIERS, ClassifierSpec, get_classifier
from emonet.baselines.features import FEATURE_SETS, Features, corpus_features, extract_file
from emonet.baselines.run import (
    BaselineConfig,
    baseline_config,
    load_baseline_config,
    run_baseline,
    run_name,
    run_one,
)

__all__ = [
    "CLASSIFIERS",
    "FEATURE_SETS",
    "BaselineConfig",
    "ClassifierSpec",
    "Features",
    "baseline_config",
    "corpus_features",
    "extract_file",
    "get_classifier",
    "load_baseline_config",
    "run_baseline",
    "run_name",
    "run_one",
]
