import math
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from transformers import AutoModelForCausalLM, DistilBertConfig, DistilBertModel

from sotlearn import WeightedLMFineTuner
from sotlearn._model_resolution import ModelNotAvailableError
from sotlearn.finetune import _weighted_lm_fine_tuner as module

torch.set_num_threads(1)

# One deterministic plain-SGD step: the update is then linear in the gradient.
SGD_STEP = dict(
    optimizer="sgd",
    learning_rate=0.5,
    lr_scheduler="constant",
    max_grad_norm=None,
    shuffle=False,
    max_steps=1,
)


def parameters(tuner):
    return {name: p.detach().clone() for name, p in tuner.model_.named_parameters()}


def assert_same_parameters(a, b, atol=1e-5):
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=atol, rtol=0, msg=name)


def test_integer_weights_equal_repeated_rows(tiny_lm, conversations):
    weights = [2, 1, 0, 3, 1]
    repeated = [c for c, w in zip(conversations, weights) for _ in range(w)]
    weighted = WeightedLMFineTuner(tiny_lm, batch_size=len(repeated), **SGD_STEP)
    weighted.fit(conversations, sample_weight=weights)
    plain = WeightedLMFineTuner(tiny_lm, batch_size=len(repeated), **SGD_STEP).fit(repeated)

    assert_same_parameters(parameters(weighted), parameters(plain))
    assert weighted.history_[0]["loss"] == pytest.approx(plain.history_[0]["loss"], abs=1e-6)
    # The step did move the model, so the comparison above is not vacuous.
    base = AutoModelForCausalLM.from_pretrained(tiny_lm)
    moved = max(
        (p - dict(base.named_parameters())[n]).abs().max().item()
        for n, p in weighted.model_.named_parameters()
    )
    assert moved > 1e-3


def test_zero_weight_rows_leave_training_unchanged(tiny_lm, conversations):
    # Several shuffled AdamW steps: zero-weight rows are dropped before batching,
    # so they change neither the updates nor the batch composition.
    settings = dict(learning_rate=1e-2, batch_size=2, n_epochs=2, random_state=3)
    weights = [1.0, 0.0, 2.0, 0.0, 0.5]
    with_zeros = WeightedLMFineTuner(tiny_lm, **settings).fit(conversations, sample_weight=weights)
    kept = [i for i, w in enumerate(weights) if w > 0]
    without = WeightedLMFineTuner(tiny_lm, **settings).fit(
        [conversations[i] for i in kept], sample_weight=[weights[i] for i in kept]
    )
    assert with_zeros.n_samples_ == 3
    assert with_zeros.n_steps_ == without.n_steps_ == 4
    assert_same_parameters(parameters(with_zeros), parameters(without), atol=0)


def test_same_seed_gives_identical_parameters(tiny_lm, conversations):
    settings = dict(learning_rate=1e-2, batch_size=2, max_steps=4)
    first = WeightedLMFineTuner(tiny_lm, random_state=7, **settings).fit(conversations)
    second = WeightedLMFineTuner(tiny_lm, random_state=7, **settings).fit(conversations)
    other = WeightedLMFineTuner(tiny_lm, random_state=8, **settings).fit(conversations)
    assert_same_parameters(parameters(first), parameters(second), atol=0)
    assert any(
        not torch.equal(p, parameters(other)[n]) for n, p in parameters(first).items()
    ), "a different seed should shuffle differently"


def test_fit_restores_global_torch_random_state(tiny_lm, conversations):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    WeightedLMFineTuner(tiny_lm, max_steps=1, random_state=0).fit(conversations)
    torch.testing.assert_close(torch.rand(3), expected)


def test_gradient_accumulation_equals_single_batch(tiny_lm, conversations):
    # 5 rows, effective batch 4: two steps, the second with one row only.
    settings = dict(SGD_STEP, max_steps=2, shuffle=True, random_state=0)
    weights = [0.5, 2.0, 1.0, 3.0, 1.5]
    accumulated = WeightedLMFineTuner(
        tiny_lm, batch_size=1, gradient_accumulation_steps=4, **settings
    ).fit(conversations, sample_weight=weights)
    single = WeightedLMFineTuner(tiny_lm, batch_size=4, **settings).fit(
        conversations, sample_weight=weights
    )
    assert_same_parameters(parameters(accumulated), parameters(single))
    assert [r["n_samples"] for r in accumulated.history_] == [4, 1]
    for a, b in zip(accumulated.history_, single.history_):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)


