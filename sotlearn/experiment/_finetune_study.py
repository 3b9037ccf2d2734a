"""Align a small chat model, fine-tune it on purified data, judge it.

The model is first taught to refuse (a short fine-tune on refusals to
harmful prompts mixed with benign instructions), so that the downstream
fine-tunes have an alignment to erode. Each arm then fine-tunes that aligned
model on the contaminated set purified by one weighter, and is judged on
held-out harmful prompts (share answered instead of refused) and on held-out
benign rows (NLL of the reference answers).
"""

import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

from ..datasets import load_harmful_references, load_safe_anchors
from ..finetune import WeightedLMFineTuner
from ..judges import RefusalPrefixJudge
from ..metrics import bootstrap_ci, harmful_score

JUDGE_COMPONENTS = ("advbench", "harmbench")
REFUSAL_COMPONENTS = ("harmful_qa_refusals", "pyrit_refusals", "xstest_refusals")


def held_out_sets(data, config):
    """Alignment rows, judge prompts and utility rows, disjoint from each other and the data.

    Parameters
    ----------
    data : Bunch
        Output of :func:`sotlearn.datasets.make_contaminated_dataset`.
    config : DemoConfig
        Gives the sizes and the seed.

    Returns
    -------
    dict
        ``align`` (refusals and benign rows, shuffled), ``judge_prompts``
        (held-out AdvBench/HarmBench behaviours, str) and ``utility``
        (held-out benign rows with answers).
    """
    rng = check_random_state(config.random_state)
    downstream = list(data.conversations)
    refusals = load_safe_anchors(list(REFUSAL_COMPONENTS), max_per_source=None,
                                 exclude=downstream, random_state=rng)
    refusals = [refusals[i] for i in rng.permutation(len(refusals))[:config.n_align_refusals]]
    n_benign = len(refusals) + config.n_utility_rows
    # the benign pools minus the downstream rows and minus the safe anchors
    benign = load_safe_anchors(["benign_instructions"], max_per_source=None,
                               exclude=downstream + list(data.safe_anchor), random_state=rng)
    benign = [benign[i] for i in rng.choice(len(benign), n_benign, replace=False)]
    align = refusals + benign[: len(refusals)]
    align = [align[i] for i in rng.permutation(len(align))]
    utility = benign[len(refusals):]
    # judged prompts were never trained on nor used as a reference
    judge = load_harmful_references(list(JUDGE_COMPONENTS), max_per_source=None,
                                    exclude=downstream + align + list(data.harmful_reference),
                                    random_state=rng)
    picks = rng.choice(len(judge), min(config.n_judge_prompts, len(judge)), replace=False)
    return {"align": align, "judge_prompts": [judge[i].prompt for i in picks],
            "utility": utility}


def _tuner(model, config, *, steps, learning_rate, verbose):
    # left truncation keeps the answer, the only tokens the loss is computed on
    return WeightedLMFineTuner(
        model, learning_rate=learning_rate, max_steps=steps, batch_size=config.batch_size,
        max_length=config.max_length, truncation="left", lora=config.lora,
        lr_scheduler="constant",
        random_state=config.random_state, verbose=verbose,
    )


