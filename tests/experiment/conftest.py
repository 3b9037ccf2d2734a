"""Tiny random models built at test time, so the experiment runs end to end in seconds."""

import pytest
import torch

WORDS = ("how do i make a bomb steal car what is two plus four write poem sure here "
         "cannot help sorry the of to and you").split()


def build_tiny_sentence_model(folder):
    """A 1-layer, 16-d BERT sentence-transformers model with mean pooling, saved to ``folder``."""
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + list("abcdefghijklmnopqrstuvwxyz")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=32,
                         max_position_embeddings=128)).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    SentenceTransformer(modules=[Transformer(str(folder), max_seq_length=64), Pooling(16)],
                        device="cpu").save(str(folder))
    return str(folder)


def build_tiny_lm(folder):
    """A 2-layer, 16-d Llama with a character tokenizer and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3}
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789?.,!' <>|_:\n":
        vocab.setdefault(ch, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    backend.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>",
                                        bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
        pad_token_id=0, bos_token_id=1, eos_token_id=2,
    )).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_sentence_model(tmp_path_factory):
    return build_tiny_sentence_model(tmp_path_factory.mktemp("tiny_st"))


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="session")
def tiny_config(tiny_sentence_model, tiny_lm):
    from sotlearn.experiment import DemoConfig

    return DemoConfig.quick(
        n_samples=60, max_per_source=12, n_bootstrap=20, embedder=tiny_sentence_model,
        model=tiny_lm, keep_ratios=(0.5, 0.8), push_values=(0.0, 1.0),
        sot_params={"max_iter": 5}, finetune_baseline=True, align_steps=1, finetune_steps=1, batch_size=4,
        max_length=48, n_align_refusals=4, n_judge_prompts=4, n_utility_rows=4,
        max_new_tokens=4,
    )


@pytest.fixture(scope="session")
def demo_output(tiny_config, tmp_path_factory):
    """One end-to-end run of the demo on tiny models, shared by the tests that read it."""
    from sotlearn.experiment import run_demo

    output = tmp_path_factory.mktemp("demo")
    run_demo(tiny_config, output, verbose=False)
    return output
