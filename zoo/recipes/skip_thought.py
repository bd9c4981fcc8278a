"""The skip-thought recipe's pieces (Kiros et al. 2015; chapter 14 registers `skip_thought`).

Not a chapter: it registers nothing. The encoder-decoders train on consecutive sentences (the IMDB
reviews cut into sentences, or `--set corpus=PATH`); the report scores frozen sentence vectors as the
paper does: a logistic regression, 10-fold cross-validated on rt-polarity (MR), beside averaged
word vectors and, given a paragraph-vector run (`--set paragraph_vectors=RUN/saved_model`), the
vectors its `infer` endpoint gives.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.data import corpus, imdb, rt_polarity
from zoo.data.documents import DocumentInfo, SkipThoughtInfo, encode_documents, skip_thought_data
from zoo.data.pipelines import Data
from zoo.errors import DataNotFound, UserError
from zoo.models.skip_thought import SkipThoughtEncoder, build_skip_thought, compile_skip_thought
from zoo.recipes.base import HParams, Param, RunContext
from zoo.recipes.text_blocks import averaged_vectors, cross_validated_error, errors_png, infer_texts

SKIP_THOUGHT_PARAMS = {
    "epochs": Param(1, "passes over the sentence triples", minimum=1, maximum=1000),
    "batch_size": Param(128, "triples per batch (global)", minimum=1, maximum=1 << 16),
    "corpus": Param("", "texts of several sentences (file, folder or archive); default: the IMDB reviews", type=str),
    "corpus_pattern": Param("*.txt", "files to read inside a folder or archive (fnmatch)"),
    "vocab_size": Param(20_000, "vocabulary incl. padding and OOV (the paper: 20,000)", minimum=3, maximum=1 << 20),
    "sequence_length": Param(30, "words kept per sentence", minimum=2, maximum=1000),
    "embedding_dim": Param(128, "word embedding size (the paper: 620)", minimum=1, maximum=4096),
    "units": Param(256, "GRU units = sentence vector size (the paper: 2,400)", minimum=1, maximum=8192),
    "max_triples": Param(200_000, "sentence triples sampled for training (0 = all)", minimum=0, maximum=1 << 30),
    "learning_rate": Param(1e-3, "Adam learning rate", minimum=0.0, maximum=1.0, exclusive_minimum=True),
    "clipnorm": Param(10.0, "gradient norm clipping (the paper: 10; 0 = off)", minimum=0.0, maximum=1e6),
    "folds": Param(10, "cross-validation folds of the rt-polarity evaluation (the paper: 10)", minimum=2, maximum=50),
    "word_vectors": Param("", "word2vec text file (chapter 6's vectors.txt): adds its averaged vectors", type=str),
    "paragraph_vectors": Param(
        "", "a paragraph-vector SavedModel (RUN/saved_model): adds its inferred vectors to the evaluation", type=str
    ),
}


def skip_thought_corpus_data(hp: HParams, ctx: RunContext) -> Data[SkipThoughtInfo]:
    for name in ("word_vectors", "paragraph_vectors"):
        if getattr(hp, name) and not Path(getattr(hp, name)).expanduser().exists():
            raise UserError("no such file or folder", param=name, value=getattr(hp, name))
    if hp.corpus:
        texts, source = corpus.read_texts(hp.corpus, hp.corpus_pattern)[0], Path(hp.corpus).name
    else:
        splits = imdb.load(ctx.data_dir)
        texts, source = splits["train"][0] + splits["test"][0], "IMDB"
    return skip_thought_data(
        texts,
        vocab_size=hp.vocab_size,
        sequence_length=hp.sequence_length,
        batch_size=hp.batch_size,
        max_triples=hp.max_triples,
        seed=hp.seed,
        source=source,
    )


def skip_thought_model(hp: HParams, data: Data[SkipThoughtInfo]) -> keras.Model:
    model = build_skip_thought(
        vocab_size=hp.vocab_size, embedding_dim=hp.embedding_dim, units=hp.units, sequence_length=hp.sequence_length
    )
    return compile_skip_thought(model, learning_rate=hp.learning_rate, clipnorm=hp.clipnorm)


def skip_thought_serving(hp: HParams, data: Data[SkipThoughtInfo], model: keras.Model) -> keras.Model:
    return SkipThoughtEncoder(data.info.vectorizer, model)


def skip_thought_report(hp: HParams, data: Data[SkipThoughtInfo], model: keras.Model, ctx: RunContext) -> dict:
    metrics: dict = {"triples": data.info.triples, "vocabulary_size": len(data.info.vocabulary)}
    try:
        texts, labels = rt_polarity.load(ctx.data_dir)
    except DataNotFound as error:
        print(f"rt-polarity evaluation skipped: {error}", flush=True)
        return {**metrics, "rt_polarity_skipped": str(error).splitlines()[0]}
    if ctx.max_steps:  # smoke run: a few snippets of each class
        pick = np.r_[0:100, len(texts) - 100 : len(texts)]
        texts, labels = [texts[i] for i in pick], labels[pick]
    encoder = skip_thought_serving(hp, data, model)
    rows = {"skip-thought": infer_texts(encoder, texts)}
    # averaged vectors: the mean of the skip-thought model's own word embeddings over each snippet
    ids = np.asarray(data.info.vectorizer(tf.constant(texts)))
    table = np.asarray(model.get_layer("embedding").embeddings)
    known = (ids > 1)[..., None]
    rows["averaged skip-thought word embeddings"] = (table[ids] * known).sum(1) / np.maximum(known.sum(1), 1)
    if hp.word_vectors:
        vocabulary, _, _, _ = encode_documents([corpus.tokenize(t) for t in texts], min_count=1, max_vocab=1 << 24)
        info = DocumentInfo(vocabulary.words, vocabulary.counts, len(texts), 0, 0, 0, texts=texts)
        rows["averaged word vectors (word_vectors)"] = averaged_vectors(hp.word_vectors, info)
    if hp.paragraph_vectors:
        loaded = tf.saved_model.load(str(Path(hp.paragraph_vectors).expanduser()))  # kept: its variables
        rows["paragraph vectors (inferred)"] = infer_texts(loaded.infer, texts)
    errors = {name: cross_validated_error(x, labels, hp.folds, hp.seed) for name, x in rows.items()}
    metrics["rt_polarity_cv_error"] = {name: round(e, 5) for name, e in errors.items()}
    metrics["rt_polarity_cv_accuracy_skip_thought"] = round(1 - errors["skip-thought"], 5)
    if ctx.is_chief:
        errors_png(Path(ctx.run_dir) / "rt_polarity.png", errors, f"rt-polarity, {hp.folds}-fold CV: error")
    return metrics
