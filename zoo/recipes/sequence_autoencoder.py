"""The sequence autoencoder's recipes' pieces (Dai & Le 2015; chapter 14 registers `sequence_autoencoder`
and `sa_lstm_mr`).

Not a chapter: it registers nothing. The autoencoder trains on the sentences skip-thought reads (the
IMDB reviews cut into sentences, or `--set corpus=PATH`: `zoo.recipes.text_blocks.corpus_texts`),
and its report scores the frozen encoder exactly as skip-thought's does (`sentence_vectors_report`:
a logistic regression, 10-fold cross-validated on rt-polarity), so chapter 14's table gets a row
comparable with skip-thought's. Its run folder keeps the vectoriser's vocabulary (`vocab.txt`) beside
`model.keras`.

Dai & Le's own test is `sa_lstm_mr`: their LSTM classifier on rt-polarity's book split (chapter 9's
`lstm_mr` split), trained by the driver, started from a finished autoencoder run
(`--set autoencoder=RUN_DIR`: its vocabulary, embedding and encoder LSTM; SA-LSTM) or from random
weights with a vocabulary learned on the training snippets (`--set autoencoder=none`: their LSTM
baseline).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras

from zoo.data.bert_pretraining import VOCABULARY_FILE, write_vocabulary
from zoo.data.pipelines import Data
from zoo.data.sentence_decoders import SentenceInfo, sequence_autoencoder_data
from zoo.data.text import TextInfo, dataset, encode, vectorizer
from zoo.models.classifier import compile_classifier
from zoo.models.sentence_encoder import SentenceEncoder
from zoo.models.sequence_autoencoder import (
    AutoencoderRun,
    build_sentence_classifier,
    build_sequence_autoencoder,
    compile_sequence_autoencoder,
    load_autoencoder_run,
)
from zoo.recipes.base import HParams, Param, RunContext
from zoo.recipes.text_blocks import SENTENCE_CORPUS_PARAMS, corpus_texts, sentence_vectors_report
from zoo.recipes.text_classification import MR_SPLIT_PARAMS, mr_splits

SEQUENCE_AUTOENCODER_PARAMS = {
    "epochs": Param(1, "passes over the sentences", minimum=1, maximum=1000),
    "batch_size": Param(128, "sentences per batch (global)", minimum=1, maximum=1 << 16),
    **SENTENCE_CORPUS_PARAMS,
    "vocab_size": Param(
        20_000, "vocabulary incl. padding and OOV (skip_thought's default)", minimum=3, maximum=1 << 20
    ),
    "sequence_length": Param(30, "words kept per sentence", minimum=2, maximum=1000),
    "embedding_dim": Param(128, "word embedding size, shared by encoder and decoder", minimum=1, maximum=4096),
    "units": Param(256, "LSTM units of encoder and decoder = sentence vector size", minimum=1, maximum=8192),
    "max_sentences": Param(60_000, "sentences sampled for training (0 = all)", minimum=0, maximum=1 << 30),
    "learning_rate": Param(1e-3, "Adam learning rate", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    "clipnorm": Param(10.0, "gradient norm clipping (0 = off)", minimum=0.0, maximum=1e6),
}


def sequence_autoencoder_corpus_data(hp: HParams, ctx: RunContext) -> Data[SentenceInfo]:
    """The corpus's sentences as autoencoder batches; the chief keeps the vocabulary in the run folder
    (`vocab.txt`), which `sa_lstm_mr` rebuilds the vectoriser from."""
    texts, source = corpus_texts(hp, ctx)
    data = sequence_autoencoder_data(
        texts,
        vocab_size=hp.vocab_size,
        sequence_length=hp.sequence_length,
        batch_size=hp.batch_size,
        max_sentences=hp.max_sentences,
        seed=hp.seed,
        source=source,
    )
    if ctx.is_chief:
        write_vocabulary(Path(ctx.run_dir) / VOCABULARY_FILE, data.info.vocabulary)
    return data


def sequence_autoencoder_model(hp: HParams, data: Data[SentenceInfo]) -> keras.Model:
    model = build_sequence_autoencoder(
        vocab_size=hp.vocab_size, embedding_dim=hp.embedding_dim, units=hp.units, sequence_length=hp.sequence_length
    )
    return compile_sequence_autoencoder(model, learning_rate=hp.learning_rate, clipnorm=hp.clipnorm)


def sequence_autoencoder_serving(hp: HParams, data: Data[SentenceInfo], model: keras.Model) -> keras.Model:
    return SentenceEncoder(data.info.vectorizer, model, name="sequence_autoencoder_encoder")


def sequence_autoencoder_report(hp: HParams, data: Data[SentenceInfo], model: keras.Model, ctx: RunContext) -> dict:
    encoder = sequence_autoencoder_serving(hp, data, model)
    return {
        "sentences": data.info.examples,
        **sentence_vectors_report(hp, data, model, ctx, encoder, "sequence autoencoder"),
    }


# ---------------------------------------------------------------- sa_lstm_mr

SA_LSTM_PARAMS = {
    "autoencoder": Param(
        "none",
        "a finished sequence_autoencoder run folder whose vocabulary, embedding and encoder LSTM start the "
        "classifier (SA-LSTM), or none (random weights, vocabulary learned on the training snippets)",
    ),
    "epochs": Param(5, "passes over the training snippets", minimum=1, maximum=1000),
    "batch_size": Param(50, "snippets per batch (global)", minimum=1, maximum=1 << 14),
    "sequence_length": Param(56, "words kept per snippet (lstm_mr's 56)", minimum=1, maximum=1000),
    "learning_rate": Param(1e-3, "Adam learning rate", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    "dropout": Param(
        0.5, "dropout on the sentence vector before the output", minimum=0.0, maximum=1.0, exclusive_maximum=True
    ),
    # Only for autoencoder=none, defaulting to the autoencoder's (the same network); a run's sizes are its own.
    **{
        name: dataclasses.replace(SEQUENCE_AUTOENCODER_PARAMS[name], help=f"autoencoder=none only: {text}")
        for name, text in (
            ("vocab_size", "vocabulary learned on the training snippets, incl. padding and OOV"),
            ("embedding_dim", "word embedding size"),
            ("units", "LSTM units = sentence vector size"),
        )
    },
    **MR_SPLIT_PARAMS,
}


@dataclasses.dataclass
class SALSTMInfo(TextInfo):
    """`TextInfo` of the snippets, plus the autoencoder run the classifier starts from (None: random
    weights) and the share of the training snippets' words its vocabulary does not know."""

    autoencoder: AutoencoderRun | None = None
    unknown_word_rate: float = 0.0