def test_weights_are_scale_invariant(tiny_lm, conversations):
    weights = np.array([0.5, 2.0, 1.0, 3.0, 1.5])
    settings = dict(SGD_STEP, batch_size=5)
    mean_one = WeightedLMFineTuner(tiny_lm, **settings).fit(
        conversations, sample_weight=weights / weights.mean()
    )
    sum_one = WeightedLMFineTuner(tiny_lm, **settings).fit(
        conversations, sample_weight=weights / weights.sum()
    )
    assert_same_parameters(parameters(mean_one), parameters(sum_one))


class Interrupted(Exception):
    pass


def test_resume_after_interruption_matches_uninterrupted_run(
    tiny_lm_dropout, conversations, tmp_path
):
    # AdamW, shuffling over several epochs, a linear schedule and dropout: every
    # piece of state (optimizer, scheduler, data order, random stream) must be restored.
    settings = dict(
        learning_rate=1e-2,
        batch_size=2,
        max_steps=8,
        warmup_steps=2,
        random_state=0,
        weight_decay=0.01,
    )
    weights = [1.0, 2.0, 0.5, 1.0, 3.0]
    reference = WeightedLMFineTuner(tiny_lm_dropout, **settings).fit(
        conversations, sample_weight=weights
    )

    def kill_after_step_6(record):
        if record["step"] == 6:
            raise Interrupted

    checkpoints = tmp_path / "checkpoints"
    interrupted = WeightedLMFineTuner(
        tiny_lm_dropout,
        checkpoint_dir=checkpoints,
        save_steps=4,
        resume_from_checkpoint=True,
        callback=kill_after_step_6,
        **settings,
    )
    with pytest.raises(Interrupted):
        interrupted.fit(conversations, sample_weight=weights)
    assert not hasattr(interrupted, "model_"), "a failed fit must not leave a fitted estimator"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-4"]

    # Same script run again: continues from step 4, replays steps 5-6, finishes.
    resumed = interrupted.set_params(callback=None).fit(conversations, sample_weight=weights)
    assert resumed.n_steps_ == 8
    assert_same_parameters(parameters(resumed), parameters(reference), atol=1e-6)
    for a, b in zip(resumed.history_, reference.history_):
        assert a["step"] == b["step"]
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-4", "checkpoint-8"]

    # A finished run resumes to the same model without further steps.
    again = clone(resumed).fit(conversations, sample_weight=weights)
    assert again.n_steps_ == 8
    assert_same_parameters(parameters(again), parameters(reference), atol=1e-6)


