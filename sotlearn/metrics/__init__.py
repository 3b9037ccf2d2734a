"""Evaluation metrics: weight quality, harmful score, GSM8K accuracy, bootstrap intervals."""

from ._bootstrap import bootstrap_ci
from ._generation_metrics import exact_match_accuracy, extract_final_number, harmful_score
from ._weight_metrics import harmful_recall_at_keep, weight_auroc

__all__ = [
    "bootstrap_ci",
    "exact_match_accuracy",
    "extract_final_number",
    "harmful_recall_at_keep",
    "harmful_score",
    "weight_auroc",
]
