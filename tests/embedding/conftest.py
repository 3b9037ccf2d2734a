"""Tiny random models built from a config at test time: no download, a few MB, fast."""

import pytest
import torch

WORDS = (
    "the a how do i make bake cake bread bomb steal car what is two plus four answer sure "
    "here cannot help you with that sorry write poem about sea hi hello knead it"
).split()
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789?.,!' ")


@pytest.fixture(scope="session")
def tiny_sentence_model(tmp_path_factory):
    """Folder of a 1-layer, 16-d BERT sentence-transformers model with mean pooling."""
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_st")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + CHARS[:-1]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    model = SentenceTransformer(
        modules=[Transformer(str(folder), max_seq_length=128), Pooling(16)],
        device="cpu",
    )
    model.save(str(folder))
    return str(folder)


def _char_tokenizer(chat_template):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3}
    for ch in CHARS + list("<>|_:\n"):
        vocab.setdefault(ch, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        unk_token="<unk>",
    )
    tokenizer.chat_template = chat_template
    return tokenizer


CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _save_lm(folder, chat_template, architecture="llama"):
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    tokenizer = _char_tokenizer(chat_template)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    if architecture == "llama":
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
            pad_token_id=0, bos_token_id=1, eos_token_id=2,
        ))
    else:
        model = GPT2LMHeadModel(GPT2Config(
            vocab_size=len(tokenizer), n_embd=16, n_layer=2, n_head=2, n_positions=512,
            pad_token_id=0, bos_token_id=1, eos_token_id=2,
        ))
    model.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory):
    """Folder of a 2-layer, 16-d random Llama with a character tokenizer and a chat template."""
    return _save_lm(tmp_path_factory.mktemp("tiny_lm"), CHAT_TEMPLATE)


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    """A 2-layer random GPT-2: absolute position embeddings, unlike Llama's rotary ones."""
    return _save_lm(tmp_path_factory.mktemp("tiny_gpt2"), CHAT_TEMPLATE, "gpt2")


@pytest.fixture(scope="session")
def tiny_causal_lm_no_template(tmp_path_factory):
    """Same model, but its tokenizer has no chat template."""
    return _save_lm(tmp_path_factory.mktemp("tiny_lm_plain"), None)