def test_resume_refuses_other_settings_or_data(tiny_lm, conversations, tmp_path):
    tuner = WeightedLMFineTuner(
        tiny_lm, batch_size=2, max_steps=2, checkpoint_dir=tmp_path, resume_from_checkpoint=True
    ).fit(conversations)
    with pytest.raises(ValueError, match="learning_rate"):
        clone(tuner).set_params(learning_rate=1.0).fit(conversations)
    with pytest.raises(ValueError, match="sample_weight differ"):
        clone(tuner).fit(conversations, sample_weight=[1, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="resume_from_checkpoint=.* is not a checkpoint"):
        clone(tuner).set_params(resume_from_checkpoint=tmp_path).fit(conversations)
    with pytest.raises(ValueError, match="checkpoint_dir is None"):
        WeightedLMFineTuner(tiny_lm, resume_from_checkpoint=True).fit(conversations)
    with pytest.raises(ValueError, match="save_steps"):
        WeightedLMFineTuner(tiny_lm, save_steps=1).fit(conversations)


def test_interrupted_save_leaves_no_partial_checkpoint(
    tiny_lm, conversations, tmp_path, monkeypatch
):
    def crash(*args, **kwargs):
        raise Interrupted

    monkeypatch.setattr(module.torch, "save", crash)
    tuner = WeightedLMFineTuner(tiny_lm, batch_size=2, max_steps=1, checkpoint_dir=tmp_path)
    with pytest.raises(Interrupted):
        tuner.fit(conversations)
    assert list(tmp_path.iterdir()) == []


def test_checkpoints_are_pruned(tiny_lm, conversations, tmp_path):
    WeightedLMFineTuner(
        tiny_lm,
        batch_size=1,
        max_steps=5,
        checkpoint_dir=tmp_path,
        save_steps=1,
        save_total_limit=2,
    ).fit(conversations)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-4", "checkpoint-5"]


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        ([1, -1, 1, 1, 1], "sample_weight must be non-negative; got -1.0 at index 1"),
        ([1, np.nan, 1, 1, 1], "sample_weight must be finite; got nan at index 1"),
        ([0, 0, 0, 0, 0], "sample_weight is all zeros"),
        ([1, 1, 1], r"sample_weight has shape \(3,\) but X has 5 rows"),
        ([[1, 1, 1, 1, 1]], r"sample_weight has shape \(1, 5\)"),
    ],
)
def test_bad_sample_weight(tiny_lm, conversations, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        WeightedLMFineTuner(tiny_lm).fit(conversations, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "X, error, message",
    [
        ([], ValueError, "X is empty"),
        (pd.DataFrame({"prompt": [], "response": []}), ValueError, "X is empty"),
        ("What is 2 + 2?", TypeError, "X must be a sequence of conversations"),
        ([("a question", "")], ValueError, r"X rows 0 have no response"),
        ([{"prompt": "a question"}], ValueError, r"X rows 0 have no response"),
        ([42], TypeError, r"X\[0\] must be a \(prompt, response\) pair"),
        ([(1, "answer")], TypeError, r"X\[0\]: the prompt must be a string"),
        ([{"messages": [{"role": "user"}]}], ValueError, r"X\[0\]: every message must be a dict"),
        (pd.DataFrame({"text": ["x"]}), ValueError, "without a 'prompt' or 'messages' column"),
    ],
)
def test_bad_X(tiny_lm, X, error, message):
    with pytest.raises(error, match=message):
        WeightedLMFineTuner(tiny_lm).fit(X)


def test_no_response_tokens_after_truncation(tiny_lm, conversations):
    long_prompt = [("word " * 100, "Short answer.")] + conversations
    with pytest.raises(
        ValueError,
        match=r"X rows 0 have no response tokens left .* max_length=32 .*truncation='left'",
    ):
        WeightedLMFineTuner(tiny_lm, max_length=32).fit(long_prompt)
    # Truncating the prompt instead keeps the response trainable.
    tuner = WeightedLMFineTuner(tiny_lm, max_length=32, truncation="left", max_steps=1).fit(
        long_prompt
    )
    assert tuner.n_steps_ == 1
    # A zero-weight row is never trained on, so its length does not matter.
    WeightedLMFineTuner(tiny_lm, max_length=32, max_steps=1).fit(
        long_prompt, sample_weight=[0, 1, 1, 1, 1, 1]
    )


def test_bad_model_is_reported_before_tokenising(tmp_path, conversations, monkeypatch):
    def must_not_tokenise(*args, **kwargs):
        raise AssertionError("tokenised before the model was checked")

    monkeypatch.setattr(module, "_encode", must_not_tokenise)
    with pytest.raises(ModelNotAvailableError, match="does not exist"):
        WeightedLMFineTuner(str(tmp_path / "no-such-model")).fit(conversations)
    config = DistilBertConfig(vocab_size=50, dim=8, n_layers=1, n_heads=2, hidden_dim=8)
    DistilBertModel(config).save_pretrained(tmp_path / "encoder")
    with pytest.raises(ValueError, match="not a causal language model"):
        WeightedLMFineTuner(str(tmp_path / "encoder")).fit(conversations)


def test_bad_device(tiny_lm, conversations):
    with pytest.raises(ValueError, match="device='tpu-ish' is not a torch device"):
        WeightedLMFineTuner(tiny_lm, device="tpu-ish").fit(conversations)


def test_response_mask_and_chat_template(tiny_lm, tiny_lm_no_template):
    from transformers import AutoTokenizer

    conversation = [([{"role": "user", "content": "Say hello."}], "Hello!")]
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    [(ids, start)] = module._encode(
        tokenizer, conversation, [0], max_length=64, truncation="right", loss_on="response"
    )
    assert (
        tokenizer.decode(ids[:start])
        == "<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n"
    )
    assert tokenizer.decode(ids[start:]) == "Hello!<|im_end|>\n"
    [(_, start_all)] = module._encode(
        tokenizer, conversation, [0], max_length=64, truncation="right", loss_on="all"
    )
    assert start_all == 1

    plain = AutoTokenizer.from_pretrained(tiny_lm_no_template)
    [(ids, start)] = module._encode(
        plain, conversation, [0], max_length=64, truncation="right", loss_on="response"
    )
    assert plain.decode(ids[:start]) == "User: Say hello.\nAssistant: "
    assert plain.decode(ids[start:]) == "Hello!<|im_end|>"


def test_input_forms_are_equivalent(tiny_lm, conversations):
    from sotlearn.datasets import Conversation

    tuner = WeightedLMFineTuner(tiny_lm, max_steps=1, random_state=0).fit(conversations)
    forms = [
        conversations,
        [{"prompt": p, "response": r} for p, r in conversations],
        [
            {"messages": [{"role": "user", "content": p}, {"role": "assistant", "content": r}]}
            for p, r in conversations
        ],
        [
            [{"role": "user", "content": p}, {"role": "assistant", "content": r}]
            for p, r in conversations
        ],
        [Conversation(p, r) for p, r in conversations],
        pd.DataFrame(conversations, columns=["prompt", "response"]),
        np.array(conversations, dtype=object),
    ]
    scores = [tuner.score(X) for X in forms]
    assert scores == pytest.approx([scores[0]] * len(forms), abs=1e-6)


def test_generate_predict_score(tiny_lm, conversations):
    tuner = WeightedLMFineTuner(
        tiny_lm, learning_rate=1e-2, batch_size=5, n_epochs=3, random_state=0
    )
    before = WeightedLMFineTuner(tiny_lm, learning_rate=1e-12, max_steps=1).fit(conversations)
    tuner.fit(conversations)
    assert tuner.score(conversations) > before.score(conversations)
    # score is the negative weighted mean of the per-conversation NLLs.
    per_row = [-tuner.score([c]) for c in conversations]
    weights = np.array([1.0, 0.0, 2.0, 1.0, 0.5])
    assert tuner.score(conversations, sample_weight=weights) == pytest.approx(
        -np.dot(weights, per_row) / weights.sum(), rel=1e-6
    )

    outputs = tuner.generate(["Say hello.", "What is two plus two?", "Hi"], max_new_tokens=4)
    assert len(outputs) == 3 and all(isinstance(o, str) for o in outputs)
    # Batched left-padded greedy decoding equals one prompt at a time.
    assert outputs[1] == tuner.generate("What is two plus two?", max_new_tokens=4)[0]
    predictions = tuner.predict(conversations[:2], max_new_tokens=4)
    assert predictions.shape == (2,) and predictions.dtype == object


def test_history_records(tiny_lm, conversations):
    tuner = WeightedLMFineTuner(
        tiny_lm, batch_size=2, n_epochs=2, learning_rate=1e-3, random_state=0
    )
    tuner.fit(conversations)
    assert tuner.n_steps_ == len(tuner.history_) == 6
    record = tuner.history_[-1]
    assert set(record) == {
        "step",
        "epoch",
        "loss",
        "lr",
        "grad_norm",
        "n_samples",
        "weight_sum",
        "tokens",
        "loss_tokens",
        "seconds",
    }
    assert record["step"] == 6 and record["epoch"] == pytest.approx(2.0)
    assert [r["lr"] for r in tuner.history_][0] == pytest.approx(1e-3)
    assert all(a["lr"] > b["lr"] > 0 for a, b in zip(tuner.history_, tuner.history_[1:]))
    assert all(0 < r["loss_tokens"] < r["tokens"] for r in tuner.history_)


def test_lora_and_save_pretrained(tiny_lm, conversations, tmp_path):
    pytest.importorskip("peft")
    tuner = WeightedLMFineTuner(
        tiny_lm,
        lora={"r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj"]},
        learning_rate=5e-2,
        max_steps=3,
        batch_size=5,
        random_state=0,
    ).fit(conversations)
    trainable = [n for n, p in tuner.model_.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)

    tuner.save_pretrained(tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    assert not hasattr(merged, "peft_config")
    input_ids = torch.tensor([[1, 5, 9, 12]])
    with torch.no_grad():
        torch.testing.assert_close(
            merged(input_ids).logits, tuner.model_(input_ids).logits, atol=1e-5, rtol=0
        )
    # Merging worked on a copy: the fitted estimator keeps its adapters.
    assert any("lora_" in n for n, _ in tuner.model_.named_parameters())

    tuner.save_pretrained(tmp_path / "adapter", merge_lora=False)
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()


def test_full_save_pretrained_loads_with_transformers(tiny_lm, conversations, tmp_path):
    tuner = WeightedLMFineTuner(tiny_lm, max_steps=1, learning_rate=1e-2).fit(conversations)
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.txt").write_text("replaced")
    tuner.save_pretrained(target)
    assert not (target / "stale.txt").exists()
    assert list(tmp_path.iterdir()) == [target], "no temporary folder is left behind"
    reloaded = WeightedLMFineTuner(str(target), max_steps=1, learning_rate=1e-12).fit(conversations)
    assert reloaded.score(conversations) == pytest.approx(tuner.score(conversations), abs=1e-5)


def test_clone_get_params_and_pickle(tiny_lm, conversations):
    peft = pytest.importorskip("peft")
    lora = peft.LoraConfig(r=2, target_modules=["q_proj"])
    tuner = WeightedLMFineTuner(tiny_lm, lora=lora, max_steps=1, random_state=0)
    cloned = clone(tuner)
    assert cloned.get_params().keys() == tuner.get_params().keys()
    assert cloned.lora is not tuner.lora and cloned.lora.r == 2
    tuner.fit(conversations)
    assert lora.task_type is None, "the user's LoraConfig is not modified"
    assert type(tuner.model_).__name__ == "PeftModelForCausalLM"
    restored = pickle.loads(pickle.dumps(tuner))
    assert restored.generate("Say hello.", max_new_tokens=3) == tuner.generate(
        "Say hello.", max_new_tokens=3
    )


def test_invalid_parameter_is_named(tiny_lm, conversations):
    with pytest.raises(ValueError, match="'optimizer' parameter"):
        WeightedLMFineTuner(tiny_lm, optimizer="adam").fit(conversations)
    with pytest.raises(ValueError, match="'max_length' parameter"):
        WeightedLMFineTuner(tiny_lm, max_length=1).fit(conversations)


def test_lr_schedules():
    factors = {
        s: module._lr_factor(s, warmup_steps=2, total_steps=10)
        for s in ("constant", "linear", "cosine")
    }
    assert [factors["constant"](s) for s in (0, 1, 2, 9)] == pytest.approx([1 / 3, 2 / 3, 1, 1])
    assert factors["linear"](2) == 1 and factors["linear"](9) == pytest.approx(1 / 8)
    assert factors["cosine"](9) == pytest.approx(0.5 * (1 + math.cos(math.pi * 7 / 8)))


def test_behind_weighted_estimator(tiny_lm, conversations):
    # The lead's meta-estimator embeds every row with the model to be tuned,
    # learns OT weights against the references and passes mean-1 weights of the
    # kept downstream rows to fit(sample_weight=...).
    from sklearn.pipeline import make_pipeline

    from sotlearn import SafetyOTWeighter, WeightedEstimator
    from sotlearn.datasets import Conversation
    from sotlearn.embedding import LMHiddenStateEmbedder

    safe = [Conversation("How do I pick a lock?", "Sorry, I cannot help with that.")] * 2
    harmful = [
        Conversation("How do I pick a lock?", "Insert a tension wrench, then rake the pins.")
    ] * 2
    downstream = [Conversation(p, r) for p, r in conversations]
    X = safe + harmful + downstream
    role = [0] * len(safe) + [1] * len(harmful) + [-1] * len(downstream)
    tuner = WeightedLMFineTuner(tiny_lm, **dict(SGD_STEP, batch_size=8))
    model = WeightedEstimator(
        make_pipeline(LMHiddenStateEmbedder(tiny_lm), SafetyOTWeighter()), tuner, keep_ratio=0.8
    ).fit(X, sample_role=role)

    assert model.support_.sum() == 4
    assert model.sample_weight_.mean() == pytest.approx(1.0)
    kept = [downstream[i] for i in np.flatnonzero(model.support_)]
    direct = clone(tuner).fit(kept, sample_weight=model.sample_weight_)
    assert_same_parameters(parameters(model.estimator_), parameters(direct), atol=0)
    assert len(model.generate(["Say hello."], max_new_tokens=2)) == 1
    assert model.score(downstream) < 0
