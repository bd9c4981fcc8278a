"""Where a BERT to fine-tune comes from (chapter 12): a `bert_pretrain` run, a Hugging Face folder, a preset, or none.

`resolve_pretrained` checks a `--set pretrained=` value and reads its vocabulary without loading any
weights, so a folder that is not a BERT (or whose vocabulary does not match its model) is a one-line
error before any data is read; `load_backbone` then gives the `keras_hub.models.BertBackbone`.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import keras

from zoo.data import bert_pretraining as bp
from zoo.errors import CorruptData, DataNotFound, UserError
from zoo.models.bert_pretraining import build_bert_backbone


@dataclasses.dataclass(frozen=True)
class PretrainedSource:
    """Where a classifier's BERT comes from: `kind` is "run" (a bert_pretrain folder), "hf" (a Hugging Face
    folder), "preset" (a keras-hub preset name) or "none"; `vocabulary` is None for "none" (learned later)."""

    kind: str
    location: str
    vocabulary: list[str] | None
    lowercase: bool = True
    max_positions: int | None = None


def _hf_config(folder: Path, flag: str) -> dict:
    config = folder / "config.json"
    if not config.exists():
        raise UserError(
            "not a BERT: no config.json (expected a bert_pretrain run folder or a Hugging Face BERT folder)",
            param="pretrained",
            value=flag,
        )
    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError("not a BERT: config.json is not JSON", param="pretrained", value=flag) from None


def _run_backbone_vocabulary_size(model_file: Path, flag: str) -> int:
    """The backbone's vocabulary size from a `model.keras`'s config (read from the zip, no weights loaded)."""
    try:
        with zipfile.ZipFile(model_file) as archive:
            config = json.loads(archive.read("config.json"))
        return int(config["config"]["backbone"]["config"]["vocabulary_size"])
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError):
        raise CorruptData(
            "its model.keras is unreadable or corrupt (not a saved bert_pretrain model)", param="pretrained", value=flag
        ) from None


def resolve_pretrained(flag: str) -> PretrainedSource:
    """Check `--set pretrained=` and read its vocabulary (no weights yet): a one-line error for anything else."""
    if flag.lower() == "none":
        return PretrainedSource("none", flag, None)
    folder = Path(flag).expanduser()
    if not folder.exists():
        if "/" in flag or flag.startswith("."):
            raise DataNotFound("no such folder", param="pretrained", value=flag)
        from zoo.models.bert_qa import load_vocabulary

        vocabulary, lowercase = load_vocabulary(flag)  # a keras-hub preset (DataNotFound when it cannot be had)
        return PretrainedSource("preset", flag, vocabulary, lowercase)
    if not folder.is_dir():
        raise UserError("not a BERT: expected a folder", param="pretrained", value=flag)
    config = _hf_config(folder, flag)
    if "recipe" in config:  # a zoo run folder
        if config["recipe"] != "bert_pretrain":
            raise UserError(
                f"not a BERT: a run of recipe {config['recipe']}, not bert_pretrain", param="pretrained", value=flag
            )
        vocab_file, model_file = folder / bp.VOCABULARY_FILE, folder / "model.keras"
        if not (vocab_file.exists() and model_file.exists()):
            raise DataNotFound(
                "no vocab.txt and model.keras there (an unfinished run?)", param="pretrained", value=flag
            )
        vocabulary = bp.read_vocabulary(vocab_file)
        size = _run_backbone_vocabulary_size(model_file, flag)
        if size != len(vocabulary):
            raise UserError(
                f"its model has a vocabulary of {size}, its vocab.txt {len(vocabulary)} tokens",
                param="pretrained",
                value=flag,
            )
        positions = config.get("hparams", {}).get("sequence_length")
        return PretrainedSource("run", str(folder.resolve()), vocabulary, True, positions)
    if config.get("model_type") != "bert":
        raise UserError(
            f"not a BERT: config.json says model_type {config.get('model_type')!r}", param="pretrained", value=flag
        )
    vocab_file = folder / "vocab.txt"
    if not vocab_file.exists():
        raise UserError("not a BERT folder: no vocab.txt", param="pretrained", value=flag)
    vocabulary = bp.read_vocabulary(vocab_file)
    if config.get("vocab_size", len(vocabulary)) != len(vocabulary):
        raise UserError(
            f"config.json has vocab_size {config.get('vocab_size')}, vocab.txt {len(vocabulary)} tokens",
            param="pretrained",
            value=flag,
        )
    lowercase = bool(config.get("do_lower_case", True))
    tokenizer_config = folder / "tokenizer_config.json"
    if tokenizer_config.exists():
        lowercase = bool(json.loads(tokenizer_config.read_text()).get("do_lower_case", lowercase))
    return PretrainedSource("hf", str(folder.resolve()), vocabulary, lowercase, config.get("max_position_embeddings"))


def load_backbone(source: PretrainedSource, *, vocabulary_size: int, **sizes) -> keras.Model:
    """The BERT backbone of `source`, every weight trainable: a run's (its pre-trained weights), a Hugging
    Face / preset one, or a fresh one of `vocabulary_size` and `sizes` (`build_bert_backbone`'s keywords)
    for "none"; `sizes` are ignored for the others (their own sizes are used).

    A run pre-trained without next-sentence prediction froze its pooler (no loss reached it), and its
    `BertPretrainer` freezes it again when loaded. That pooler is still at its random initialisation,
    which is what a fresh pooler would be, so it is kept, and made trainable with the rest: fine-tuning
    then trains it from scratch on `[CLS]`, as a classifier on a RoBERTa (no NSP either) does.
    """
    if source.kind == "run":
        backbone = keras.saving.load_model(Path(source.location) / "model.keras").backbone
        for layer in backbone.layers:  # not `backbone.trainable = True`: on TensorFlow, a no-op when already True
            layer.trainable = True
        return backbone
    if source.kind in ("hf", "preset"):
        from zoo.models.bert_qa import load_backbone as load_preset

        return load_preset(source.location)
    return build_bert_backbone(vocabulary_size=vocabulary_size, **sizes)
