"""Chapters 12-13: the Transformer (translation and classification) and BERT question answering on SQuAD.

- `transformer_cmn`: a Transformer encoder-decoder (Vaswani et al. 2017, small) on the book's Anki
  English -> Chinese pairs: the same split, tokens and test set as `seq2seq_attention_cmn`.
- `transformer_translation`: the same on any Anki pair file (`--set pairs=PATH`).
- `transformer_mr`, `transformer_imdb`: the Transformer encoder as a sentence classifier, on
  rt-polarity (the book split, as TextCNN and the LSTM) and on IMDB.
- `squad_bert`: BERT fine-tuned for SQuAD v1.1 / v2.0 (google-research/bert `run_squad.py`).

The Transformer recipes' shared parts are in `zoo.recipes.transformer`.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.data import squad as squad_data
from zoo.data.fetch import fetch
from zoo.errors import UserError
from zoo.json_files import write_json
from zoo.metrics import squad as squad_metrics
from zoo.recipes import bert, transformer
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register
from zoo.recipes.seq2seq import ANKI_PARAMS, DECODING_PARAMS, anki_data, serve_strings
from zoo.recipes.text_classification import MR_SPLIT_PARAMS, TEXT_PARAMS, imdb_data, mr_data
from zoo.recipes.text_classification import serve_strings as serve_text
from zoo.squad import features as squad_features
from zoo.squad.api import answer
from zoo.squad.features import SquadInfo
from zoo.squad.windows import SquadWindows, WindowConfig


def _examples(hp: HParams, ctx: RunContext) -> tuple[list, list]:
    """(train, dev) examples from --set train_file/predict_file, the official files, or a held-out split."""
    if hp.dev_articles and hp.predict_file:
        raise UserError(
            "dev_articles holds out part of the training file as the dev set; leave predict_file empty then",
            params={"dev_articles": hp.dev_articles, "predict_file": hp.predict_file},
        )
    train_path = hp.train_file or fetch(squad_data.SOURCES[(hp.version, "train")], ctx.data_dir).popitem()[1]
    train = squad_data.load(train_path)
    if hp.dev_articles:
        if hp.dev_articles >= len(train):
            raise UserError(f"{train_path} has only {len(train)} articles", param="dev_articles", value=hp.dev_articles)
        train, dev = train[: -hp.dev_articles], train[-hp.dev_articles :]
    else:
        dev_path = hp.predict_file or fetch(squad_data.SOURCES[(hp.version, "validation")], ctx.data_dir).popitem()[1]
        dev = squad_data.load(dev_path)
    train = [e for article in train for e in article]
    dev = [e for article in dev for e in article]
    if 0 < hp.train_examples < len(train):
        keep = np.random.default_rng(hp.seed).choice(len(train), hp.train_examples, replace=False)
        train = [train[i] for i in sorted(keep)]
    return train, dev


def _data(hp: HParams, ctx: RunContext) -> Data[SquadInfo]:
    from zoo.models.bert_qa import load_vocabulary

    if hp.max_query_length + 3 >= hp.max_seq_length:  # [CLS] question [SEP] context [SEP]
        raise UserError(
            "a window needs room for [CLS], the question, two [SEP] and some context: "
            "max_query_length + 3 must be below max_seq_length",
            params={"max_seq_length": hp.max_seq_length, "max_query_length": hp.max_query_length},
        )
    train_examples, dev_examples = _examples(hp, ctx)
    vocabulary, lowercase = load_vocabulary(hp.preset)
    windows = SquadWindows(vocabulary, lowercase, WindowConfig(hp.max_seq_length, hp.doc_stride, hp.max_query_length))
    train, skipped = squad_features.convert(train_examples, windows, training=True)
    if len(train) == 0:
        raise UserError("no training windows: every training answer was missing from its context")
    train_ds = (
        tf.data.Dataset.from_tensor_slices((train.inputs(), train.targets()))
        .shuffle(len(train), seed=hp.seed, reshuffle_each_iteration=True)
        .batch(hp.batch_size)
    )
    dev_ds = None
    if hp.dev_loss:  # the report answers the dev questions anyway; a loss pass per epoch costs as much again
        dev, _ = squad_features.convert(dev_examples, windows)
        dev_ds = tf.data.Dataset.from_tensor_slices((dev.inputs(), dev.targets())).batch(hp.batch_size)
    steps = -(-len(train) // hp.batch_size)
    if ctx.max_steps:
        steps = min(steps, ctx.max_steps)
    info = SquadInfo(
        vocabulary=vocabulary,
        lowercase=lowercase,
        dev_examples=dev_examples,
        steps_per_epoch=steps,
        train_windows=len(train),
        train_questions=len(train_examples),
        skipped_train_answers=skipped,
    )
    return Data(train=train_ds, validation=dev_ds, info=info)


def _model(hp: HParams, data: Data[SquadInfo]) -> keras.Model:
    from zoo.models.bert_qa import (
        build_bert_qa,
        compile_bert_qa,
        dtype_policy,
        load_backbone,
    )

    # The policy holds while the model is built and compiled (compile wraps the optimizer in a
    # LossScaleOptimizer for mixed_float16); the process's global policy is restored afterwards.
    with dtype_policy("mixed_float16" if hp.mixed_precision else "float32"):
        model = build_bert_qa(load_backbone(hp.preset))
        return compile_bert_qa(
            model,
            learning_rate=hp.learning_rate,
            total_steps=hp.epochs * data.info.steps_per_epoch,
            warmup_fraction=hp.warmup_fraction,
            weight_decay=hp.weight_decay,
        )


def _serving(hp: HParams, data: Data[SquadInfo], trained: keras.Model) -> keras.Model:
    from zoo.squad.serving import SquadServer

    return SquadServer(
        trained,
        data.info.vocabulary,
        data.info.lowercase,
        max_seq_length=hp.max_seq_length,
        doc_stride=hp.doc_stride,
        max_query_length=hp.max_query_length,
        max_answer_length=hp.max_answer_length,
        n_best=hp.n_best,
        version_2=hp.version == 2,
        null_threshold=hp.null_score_diff_threshold,
    )


def _report(hp: HParams, data: Data[SquadInfo], trained: keras.Model, ctx: RunContext) -> dict:
    """Answer every dev question with the serving model, write predictions.json (and null_odds.json), score them.

    The answers come from the same graph the exported SavedModel runs (`zoo.squad.answer` on the
    recipe's serving model), so `predictions.json` is what the SavedModel answers. With
    `--max-steps N` only the first N x batch_size questions are answered (a smoke run).
    """
    examples = data.info.dev_examples
    if ctx.max_steps:
        examples = examples[: ctx.max_steps * hp.batch_size]
    rows = answer(
        _serving(hp, data, trained),
        [e.question for e in examples],
        [e.context for e in examples],
        batch_size=hp.batch_size,
    )
    version_2 = hp.version == 2
    predictions = {e.qid: row["answer"] for e, row in zip(examples, rows)}
    null_odds = {e.qid: float(min(row["null_odds"], 1e9)) for e, row in zip(examples, rows)}
    if ctx.is_chief:
        write_json(Path(ctx.run_dir) / "predictions.json", predictions, sort_keys=False, ensure_ascii=False)
        if version_2:
            write_json(Path(ctx.run_dir) / "null_odds.json", null_odds, sort_keys=False, ensure_ascii=False)
    gold = {e.qid: [text for text, _ in e.answers] for e in examples}
    best_span = {e.qid: row["span"] for e, row in zip(examples, rows)}
    scores = squad_metrics.evaluate(gold, predictions, null_odds if version_2 else None, best_span)
    return {f"dev_{k}": v for k, v in scores.items()}


_HPARAMS = {
    "preset": Param("bert_base_en_uncased", "keras-hub BERT preset or a local Hugging Face BERT folder"),
    "version": Param(1, "SQuAD version", type=int, choices=(1, 2)),
    "train_file": Param("", "local SQuAD-format training JSON (default: the official file)", type=str),
    "predict_file": Param("", "local SQuAD-format dev JSON (default: the official file)", type=str),
    "dev_articles": Param(0, "hold out the last N articles of the training file as the dev set (0 = off)", minimum=0),
    "train_examples": Param(0, "use a seeded random N of the training questions (0 = all)", minimum=0),
    "max_seq_length": Param(384, "tokens per window (BERT's positions: at most 512)", minimum=8, maximum=512),
    "doc_stride": Param(128, "tokens between window starts", minimum=1),
    "max_query_length": Param(64, "question tokens kept", minimum=1),
    "max_answer_length": Param(30, "longest answer in tokens", minimum=1),
    "n_best": Param(20, "start/end candidates per window and answers kept per question", minimum=1),
    "null_score_diff_threshold": Param(0.0, "v2.0: answer '' when null score - best span score exceeds this"),
    "learning_rate": Param(3e-5, "peak AdamW learning rate"),
    "warmup_fraction": Param(0.1, "share of the steps with linear warm-up"),
    "weight_decay": Param(0.01, "AdamW weight decay (not on LayerNorm and biases)"),
    "mixed_precision": Param(False, "mixed_float16 policy (GPUs); logits stay float32"),
    "dev_loss": Param(False, "also compute the dev loss every epoch (val_loss; one more pass over the dev windows)"),
    "epochs": 2,
    "batch_size": 12,
}

register(
    Recipe(
        name="squad_bert",
        chapter=12,
        dataset="SQuAD v1.1 / v2.0",
        summary="BERT fine-tuned for extractive QA; end-to-end SavedModel (question, context) -> answer",
        hparams=_HPARAMS,
        data=_data,
        model=_model,
        serving=_serving,
        report=_report,
    )
)

_TRANSLATION = {**ANKI_PARAMS, **transformer.TRANSLATION_PARAMS, **DECODING_PARAMS, "epochs": 30, "batch_size": 64}
for _name, _dataset, _summary, _require, _dropout in (
    ("transformer_cmn", "anki cmn-eng", "Transformer encoder-decoder, English words -> Chinese characters", False, 0.1),
    ("transformer_translation", "any Anki pair file", "Transformer encoder-decoder on --set pairs=PATH", True, 0.0),
):
    register(
        Recipe(
            name=_name,
            chapter=12,
            dataset=_dataset,
            summary=f"{_summary}; BLEU greedy/beam, strings in and out, cross-attention per layer and head",
            hparams={**_TRANSLATION, "dropout": transformer.dropout_param(_dropout)},
            data=anki_data("word", check=transformer.check_translation, limit_vocabulary=True, require_pairs=_require),
            model=transformer.translation_model,
            serving=serve_strings,
            report=transformer.translation_report_with_heads,
        )
    )

_CLASSIFIER = {
    **{key: param for key, param in TEXT_PARAMS.items() if key != "embedding_dim"},  # model_dim is the width
    **transformer.ARCHITECTURE_PARAMS,
    "model_dim": Param(64, "model width d_model, a multiple of num_heads", minimum=1),
    "ff_dim": Param(128, "position-wise feed-forward width", minimum=1),
    "learning_rate": Param(5e-4, "Adam learning rate", minimum=0.0),
}
register(
    Recipe(
        name="transformer_mr",
        chapter=12,
        dataset="rt-polarity",
        summary="Transformer encoder sentence classifier (masked mean pooling), the book split, raw text in",
        hparams={**_CLASSIFIER, **MR_SPLIT_PARAMS, "epochs": 10, "batch_size": 50},
        data=transformer.classifier_data(mr_data),
        model=transformer.classifier_model,
        serving=serve_text,
        monitor="val_accuracy",
    )
)
register(
    Recipe(
        name="transformer_imdb",
        chapter=12,
        dataset="imdb",
        summary="Transformer encoder classifier on the 25k/25k IMDB reviews, raw text in",
        hparams={
            **_CLASSIFIER,
            "vocab_size": Param(20000, "vocabulary size"),
            "sequence_length": Param(200, "tokens per review"),
            "epochs": 2,
            "batch_size": 32,
        },
        data=transformer.classifier_data(imdb_data),
        model=transformer.classifier_model,
        serving=serve_text,
    )
)

# Issue 25: BERT pre-trained from scratch (masked LM + next sentence), then fine-tuned (zoo.recipes.bert).
register(
    Recipe(
        name="bert_pretrain",
        chapter=12,
        dataset="imdb (training reviews) or any corpus",
        summary="small BERT pre-trained from scratch: WordPiece learned, masked LM + next sentence; fill_mask/encode",
        hparams=bert.PRETRAIN_PARAMS,
        data=bert.pretrain_data,
        model=bert.pretrain_model,
        serving=bert.pretrain_serving,
        report=bert.pretrain_report,
    )
)
for _name, _dataset, _load, _extra in (
    (
        "bert_classifier_mr",
        "rt-polarity",
        bert.mr_texts,
        {
            "sequence_length": Param(64, "tokens per text", minimum=8, maximum=512),
            "tuning_split": Param(
                False, "dev = the last 1,000 training sentences, not the book's dev (for choosing hyper-parameters)"
            ),
            "epochs": 4,
            "batch_size": 32,
        },
    ),
    (
        "bert_classifier_imdb",
        "imdb",
        bert.imdb_texts,
        {"sequence_length": Param(128, "tokens per review", minimum=8, maximum=512), "epochs": 2, "batch_size": 32},
    ),
):
    register(
        Recipe(
            name=_name,
            chapter=12,
            dataset=_dataset,
            summary="BERT fine-tuned (pretrained= a bert_pretrain run, a Hugging Face BERT, or none), raw text in",
            hparams={**bert.CLASSIFIER_PARAMS, **_extra},
            data=bert.classifier_data(_load),
            model=bert.classifier_model,
            serving=bert.classifier_serving,
            report=bert.classifier_report,
            monitor="val_accuracy" if _name.endswith("_mr") else "val_loss",
        )
    )
