"""Chapter 6 recipes: word2vec with negative sampling, skip-gram and CBOW, on text8, PTB or any text corpus.

By default groups of `group_size` examples share `negatives` negative samples (`zoo.models.shared_negatives`,
issue 28); `step=per_pair` trains skip-gram with fresh negatives for every pair (the zoo's first step).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

import keras

from zoo.callbacks import NearestNeighbours
from zoo.data import analogy, corpus, ptb, text8
from zoo.data.skipgrams import (
    SkipgramInfo,
    cbow_dataset,
    encode_corpus,
    expected_centres,
    expected_pairs,
    keep_probabilities,
    skipgram_dataset,
)
from zoo.errors import UserError
from zoo.json_files import write_json
from zoo.metrics.analogy import analogy_accuracy
from zoo.models import word2vec
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register
from zoo.serving.word2vec import serving_model
from zoo.visualize.embeddings import plot_pca

GROUP_SIZE = 16  # the recipes' default `group_size`
# Without a cap a batch sums every update of a row at once, and PTB's frequent words (in hundreds of a
# batch's examples) diverged: cbow_ptb and skipgram_ptb reached a loss of 1e19 or NaN in their first epoch.
# At 64 both learn (PTB, 3 epochs: validation loss 0.364 CBOW, 0.410 skip-gram); CBOW diverged at 256.
ROW_CAP = 64.0
_COMMON = {
    "epochs": 5,
    "step": Param(
        "shared",
        "shared: groups of group_size examples share their negatives (issue 28); per_pair: every pair draws "
        "its own (skip-gram only; the zoo's first step)",
        choices=("shared", "per_pair"),
    ),
    "group_size": Param(
        GROUP_SIZE,
        "examples sharing one set of negatives (step=shared only; 1 = word2vec's own)",
        minimum=1,
        maximum=1 << 16,
    ),
    "row_cap": Param(
        ROW_CAP,
        "examples' worth of update a word's vector may take per batch (step=shared; 0 = no cap, word2vec's sum)",
        minimum=0.0,
    ),
    "dim": Param(100, "embedding size (the book: 300)"),
    "window": Param(5, "maximum window; each target draws b in [1, window] (the book: 1)"),
    "negatives": Param(5, "negative samples per example (shared by its group), from unigram^0.75"),
    "max_vocab": Param(50_000, "vocabulary size including [UNK] at 0 (the book: 50,000)"),
    "min_count": Param(5, "words seen fewer times are [UNK]"),
    "learning_rate": Param(0.025, "word2vec's per-pair SGD rate, decayed linearly (word2vec.c: 0.025)"),
    "jit_compile": Param(True, "XLA-compile the train step (about 2x faster on CPU)"),
    "steps_per_execution": Param(
        word2vec.STEPS_PER_EXECUTION,
        "batches per call of the compiled step (1 under a multi-replica strategy)",
        minimum=1,
    ),
    "neighbours": Param(8, "nearest neighbours printed per probe word each epoch"),
    "analogy_restrict": Param(30_000, "analogy questions use the most frequent words only (compute-accuracy: 30,000)"),
}


def _check_vocabulary(hp: HParams, words: Sequence[str], source: str) -> None:
    """Refuse a vocabulary that the callbacks, report or export would fail on after training."""
    corpus = source or "the corpus"
    if len(words) < 2:
        raise UserError(
            f"no word of {corpus} occurs min_count times: the vocabulary would be [UNK] alone; "
            f"lower min_count or use a larger corpus",
            param="min_count",
            value=hp.min_count,
        )
    if hp.neighbours > len(words) - 2:  # a probe's neighbours exclude [UNK] and the probe itself
        raise UserError(
            f"{corpus} has {len(words) - 1} words seen min_count={hp.min_count} times, too few for "
            f"that many neighbours of a word; lower neighbours or min_count",
            param="neighbours",
            value=hp.neighbours,
        )


def check_settings(hp: HParams, architecture: str) -> None:
    """Refuse step/group settings that cannot work, before any data is read."""
    if architecture == "cbow" and hp.step == "per_pair":
        raise UserError("CBOW trains with step=shared only (per_pair is the skip-gram step)", param="step")
    # HParams do not say which values were given, so a group size other than the default stands for one that
    # was (an explicit 16 goes unnoticed, and changes nothing); the default never trips this.
    if hp.step == "per_pair" and hp.group_size != GROUP_SIZE:
        raise UserError(
            "step=per_pair draws its own negatives for every pair: group_size applies to step=shared only",
            params={"step": hp.step, "group_size": hp.group_size},
        )
    if hp.step == "per_pair" and hp.row_cap != ROW_CAP:
        raise UserError(
            "step=per_pair applies Keras' own update: row_cap applies to step=shared only",
            params={"step": hp.step, "row_cap": hp.row_cap},
        )
    if hp.step == "shared" and hp.batch_size % hp.group_size:
        raise UserError(
            f"batch_size must be a multiple of group_size={hp.group_size}", param="batch_size", value=hp.batch_size
        )


def word2vec_data(
    hp: HParams,
    ctx: RunContext,
    train: Iterable[Sequence[str]],
    validation: Iterable[Sequence[str]] | None = None,
    unk_token: str | None = None,
    source: str = "",
    architecture: str = "skipgram",
) -> Data[SkipgramInfo]:
    """Skip-gram pairs or CBOW windows of tokenised documents `train` (and `validation`), vocabulary from `train`.

    Public so that a benchmark can feed its own documents through the recipes' exact pipeline.
    """
    check_settings(hp, architecture)
    vocabulary, ids, segments = encode_corpus(train, hp.max_vocab, hp.min_count, unk_token=unk_token)
    _check_vocabulary(hp, vocabulary.words, source)
    settings = dict(
        window=hp.window, negatives=hp.negatives, subsample=hp.subsample, batch_size=hp.batch_size, seed=hp.seed
    )
    keep = keep_probabilities(vocabulary.counts, hp.subsample)
    if architecture == "cbow":
        make, examples, what = cbow_dataset, expected_centres(vocabulary.counts, keep), "centre words"
        settings["group_size"] = hp.group_size
    else:
        make, examples, what = skipgram_dataset, expected_pairs(vocabulary.counts, keep, hp.window), "pairs"
        settings["group_size"] = hp.group_size if hp.step == "shared" else None
    train_ds = make(ids, segments, vocabulary, **settings)
    validation_ds = None
    if validation is not None:
        validation_ids, validation_segments = vocabulary.encode(validation, unk_token=unk_token)
        validation_ds = make(validation_ids, validation_segments, vocabulary, shuffle=False, **settings)
    if examples < hp.batch_size:  # the pipeline drops a partial batch: training would see no data
        raise UserError(
            f"{source or 'the corpus'} gives about {examples:.0f} {what} per epoch, "
            f"fewer than one batch; lower batch_size or use a larger corpus",
            param="batch_size",
            value=hp.batch_size,
        )
    full_steps = steps = max(1, int(examples // hp.batch_size))
    if ctx.max_steps:
        steps = min(steps, ctx.max_steps)
    info = SkipgramInfo(
        vocabulary=vocabulary.words,
        counts=vocabulary.counts,
        tokens=int(len(ids)),
        steps_per_epoch=steps,
        source=source,
        full_steps_per_epoch=full_steps,
    )
    return Data(train=train_ds, validation=validation_ds, info=info)


def _model(hp: HParams, data: Data[SkipgramInfo]) -> keras.Model:
    vocab_size, decay_steps = len(data.info.vocabulary), hp.epochs * data.info.steps_per_epoch
    if hp.step == "shared":
        model = word2vec.build_word2vec(vocab_size=vocab_size, dim=hp.dim, row_cap=hp.row_cap or None)
        return word2vec.compile_word2vec(
            model,
            learning_rate=hp.learning_rate,
            decay_steps=decay_steps,
            jit_compile=hp.jit_compile,
            steps_per_execution=hp.steps_per_execution,
        )
    model = word2vec.build_skipgram(vocab_size=vocab_size, dim=hp.dim, negatives=hp.negatives)
    return word2vec.compile_skipgram(
        model,
        learning_rate=hp.learning_rate,
        batch_size=hp.batch_size,
        decay_steps=decay_steps,
        jit_compile=hp.jit_compile,
        steps_per_execution=hp.steps_per_execution,
    )


class _TrainingClock(keras.callbacks.Callback):
    """Wall seconds spent in training epochs (the neighbour printing after each epoch excluded), for the report."""

    def __init__(self):
        super().__init__()
        self.seconds, self.epochs, self._start = 0.0, 0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start
        self.epochs += 1
        _CLOCKS[self.model] = self


_CLOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its clock, read by _report


def _callbacks(hp: HParams, data: Data[SkipgramInfo]) -> list:
    return [_TrainingClock(), NearestNeighbours(data.info.vocabulary, hp.probes, hp.neighbours)]


def _serving(hp: HParams, data: Data[SkipgramInfo], model: keras.Model) -> keras.Model:
    return serving_model(data.info.vocabulary, word2vec.word_vectors(model))


def _report(hp: HParams, data: Data[SkipgramInfo], model: keras.Model, ctx: RunContext) -> dict:
    vocabulary, matrix = data.info.vocabulary, word2vec.word_vectors(model)
    run = Path(ctx.run_dir)
    metrics: dict = {
        "vocabulary_size": len(vocabulary),
        "corpus_tokens": data.info.tokens,
        "oov_tokens": data.info.oov_tokens,
    }
    clock = _CLOCKS.get(model)
    if clock is not None and clock.seconds > 0:  # absent when an earlier attempt finished training
        metrics["train_seconds"] = round(clock.seconds, 3)
        passes = (
            clock.epochs * data.info.steps_per_epoch / (data.info.full_steps_per_epoch or data.info.steps_per_epoch)
        )
        metrics["train_words_per_second"] = round(data.info.tokens * passes / clock.seconds, 1)
    if ctx.is_chief:
        word2vec.write_word2vec(run / "vectors.txt", vocabulary, matrix)
        word2vec.write_projector(run, vocabulary, matrix)
        title = "CBOW" if hp.architecture == "cbow" else "skip-gram"
        plot_pca(run / "pca.png", vocabulary, matrix, title=f"{title} {data.info.source}: PCA")
    probes = [w for w in hp.probes if w in set(vocabulary)]
    if probes:
        index = {w: i for i, w in enumerate(vocabulary)}
        top, sims = word2vec.nearest(matrix, [index[w] for w in probes], hp.neighbours)
        neighbours = {
            w: [[vocabulary[j], round(float(s), 4)] for j, s in zip(row, sim)] for w, row, sim in zip(probes, top, sims)
        }
        if ctx.is_chief:
            write_json(run / "neighbours.json", neighbours, sort_keys=False, indent=1)
    try:
        questions = analogy.load(ctx.data_dir)
    except FileNotFoundError as error:
        print(f"analogy evaluation skipped: {error}", flush=True)
        return {**metrics, "analogy_skipped": str(error).splitlines()[0]}
    if ctx.max_steps:  # smoke run: a few questions per section
        questions = {name: qs[:20] for name, qs in questions.items()}
    scores = analogy_accuracy(vocabulary, matrix, questions, restrict=hp.analogy_restrict)
    metrics.update({f"analogy_{k}": v for k, v in scores.items() if k != "sections"})
    metrics["analogy_sections"] = scores["sections"]
    return metrics


def _recipe(name: str, dataset: str, summary: str, data, **hparams) -> Recipe:
    return register(
        Recipe(
            name=name,
            chapter=6,
            dataset=dataset,
            summary=summary,
            hparams={**_COMMON, **hparams},
            data=data,
            model=_model,
            serving=_serving,
            report=_report,
            callbacks=_callbacks,
        )
    )


def _text8_data(architecture: str):
    def data(hp: HParams, ctx: RunContext) -> Data[SkipgramInfo]:
        check_settings(hp, architecture)
        path = Path(hp.corpus) if hp.corpus else text8.load(ctx.data_dir)
        return word2vec_data(hp, ctx, text8.read_documents(path), source="text8", architecture=architecture)

    return data


def _ptb_data(architecture: str):
    def data(hp: HParams, ctx: RunContext) -> Data[SkipgramInfo]:
        check_settings(hp, architecture)
        splits = ptb.load(ctx.data_dir)
        return word2vec_data(
            hp, ctx, splits["train"], splits["validation"], "<unk>", source="PTB", architecture=architecture
        )

    return data


def _corpus_data(architecture: str):
    def data(hp: HParams, ctx: RunContext) -> Data[SkipgramInfo]:
        check_settings(hp, architecture)
        if not hp.corpus:
            raise UserError(
                f"{architecture}_corpus needs a text file, a folder, or a .tar.gz/.zip of texts", param="corpus"
            )
        texts, _ = corpus.read_texts(hp.corpus, hp.corpus_pattern)
        return word2vec_data(hp, ctx, corpus.documents(texts), source=Path(hp.corpus).name, architecture=architecture)

    return data


_CBOW = {
    "batch_size": Param(1024, "CBOW centre words per batch (global)", minimum=1, maximum=1 << 20),
    "learning_rate": Param(0.05, "word2vec's per-example SGD rate, decayed linearly (word2vec.c's CBOW: 0.05)"),
    "architecture": Param("cbow", "the context words' mean predicts the centre word", choices=("cbow",)),
}
# Issue 28's sweeps (RESULTS.md): skip-gram learns as well from batches of 16,384 pairs in groups of 16, at 1.4x
# the words/s of 4,096. CBOW learns best from small batches in groups of 16: 1,024 windows (3.92% analogies
# after an epoch of the IMDB reviews; 4,096 with the row cap 3.43%); it stopped learning with groups of 256 or
# batches of 16,384 (its context rows take the summed updates of every window).
_SKIPGRAM = {
    "architecture": Param("skipgram", "the target word predicts each context word", choices=("skipgram",)),
    "batch_size": Param(16_384, "skip-gram pairs per batch (global)", minimum=1, maximum=1 << 20),
}
_TEXT8 = dict(
    subsample=Param(1e-4, "sub-sampling threshold t (1e-5 in the paper for 10^9 words; word2vec's text8 demo: 1e-4)"),
    corpus=Param("", "a text8-format file to use instead of DATA_DIR/text8/text8", type=str),
    probes=Param(
        ("one", "king", "france", "war", "money", "computer", "city", "good"),
        "words whose neighbours are printed",
        type=tuple,
    ),
)
_PTB = dict(
    epochs=10,
    subsample=Param(1e-3, "sub-sampling threshold t (scaled up for a 0.9M-word corpus)"),
    probes=Param(
        ("company", "market", "stock", "president", "year", "bank", "japan", "good"),
        "words whose neighbours are printed",
        type=tuple,
    ),
)
_CORPUS = dict(
    subsample=Param(1e-4, "sub-sampling threshold t (1e-5 in the paper for 10^9 words)"),
    corpus=Param("", "a text file (one text per line), a folder, or a .tar.gz/.zip of text files", type=str),
    corpus_pattern=Param("*.txt", "files to read inside a folder or archive (fnmatch; e.g. aclImdb/*/*/*.txt)"),
    probes=Param(
        ("good", "bad", "movie", "actor", "funny", "king", "woman", "music"),
        "words whose neighbours are printed",
        type=tuple,
    ),
)
for _arch, _extra, _title in (("skipgram", _SKIPGRAM, "skip-gram"), ("cbow", _CBOW, "CBOW")):
    _recipe(
        f"{_arch}_text8",
        "text8",
        f"{_title} + negative sampling on text8; analogies, vectors.txt, projector files",
        _text8_data(_arch),
        **_TEXT8,
        **_extra,
    )
    _recipe(
        f"{_arch}_ptb",
        "ptb",
        f"{_title} + negative sampling on Penn Treebank (validation loss on ptb.valid)",
        _ptb_data(_arch),
        **_PTB,
        **_extra,
    )
    _recipe(
        f"{_arch}_corpus",
        "any text",
        f"{_title} + negative sampling on --set corpus=PATH (file, folder or archive)",
        _corpus_data(_arch),
        **_CORPUS,
        **_extra,
    )
