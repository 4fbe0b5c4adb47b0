"""Orchestrations of training, evaluation and the baselines, such as the paper's experiment.

Recipes sit above the stages they call and only use their public functions; no stage imports
a recipe.
"""

from emonet.recipes.experiment import ExperimentConfig, load_experiment, run_experiment

__all__ = ["ExperimentConfig", "load_experiment", "run_experiment"]
