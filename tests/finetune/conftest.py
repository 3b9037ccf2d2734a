"""Tiny random causal LMs saved as local HuggingFace folders, built offline."""

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

CONVERSATIONS = [
    ("What is two plus two?", "Four."),
    ("Name a colour of the sky.", "Blue, on a clear day."),
    ("Say hello.", "Hello!"),
    ("Write a short poem about the sea.", "Waves roll in, waves roll out, the sea sings."),
    ("How many legs has a cat?", "A cat has four legs."),
]


def build_tiny_lm(folder, *, chat_template=CHAT_TEMPLATE, attention_dropout=0.0):
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|im_start|>", "<|im_end|>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    backend.train_from_iterator([p + " " + r for p, r in CONVERSATIONS], trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<pad>"
    )
    tokenizer.chat_template = chat_template
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        attention_dropout=attention_dropout,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="session")
def tiny_lm_no_template(tmp_path_factory):
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm_plain"), chat_template=None)


@pytest.fixture(scope="session")
def tiny_lm_dropout(tmp_path_factory):
    # Dropout makes training consume the torch random stream, which resuming must restore.
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm_dropout"), attention_dropout=0.2)


@pytest.fixture
def conversations():
    return list(CONVERSATIONS)
