"""The sequence autoencoder recipe's pieces (Dai & Le 2015; chapter 14 registers `sequence_autoencoder`).

Not a chapter: it registers nothing. The autoencoder trains on the sentences skip-thought reads (the
IMDB reviews cut into sentences, or `--set corpus=PATH`: `zoo.recipes.text_blocks.corpus_texts`),
and its report scores the frozen encoder exactly as skip-thought's does (`sentence_vectors_report`:
a logistic regression, 10-fold cross-validated on rt-polarity), so chapter 14's table gets a row
comparable with skip-thought's. Then Dai & Le's own test (`finetune_epochs` > 0): an LSTM classifier
whose embedding and LSTM start from the autoencoder's (SA-LSTM), and the same classifier from
random weights, both fine-tuned on rt-polarity's book split with the same budget and scored on its
1,000 held-out snippets.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.data import rt_polarity
from zoo.data.documents import SentenceInfo, sequence_autoencoder_data
from zoo.data.pipelines import Data
from zoo.data.text import encode
from zoo.models.classifier import compile_classifier
from zoo.models.sentence_encoder import SentenceEncoder
from zoo.models.sequence_autoencoder import (
    build_sentence_classifier,
    build_sequence_autoencoder,
    compile_sequence_autoencoder,
)
from zoo.recipes.base import HParams, Param, RunContext
from zoo.recipes.text_blocks import SENTENCE_CORPUS_PARAMS, corpus_texts, sentence_vectors_report

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
    "learning_rate": Param(
        1e-3, "Adam learning rate (autoencoder and classifiers)", minimum=0.0, maximum=1.0, exclusive_minimum=True
    ),
    "clipnorm": Param(10.0, "gradient norm clipping of the autoencoder (0 = off)", minimum=0.0, maximum=1e6),
    "finetune_epochs": Param(
        3,
        "epochs of each rt-polarity LSTM classifier, from the autoencoder's weights and from random ones (0 = off)",
        minimum=0,
        maximum=100,
    ),
    "finetune_batch_size": Param(50, "snippets per batch of the fine-tuned classifiers", minimum=1, maximum=1 << 14),
    "dropout": Param(
        0.5, "dropout on the fine-tuned classifiers' sentence vector", minimum=0.0, maximum=1.0, exclusive_maximum=True
    ),
}


def sequence_autoencoder_corpus_data(hp: HParams, ctx: RunContext) -> Data[SentenceInfo]:
    texts, source = corpus_texts(hp, ctx)
    return sequence_autoencoder_data(
        texts,
        vocab_size=hp.vocab_size,
        sequence_length=hp.sequence_length,
        batch_size=hp.batch_size,
        max_sentences=hp.max_sentences,
        seed=hp.seed,
        source=source,
    )


def sequence_autoencoder_model(hp: HParams, data: Data[SentenceInfo]) -> keras.Model:
    model = build_sequence_autoencoder(
        vocab_size=hp.vocab_size, embedding_dim=hp.embedding_dim, units=hp.units, sequence_length=hp.sequence_length
    )
    return compile_sequence_autoencoder(model, learning_rate=hp.learning_rate, clipnorm=hp.clipnorm)


def sequence_autoencoder_serving(hp: HParams, data: Data[SentenceInfo], model: keras.Model) -> keras.Model:
    return SentenceEncoder(data.info.vectorizer, model, name="sequence_autoencoder_encoder")


def finetune_accuracies(
    hp: HParams, data: Data[SentenceInfo], model: keras.Model, ctx: RunContext, texts: list[str], labels: np.ndarray
) -> dict:
    """Held-out accuracy by epoch of the LSTM classifier from the autoencoder's weights and from random ones.

    The snippets go through the autoencoder's vectoriser; rt-polarity's book split (the last 1,000
    of a seed-10 permutation held out, as chapter 9's `lstm_mr`) unless it is a smoke run's 200
    snippets (a quarter held out). Both classifiers start from the same seed, so their output
    layers, dropout masks and batch order are the same: only the starting weights differ.
    """
    if not hp.finetune_epochs:
        return {}
    ids = encode(data.info.vectorizer, texts)
    train, held = rt_polarity.book_split(len(texts), dev_size=min(rt_polarity.BOOK_DEV_SIZE, len(texts) // 4))
    accuracy = {}
    for name, pretrained in {"sequence autoencoder (SA-LSTM)": model, "random (LSTM)": None}.items():
        keras.utils.set_random_seed(hp.seed)
        classifier = build_sentence_classifier(
            vocab_size=hp.vocab_size,
            embedding_dim=hp.embedding_dim,
            units=hp.units,
            sequence_length=hp.sequence_length,
            dropout=hp.dropout,
            pretrained=pretrained,
        )
        compile_classifier(classifier, num_classes=2, learning_rate=hp.learning_rate)
        history = classifier.fit(
            ids[train],
            labels[train],
            validation_data=(ids[held], labels[held]),
            batch_size=hp.finetune_batch_size,
            epochs=hp.finetune_epochs,
            steps_per_epoch=ctx.max_steps,
            verbose=0,
        ).history
        accuracy[name] = [round(float(a), 5) for a in history["val_accuracy"]]
        print(f"fine-tuned from {name}: held-out accuracy by epoch {accuracy[name]}", flush=True)
    return {
        "finetune_held_out": int(len(held)),
        "finetune_accuracy": {name: a[-1] for name, a in accuracy.items()},
        "finetune_accuracy_by_epoch": accuracy,
    }


def sequence_autoencoder_report(hp: HParams, data: Data[SentenceInfo], model: keras.Model, ctx: RunContext) -> dict:
    encoder = sequence_autoencoder_serving(hp, data, model)
    return {
        "sentences": data.info.examples,
        **sentence_vectors_report(
            hp,
            data,
            model,
            ctx,
            encoder,
            "sequence autoencoder",
            more=lambda texts, labels: finetune_accuracies(hp, data, model, ctx, texts, labels),
        ),
    }
