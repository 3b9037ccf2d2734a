"""The end-to-end experiment behind ``sotlearn demo``.

Contaminate a benign fine-tuning set with harmful compliant rows, weigh it
with :class:`~sotlearn.SafetyOTWeighter` and every baseline on the same data
and seed, fine-tune a small aligned chat model on the purified sets, judge
it, and write CSVs, figures drawn from those CSVs and a Markdown report.
"""

from ._config import DemoConfig
from ._demo import DEFAULT_OUTPUT, run_demo
from ._plots import regenerate_figures
from ._report import write_report

__all__ = ["DEFAULT_OUTPUT", "DemoConfig", "regenerate_figures", "run_demo", "write_report"]