def sa_lstm_data(hp: HParams, ctx: RunContext) -> Data[SALSTMInfo]:
    """rt-polarity as `(ids, label)`, `lstm_mr`'s split; the vectoriser is the autoencoder's vocabulary or
    adapted on the training snippets. The autoencoder run is checked before any data is read."""
    run = None if hp.autoencoder.lower() == "none" else load_autoencoder_run(hp.autoencoder)
    train, held_out = mr_splits(hp, ctx)
    if run is None:
        layer = vectorizer(train[0], hp.vocab_size, hp.sequence_length)
    else:  # the standardisation and split of `zoo.data.text.vectorizer`, which the autoencoder's was
        layer = keras.layers.TextVectorization(
            vocabulary=run.vocabulary, output_sequence_length=hp.sequence_length, name="vectorizer"
        )
    ids = encode(layer, train[0])
    info = SALSTMInfo(
        vectorizer=layer,
        vocabulary=layer.get_vocabulary(),
        sequence_length=hp.sequence_length,
        class_names=["negative", "positive"],
        texts={"validation": held_out[0], "test": None},
        autoencoder=run,
        unknown_word_rate=float((ids == 1).sum() / max((ids > 0).sum(), 1)),
    )
    return Data(
        train=dataset(ids, train[1], hp.batch_size, shuffle=True, seed=hp.seed),
        validation=dataset(encode(layer, held_out[0]), held_out[1], hp.batch_size),
        info=info,
    )


def sa_lstm_model(hp: HParams, data: Data[SALSTMInfo]) -> keras.Model:
    """`build_sentence_classifier` with the autoencoder's sizes and weights, or from random weights."""
    run = data.info.autoencoder
    sizes = (
        run.sizes if run else {"vocab_size": data.info.vocab_size, "embedding_dim": hp.embedding_dim, "units": hp.units}
    )
    model = build_sentence_classifier(
        **sizes,
        sequence_length=hp.sequence_length,
        dropout=hp.dropout,
        pretrained=run.model if run else None,
    )
    return compile_classifier(model, num_classes=2, learning_rate=hp.learning_rate)


def sa_lstm_report(hp: HParams, data: Data[SALSTMInfo], model: keras.Model, ctx: RunContext) -> dict:
    """Where the classifier started, its sizes, and how much of the snippets' text its vocabulary knows."""
    info, run = data.info, data.info.autoencoder
    return {
        "autoencoder": run.location if run else "none",
        "vocabulary_size": info.vocab_size,
        "embedding_dim": run.embedding_dim if run else hp.embedding_dim,
        "units": run.units if run else hp.units,
        "unknown_word_rate": round(info.unknown_word_rate, 5),
    }