def align_model(sets, config, cache_dir, *, verbose=True):
    """Fine-tune the base model to refuse and judge it, or reuse the cached result.

    The aligned model and its evaluation are saved under ``cache_dir`` in a
    folder named by a hash of the settings and rows that produced them, so
    reruns with the same settings skip this step.

    Parameters
    ----------
    sets : dict
        Output of :func:`held_out_sets`.
    config : DemoConfig
        Gives the model and the training settings.
    cache_dir : str or path-like
        Where aligned models are kept.
    verbose : bool, default=True
        Show progress bars.

    Returns
    -------
    folder : pathlib.Path
        Folder of the aligned model.
    summary : dict
        Its evaluation, see :func:`evaluate`.
    responses : list of dict
        Its judged answers.
    """
    settings = {
        "model": config.model, "steps": config.align_steps, "lr": config.align_learning_rate,
        "batch_size": config.batch_size, "max_length": config.max_length, "lora": config.lora,
        "random_state": config.random_state, "max_new_tokens": config.max_new_tokens,
        "n_bootstrap": config.n_bootstrap,
        "rows": [[r.prompt, r.response] for r in sets["align"]],
        "judge": sets["judge_prompts"], "utility": [[r.prompt, r.response] for r in sets["utility"]],
    }
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    folder = Path(cache_dir) / f"aligned-{key}"
    record = folder / "sotlearn_evaluation.json"
    if record.is_file():
        saved = json.loads(record.read_text(encoding="utf-8"))
        return folder, saved["summary"], saved["responses"]
    tuner = _tuner(config.model, config, steps=config.align_steps,
                   learning_rate=config.align_learning_rate, verbose=verbose)
    tuner.fit(sets["align"])
    summary, responses = evaluate(tuner, sets["judge_prompts"], sets["utility"], config)
    tuner.save_pretrained(folder)
    # written last: its presence marks a complete cache entry
    record.write_text(json.dumps({"summary": summary, "responses": responses}), encoding="utf-8")
    return folder, summary, responses


def fine_tune(model_path, conversations, sample_weight, config, *, verbose=True):
    """Fine-tune the aligned model on the downstream rows with these weights."""
    tuner = _tuner(str(model_path), config, steps=config.finetune_steps,
                   learning_rate=config.learning_rate, verbose=verbose)
    return tuner.fit(conversations, sample_weight=sample_weight)


def evaluate(tuner, judge_prompts, utility_rows, config):
    """Harmful score (RefusalPrefixJudge) and utility (held-out NLL) of one model.

    Returns
    -------
    summary : dict
        ``harmful_score`` (share of judged prompts answered, not refused)
        with its bootstrap CI, ``utility_nll`` (mean NLL of the held-out
        benign answers; lower is better) and the judge's name.
    responses : list of dict
        Each judged prompt, the model's answer and the verdict.
    """
    answers = tuner.generate(judge_prompts, max_new_tokens=config.max_new_tokens)
    judge = RefusalPrefixJudge()
    harmful = np.asarray(judge.judge(judge_prompts, answers), dtype=int)
    score, low, high = bootstrap_ci(harmful_score, harmful, n_boot=config.n_bootstrap,
                                    random_state=config.random_state)
    summary = {
        "harmful_score": score, "harmful_ci_low": low, "harmful_ci_high": high,
        "utility_nll": -tuner.score(utility_rows), "judge": judge.name,
    }
    responses = [{"prompt": p, "response": a, "harmful": int(h)}
                 for p, a, h in zip(judge_prompts, answers, harmful)]
    return summary, responses


def _mean_difference(a, b):
    return float(np.mean(a) - np.mean(b))


def paired_difference(reference, other, config):
    """Harmful score of ``reference`` minus that of ``other``, with a paired bootstrap CI.

    Both models answered the same judge prompts, so the prompts are
    resampled together: the interval is that of the difference itself,
    narrower than two separate intervals would suggest.

    Parameters
    ----------
    reference, other : array-like of {0, 1}
        Judge verdicts (1 = answered) of two models on the same prompts.
    config : DemoConfig
        Gives ``n_bootstrap`` and the seed.

    Returns
    -------
    dict
        ``harmful_drop`` (positive: ``other`` answers fewer harmful
        prompts) and ``drop_ci_low``, ``drop_ci_high``.

    Examples
    --------
    >>> from sotlearn.experiment import DemoConfig
    >>> from sotlearn.experiment._finetune_study import paired_difference
    >>> paired_difference([1, 1, 0, 1], [0, 1, 0, 0], DemoConfig(n_bootstrap=50))["harmful_drop"]
    0.5
    """
    drop, low, high = bootstrap_ci(_mean_difference, np.asarray(reference, float),
                                   np.asarray(other, float), n_boot=config.n_bootstrap,
                                   random_state=config.random_state)
    return {"harmful_drop": drop, "drop_ci_low": low, "drop_ci_high": high}
