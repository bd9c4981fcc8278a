"""What chapter 12's Transformer recipes share: parameters, the two models and the translation report.

Not a chapter: it registers nothing (`zoo.recipes.ch12` does). The translation recipes reuse chapter
10's pipeline unchanged (`zoo.recipes.seq2seq`: the same seeded split, tokens, test set, decoding,
serving and scores), so `transformer_cmn` and `seq2seq_attention_cmn` compare row for row; only the
model (`zoo.models.transformer`) and its optimiser differ. The classifier reads rt-polarity or IMDB
through `zoo.recipes.text_classification`, as TextCNN and the LSTM do.

Where the defaults depart from the paper (Vaswani et al. 2017, base: 6 layers, d_model 512, 8 heads,
feed-forward 2048, 4,000 warm-up steps over batches of 25,000 tokens, 100,000 steps), it is for a
2-core CPU and 10,000 short sentence pairs: 2 layers, d_model 128, 4 heads, feed-forward 512, and a
warm-up of 1,000 steps (the recipe's whole 30 epochs are about 3,800 steps of 64 pairs). Measured on
cmn-eng (RESULTS.md, chapter 12): d_model 256 (feed-forward 1024) learns faster for 5 epochs, then
over-fits (greedy BLEU 21.2 after 10 epochs against 23.7 for d_model 128, at 1.8x the cost per step);
dropout 0.3 slows learning (15.0 after 10). Dropout 0.1, label smoothing 0.1, Adam (0.9, 0.98, 1e-9)
and the warm-up then 1/sqrt(step) schedule are the paper's.

Dropout is each recipe's own: `transformer_cmn` keeps the paper's 0.1 (over its 30 epochs on cmn-eng,
greedy / beam BLEU 26.20 / 27.93 against 24.90 / 26.30 without dropout), `transformer_translation`
has none, like chapter 10's `seq2seq_attention`: on 20,000 German-English pairs dropout 0.1 holds the
model back within 10 epochs (greedy BLEU 53.0 and 54.6 on two seeds, against 59.7 and 59.2 without;
the GRU recipe 55.9 and 55.7). `--set dropout=0.1` gives the paper's back for long runs.
"""

from __future__ import annotations

import keras

from zoo.data.pipelines import Data
from zoo.data.text import TextInfo
from zoo.data.translation import Seq2SeqInfo
from zoo.errors import UserError
from zoo.models import transformer
from zoo.models.classifier import compile_classifier
from zoo.recipes.base import HParams, Param, RunContext
from zoo.recipes.seq2seq import ATTENTION_PARAMS, translation_report, write_heatmaps


def dropout_param(default: float) -> Param:
    """The dropout Param with a recipe's own default (the paper's is 0.1; see the module docstring)."""
    return Param(
        default,
        "dropout on the embeddings + positions and on every sub-layer's output (the paper's: 0.1)",
        minimum=0.0,
        maximum=1.0,
        exclusive_maximum=True,
    )


ARCHITECTURE_PARAMS = {
    "num_layers": Param(2, "encoder (and decoder) layers (the paper's base: 6)", minimum=1),
    "model_dim": Param(128, "model width d_model, a multiple of num_heads (the paper's base: 512)", minimum=1),
    "num_heads": Param(4, "attention heads (the paper's base: 8)", minimum=1),
    "ff_dim": Param(512, "position-wise feed-forward width (the paper's base: 2048)", minimum=1),
    "dropout": dropout_param(0.1),
}
"""The encoder blocks' sizes, shared by the translation and classification recipes."""


TRANSLATION_PARAMS = {
    **ARCHITECTURE_PARAMS,
    "label_smoothing": Param(
        0.1, "label smoothing of the cross-entropy (the paper's: 0.1)", minimum=0.0, maximum=1.0, exclusive_maximum=True
    ),
    "warmup_steps": Param(1000, "steps of linear warm-up before the 1/sqrt(step) decay (the paper's: 4000)", minimum=1),
    "learning_rate": Param(
        0.0, "a constant Adam learning rate instead of the paper's schedule (0 = the schedule)", minimum=0.0
    ),
    "vocab_size": Param(
        0, "maximum vocabulary per side, special tokens included (0 = all; else at least 5)", minimum=0
    ),
    "heatmaps": ATTENTION_PARAMS["heatmaps"],
}
"""Everything a Transformer translation recipe declares besides the Anki data and decoding parameters."""


def check_heads(hp: HParams) -> None:
    """`model_dim` must split evenly into `num_heads` heads: refused before any data is read."""
    if hp.model_dim % hp.num_heads:
        raise UserError(
            f"expected a multiple of num_heads ({hp.num_heads}): each head gets model_dim // num_heads values",
            param="model_dim",
            value=hp.model_dim,
        )


def check_translation(hp: HParams) -> None:
    """`check_heads`, and a vocabulary large enough for padding, OOV, start, end and one word."""
    check_heads(hp)
    if 0 < hp.vocab_size < 5:
        raise UserError(
            "expected 0 (all) or at least 5: padding, OOV, start and end tokens and one word",
            param="vocab_size",
            value=hp.vocab_size,
        )


def translation_model(hp: HParams, data: Data[Seq2SeqInfo]) -> keras.Model:
    info = data.info
    model = transformer.build_transformer_seq2seq(
        source_vocab_size=info.source_vocab_size,
        target_vocab_size=info.target_vocab_size,
        num_layers=hp.num_layers,
        model_dim=hp.model_dim,
        num_heads=hp.num_heads,
        ff_dim=hp.ff_dim,
        dropout=hp.dropout,
        shared_embedding=info.source_vectorizer is info.target_vectorizer,
    )
    return transformer.compile_transformer(
        model,
        warmup_steps=hp.warmup_steps,
        label_smoothing=hp.label_smoothing,
        learning_rate=hp.learning_rate or None,
    )


def translation_report_with_heads(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext) -> dict:
    """`zoo.recipes.seq2seq.translation_report`, plus heat maps with a panel per layer and head."""
    metrics = translation_report(hp, data, model, ctx)
    write_heatmaps(hp, data, model, ctx)
    return metrics


def classifier_data(load):
    """A recipe's `data`: `load` (e.g. `text_classification.mr_data`) after `check_heads`."""

    def data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
        check_heads(hp)
        return load(hp, ctx)

    data.__name__ = data.__qualname__ = f"{load.__name__}_for_transformer"
    data.__doc__ = load.__doc__
    return data


def classifier_model(hp: HParams, data: Data[TextInfo]) -> keras.Model:
    info = data.info
    model = transformer.build_transformer_classifier(
        vocab_size=info.vocab_size,
        num_classes=info.num_classes,
        num_layers=hp.num_layers,
        model_dim=hp.model_dim,
        num_heads=hp.num_heads,
        ff_dim=hp.ff_dim,
        dropout=hp.dropout,
    )
    return compile_classifier(model, num_classes=info.num_classes, learning_rate=hp.learning_rate)
