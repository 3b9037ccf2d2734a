"""Settings of the end-to-end demo, as one dataclass with a quick preset."""

from dataclasses import asdict, dataclass, field, replace


@dataclass
class DemoConfig:
    """Every setting of :func:`~sotlearn.experiment.run_demo`.

    The defaults are the full demo (under 20 minutes on 2 CPU cores,
    model loading, alignment, fine-tunes, generation and judging included);
    :meth:`quick` shrinks the data and the fine-tunes to under 3 minutes
    (measured: 5.5 minutes and 50 seconds on two free cores; a job holding
    one of the cores made the quick mode take 5 minutes).
    The weighting defaults (prompt-only embedding, benign-instruction
    anchors, SOT parameters) and the fine-tune sizes were chosen from the
    evidence and the timings in ``docs/experiment_results.md``.

    Parameters
    ----------
    n_samples : int, default=600
        Rows of the contaminated downstream set.
    harmful_ratio : float, default=0.1
        Share of injected harmful compliant rows.
    max_per_source : int, default=100
        Per-component cap of the safe-anchor and harmful-reference sets.
    anchors : str or tuple of str, default="instructions"
        Safe-anchor preset or components, see
        :func:`sotlearn.datasets.load_safe_anchors`. Held-out rows of the
        benign pools only: the ``"benign"`` preset also holds harmful-looking
        safe prompts (pyrit "not harmful", XSTest safe), which balanced OT
        pulls the injected harmful rows toward.
    harmful_reference : str, default="prompts"
        Harmful-reference preset, see
        :func:`sotlearn.datasets.load_harmful_references`.
    embedder : str, default="sentence-transformers/all-MiniLM-L6-v2"
        Sentence-transformers model name or local folder.
    embed_text : {"prompt", "response", "conversation"}, default="prompt"
        Part of each row that is embedded.
    sot_params : dict, default={"reg": 0.1, "tau": 0.1}
        Parameters of the :class:`~sotlearn.SafetyOTWeighter` under test
        (its own defaults otherwise). The default won the parameter study
        on a different data draw (seed 1) than the reported one.
    keep_ratio : float, default=0.8
        Top-K share kept by purification; the headline recall is at this value.
    keep_ratios : tuple of float
        Keep ratios of the safety curve.
    push_values : tuple of float
        Push strengths (lambda) of the SOT sweep.
    n_bootstrap : int, default=1000
        Bootstrap resamples of the confidence intervals.
    finetune : bool, default=True
        Run the align / fine-tune / judge stage.
    finetune_baseline : bool, default=True
        Also fine-tune on the strongest baseline's purified rows (beside the
        unfiltered and the SOT arms).
    model : str, default="HuggingFaceTB/SmolLM2-135M-Instruct"
        Causal LM to align and fine-tune.
    align_steps, finetune_steps : int
        Optimisation steps of the alignment and of each downstream fine-tune.
    batch_size : int, default=8
        Conversations per step.
    max_length : int, default=80
        Tokens per conversation in training.
    learning_rate, align_learning_rate : float
        Peak learning rates of the downstream fine-tunes and the alignment.
    lora : dict or None
        LoRA settings of every fine-tune; ``None`` trains every parameter.
    n_align_refusals : int, default=96
        Refusal rows of the alignment set (as many benign rows are mixed in
        so the model does not learn to refuse everything).
    n_judge_prompts : int, default=32
        Held-out AdvBench/HarmBench prompts the judge scores.
    n_utility_rows : int, default=32
        Held-out benign rows whose NLL measures utility.
    max_new_tokens : int, default=16
        Generation length of the judged answers: refusal prefixes come
        first, so a short answer is enough for the refusal-prefix judge.
    random_state : int, default=0
        Seed of every random draw.

    Examples
    --------
    >>> from sotlearn.experiment import DemoConfig
    >>> DemoConfig().n_samples, DemoConfig.quick().n_samples
    (600, 300)
    >>> DemoConfig.quick(random_state=1).sot_params
    {'reg': 0.1, 'tau': 0.1}
    """

    n_samples: int = 600
    harmful_ratio: float = 0.1
    max_per_source: int = 100
    anchors: str = "instructions"
    harmful_reference: str = "prompts"
    embedder: str = "sentence-transformers/all-MiniLM-L6-v2"
    embed_text: str = "prompt"
    # chosen on seed 1's data draw, never on the reported seed 0 (docs/experiment_results.md)
    sot_params: dict = field(default_factory=lambda: {"reg": 0.1, "tau": 0.1})
    keep_ratio: float = 0.8
    keep_ratios: tuple = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    push_values: tuple = (0.0, 0.5, 1.0, 2.0, 4.0)
    n_bootstrap: int = 1000
    finetune: bool = True
    finetune_baseline: bool = True
    model: str = "HuggingFaceTB/SmolLM2-135M-Instruct"
    # 5-25 s per step at 8 x 80 tokens on the shared 2-core machine (docs): these
    # sizes keep four trained models inside the 20-minute budget. The alignment sees
    # its 192 rows once; at lr 2e-4 12 downstream steps on benign rows alone undid
    # a 12-step alignment (docs), so the downstream rate is half the alignment's.
    align_steps: int = 24
    finetune_steps: int = 12
    batch_size: int = 8
    max_length: int = 80
    learning_rate: float = 1e-4
    align_learning_rate: float = 2e-4
    lora: dict | None = None
    n_align_refusals: int = 96
    n_judge_prompts: int = 32
    n_utility_rows: int = 32
    max_new_tokens: int = 16
    random_state: int = 0

    @classmethod
    def quick(cls, **overrides):
        """The ``--quick`` preset: a few minutes on 2 CPU cores.

        Parameters
        ----------
        **overrides
            Settings that replace the preset's.

        Returns
        -------
        DemoConfig
        """
        preset = cls(
            n_samples=300,
            max_per_source=60,
            n_bootstrap=200,
            keep_ratios=(0.5, 0.8, 0.95),
            push_values=(0.0, 1.0),
            # a smoke run of the fine-tune stage, not evidence: two arms, a few
            # steps, so the first run (alignment included) stays under 3 minutes
            finetune_baseline=False,
            align_steps=3,
            finetune_steps=3,
            batch_size=4,
            max_length=64,
            n_align_refusals=24,
            n_judge_prompts=8,
            n_utility_rows=8,
            max_new_tokens=12,
        )
        return replace(preset, **overrides)

    def to_dict(self):
        """The settings as a plain dict (for the report).

        Returns
        -------
        dict
            Every field by name.
        """
        return asdict(self)
