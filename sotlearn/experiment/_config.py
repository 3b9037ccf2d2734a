"""Settings of the end-to-end demo, as one dataclass with a quick preset."""

from dataclasses import asdict, dataclass, field, replace


@dataclass
class DemoConfig:
    """Every setting of :func:`~sotlearn.experiment.run_demo`.

    The defaults are the full demo (about 20 minutes on 2 CPU cores);
    :meth:`quick` shrinks the data and the fine-tunes to a few minutes.
    The weighting defaults (prompt-only embedding, benign-instruction
    anchors) were chosen from the evidence in ``docs/experiment_results.md``.

    Parameters
    ----------
    n_samples : int, default=600
        Rows of the contaminated downstream set.
    harmful_ratio : float, default=0.1
        Share of injected harmful compliant rows.
    max_per_source : int, default=100
        Per-component cap of the safe-anchor and harmful-reference sets.
    anchors : str or tuple of str, default=("benign_instructions",)
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
    sot_params : dict, default={}
        Parameters of the :class:`~sotlearn.SafetyOTWeighter` under test
        (its own defaults otherwise).
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
    model : str, default="HuggingFaceTB/SmolLM2-135M-Instruct"
        Causal LM to align and fine-tune.
    align_steps, finetune_steps : int
        Optimisation steps of the alignment and of each downstream fine-tune.
    batch_size : int, default=8
        Conversations per step.
    max_length : int, default=128
        Tokens per conversation in training.
    learning_rate, align_learning_rate : float
        Peak learning rates of the downstream fine-tunes and the alignment.
    lora : dict or None
        LoRA settings of every fine-tune; ``None`` trains every parameter.
    n_align_refusals : int, default=160
        Refusal rows of the alignment set (as many benign rows are mixed in
        so the model does not learn to refuse everything).
    n_judge_prompts : int, default=40
        Held-out AdvBench/HarmBench prompts the judge scores.
    n_utility_rows : int, default=60
        Held-out benign rows whose NLL measures utility.
    max_new_tokens : int, default=32
        Generation length of the judged answers.
    random_state : int, default=0
        Seed of every random draw.
    """

    n_samples: int = 600
    harmful_ratio: float = 0.1
    max_per_source: int = 100
    anchors: tuple = ("benign_instructions",)
    harmful_reference: str = "prompts"
    embedder: str = "sentence-transformers/all-MiniLM-L6-v2"
    embed_text: str = "prompt"
    sot_params: dict = field(default_factory=dict)
    keep_ratio: float = 0.8
    keep_ratios: tuple = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    push_values: tuple = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    n_bootstrap: int = 1000
    finetune: bool = True
    model: str = "HuggingFaceTB/SmolLM2-135M-Instruct"
    align_steps: int = 40
    finetune_steps: int = 40
    batch_size: int = 8
    max_length: int = 128
    learning_rate: float = 1e-4
    align_learning_rate: float = 1e-4
    lora: dict | None = None
    n_align_refusals: int = 160
    n_judge_prompts: int = 40
    n_utility_rows: int = 60
    max_new_tokens: int = 32
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
            push_values=(0.0, 1.0, 4.0),
            # measured 30 s per SmolLM2 step at batch 8 x 96 tokens on the shared
            # 2-core machine: the quick fine-tunes are a smoke run, not evidence
            align_steps=4,
            finetune_steps=3,
            batch_size=4,
            max_length=64,
            n_align_refusals=24,
            n_judge_prompts=8,
            n_utility_rows=8,
            max_new_tokens=16,
        )
        return replace(preset, **overrides)

    def to_dict(self):
        """The settings as a plain dict (for the report)."""
        return asdict(self)
