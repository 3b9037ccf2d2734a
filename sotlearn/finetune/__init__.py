"""Weighted fine-tuning of causal language models."""

from ._weighted_lm_fine_tuner import WeightedLMFineTuner

__all__ = ["WeightedLMFineTuner"]
