"""The skip-thought recipe's pieces (Kiros et al. 2015; chapter 14 registers `skip_thought`).

Not a chapter: it registers nothing. The encoder-decoders train on consecutive sentences (the IMDB
reviews cut into sentences, or `--set corpus=PATH`); the report scores frozen sentence vectors as the
paper does: a logistic regression, 10-fold cross-validated on rt-polarity (MR), beside averaged
word vectors and, given a paragraph-vector run (`--set paragraph_vectors=RUN` or `RUN/saved_model`), the
vectors its `infer` endpoint gives (`zoo.recipes.text_blocks.sentence_vectors_report`, which the
sequence autoencoder's report shares).
"""

from __future__ import annotations

import keras

from zoo.data.pipelines import Data
from zoo.data.sentence_decoders import SentenceInfo, skip_thought_data
from zoo.models.skip_thought import SkipThoughtEncoder, build_skip_thought, compile_skip_thought
from zoo.recipes.base import HParams, Param, RunContext
from zoo.recipes.text_blocks import SENTENCE_CORPUS_PARAMS, corpus_texts, sentence_vectors_report

SKIP_THOUGHT_PARAMS = {
    "epochs": Param(1, "passes over the sentence triples", minimum=1, maximum=1000),
    "batch_size": Param(128, "triples per batch (global)", minimum=1, maximum=1 << 16),
    **SENTENCE_CORPUS_PARAMS,
    "vocab_size": Param(20_000, "vocabulary incl. padding and OOV (the paper: 20,000)", minimum=3, maximum=1 << 20),
    "sequence_length": Param(30, "words kept per sentence", minimum=2, maximum=1000),
    "embedding_dim": Param(128, "word embedding size (the paper: 620)", minimum=1, maximum=4096),
    "units": Param(256, "GRU units = sentence vector size (the paper: 2,400)", minimum=1, maximum=8192),
    "layer_norm": Param(True, "layer-normalised GRUs (false: Keras' GRU, whose encoder collapses here)"),
    "max_triples": Param(200_000, "sentence triples sampled for training (0 = all)", minimum=0, maximum=1 << 30),
    "learning_rate": Param(1e-3, "Adam learning rate", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    "clipnorm": Param(10.0, "gradient norm clipping (the paper: 10; 0 = off)", minimum=0.0, maximum=1e6),
}


def skip_thought_corpus_data(hp: HParams, ctx: RunContext) -> Data[SentenceInfo]:
    texts, source = corpus_texts(hp, ctx)
    return skip_thought_data(
        texts,
        vocab_size=hp.vocab_size,
        sequence_length=hp.sequence_length,
        batch_size=hp.batch_size,
        max_triples=hp.max_triples,
        seed=hp.seed,
        source=source,
    )


def skip_thought_model(hp: HParams, data: Data[SentenceInfo]) -> keras.Model:
    model = build_skip_thought(
        vocab_size=hp.vocab_size,
        embedding_dim=hp.embedding_dim,
        units=hp.units,
        sequence_length=hp.sequence_length,
        layer_norm=hp.layer_norm,
    )
    return compile_skip_thought(model, learning_rate=hp.learning_rate, clipnorm=hp.clipnorm)


def skip_thought_serving(hp: HParams, data: Data[SentenceInfo], model: keras.Model) -> keras.Model:
    return SkipThoughtEncoder(data.info.vectorizer, model)


def skip_thought_report(hp: HParams, data: Data[SentenceInfo], model: keras.Model, ctx: RunContext) -> dict:
    encoder = skip_thought_serving(hp, data, model)
    return {"triples": data.info.examples, **sentence_vectors_report(hp, data, model, ctx, encoder, "skip-thought")}
