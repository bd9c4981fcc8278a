"""Chapter 14 recipes: representations of text blocks, paragraph vectors (PV-DBOW, PV-DM) on IMDB or any corpus.

`paragraph_vectors_imdb` follows gensim's doc2vec-IMDB tutorial: vectors for all 50,000 labelled
reviews (labels unused in training), a logistic regression fit on the training half's vectors and
scored on the test half (`test_error`). The report adds the same classifier on vectors *inferred*
for the test reviews by the exported SavedModel (`infer` endpoint) and on averaged word vectors
(`--set word_vectors=RUN/vectors.txt`, e.g. from chapter 6's `skipgram_corpus`), the baseline row;
without it, `metrics.json` says the baseline was skipped (`averaged_word_vectors_skipped`) and the
run prints how to get it.
`paragraph_vectors` trains on any corpus (`--set corpus=PATH`) and reports nearest documents.
`skip_thought` trains Kiros et al.'s encoder-decoders on consecutive sentences (IMDB reviews cut into
sentences, or `--set corpus=PATH`) and scores frozen sentence vectors as the paper does: a logistic
regression, 10-fold cross-validated on rt-polarity (MR), beside averaged word vectors and, given a
paragraph-vector run (`--set paragraph_vectors=RUN` or `RUN/saved_model`), vectors inferred by its `infer`.
`sequence_autoencoder` trains Dai & Le's LSTM autoencoder on the same sentences and scores its frozen
vectors the same way; `sa_lstm_mr` is their LSTM classifier on rt-polarity's book split, started from
a finished autoencoder run (`--set autoencoder=RUN_DIR`: SA-LSTM) or from random weights
(`--set autoencoder=none`: their LSTM baseline). The files the reports read after training are
checked before it: `word_vectors`' header and first vector, `paragraph_vectors`' `infer` endpoint.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from zoo.data import corpus, imdb
from zoo.data.documents import (
    MODES,
    DocumentInfo,
    batches_per_epoch,
    check_mode,
    document_dataset,
    encode_documents,
)
from zoo.data.pipelines import Data
from zoo.errors import UserError
from zoo.json_files import write_json
from zoo.models.paragraph_vectors import DM_COMBINES, build_paragraph_vectors, compile_paragraph_vectors
from zoo.models.shared_negatives import STEPS_PER_EXECUTION
from zoo.recipes.base import HParams, Param, Recipe, RunContext, register
from zoo.recipes.sequence_autoencoder import (
    SA_LSTM_PARAMS,
    SEQUENCE_AUTOENCODER_PARAMS,
    sa_lstm_data,
    sa_lstm_model,
    sa_lstm_report,
    sequence_autoencoder_corpus_data,
    sequence_autoencoder_model,
    sequence_autoencoder_report,
    sequence_autoencoder_serving,
)
from zoo.recipes.skip_thought import (
    SKIP_THOUGHT_PARAMS,
    skip_thought_corpus_data,
    skip_thought_model,
    skip_thought_report,
    skip_thought_serving,
)
from zoo.recipes.text_blocks import (
    IMDB_CORPUS_FLAGS,
    averaged_vectors,
    check_baseline_files,
    errors_png,
    infer_texts,
    logistic_error,
    pca_png,
    skipped_baseline,
)
from zoo.recipes.text_classification import serve_strings
from zoo.serving.paragraph_vectors import ParagraphVectorServing

_PARAMS = {
    "epochs": Param(20, "passes over the documents (gensim's tutorial: 20)", minimum=1, maximum=1000),
    "batch_size": Param(4096, "words per batch (global)", minimum=1, maximum=1 << 20),
    "mode": Param("dbow", "dbow: PV-DBOW; dm: PV-DM; both: the two side by side, vectors concatenated", choices=MODES),
    "dm_combine": Param(
        "mean",
        "PV-DM's input: mean of document and window vectors, or their concatenation (concat diverged to NaN "
        "on IMDB at batch_size 4096: lower batch_size or learning_rate)",
        choices=DM_COMBINES,
    ),
    "dim": Param(100, "vector size (gensim's tutorial: 100)", minimum=1, maximum=4096),
    "window": Param(
        10, "PV-DM's context words on each side, dynamic as word2vec's (gensim's tutorial: 10)", minimum=1, maximum=50
    ),
    "negatives": Param(5, "negative samples per word (shared by its group)", minimum=1, maximum=100),
    "group_size": Param(
        0,
        "words sharing one draw of negatives (1 = gensim's own); in PV-DBOW, words of one document sharing its "
        "vector too; 0 = 4 for PV-DBOW, 16 for PV-DM and both (groups of 16 of one document learned slower)",
        minimum=0,
        maximum=1 << 16,
    ),
    "min_count": Param(2, "words seen fewer times are dropped (gensim's tutorial: 2)", minimum=1, maximum=1 << 20),
    "max_vocab": Param(1_000_000, "most frequent words kept, including the null word", minimum=2, maximum=1 << 24),
    "subsample": Param(
        0.0, "sub-sampling threshold (gensim's `sample`; the tutorial: 0 = off)", minimum=0.0, maximum=1.0
    ),
    "learning_rate": Param(
        0.025,
        "SGD rate per word, decayed linearly to 0.0001 (gensim's alpha)",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    ),
    "row_cap": Param(0.0, "examples' worth of update a word's output vector may take per batch (0 = off)", minimum=0.0),
    "jit_compile": Param(True, "XLA-compile the train step"),
    "steps_per_execution": Param(
        STEPS_PER_EXECUTION, "batches per call of the compiled step (1 under a multi-replica strategy)", minimum=1
    ),
    "infer_epochs": Param(
        0, "inference passes over a new text (0 = epochs, as gensim's infer_vector)", minimum=0, maximum=1000
    ),
    "infer_documents": Param(
        5_000, "test documents whose vectors are also inferred and scored (0 = none)", minimum=0, maximum=1 << 24
    ),
    "word_vectors": Param(
        "", "word2vec text file (chapter 6's vectors.txt): adds the averaged-vectors baseline", type=str
    ),
}


def group_size(hp: HParams) -> int:
    """`hp.group_size`, or the mode's default for 0."""
    return hp.group_size or (4 if hp.mode == "dbow" else 16)


def _check(hp: HParams) -> None:
    check_mode(hp.mode)
    if hp.batch_size % group_size(hp):
        raise UserError(
            f"batch_size must be a multiple of group_size={group_size(hp)}", param="batch_size", value=hp.batch_size
        )
    check_baseline_files(hp.word_vectors)


def document_data(
    hp: HParams,
    ctx: RunContext,
    texts: list[str],
    *,
    labels: np.ndarray | None = None,
    train_size: int = 0,
    source: str = "",
) -> Data[DocumentInfo]:
    """Paragraph-vector batches of raw `texts` (document i = text i); public for benchmarks."""
    _check(hp)
    tokens = [corpus.tokenize(t) for t in texts]
    vocabulary, ids, doc_ids, dropped = encode_documents(tokens, min_count=hp.min_count, max_vocab=hp.max_vocab)
    layout = dict(mode=hp.mode, subsample=hp.subsample, batch_size=hp.batch_size, group_size=group_size(hp))
    train = document_dataset(ids, doc_ids, vocabulary, window=hp.window, negatives=hp.negatives, seed=hp.seed, **layout)
    if len(ids) < hp.batch_size:
        raise UserError(
            f"{source or 'the corpus'} has {len(ids)} words seen min_count times, fewer than one batch; "
            f"lower batch_size or use a larger corpus",
            param="batch_size",
            value=hp.batch_size,
        )
    steps = batches_per_epoch(ids, doc_ids, vocabulary, **layout)
    if ctx.max_steps:
        steps = min(steps, ctx.max_steps)
    info = DocumentInfo(
        vocabulary=vocabulary.words,
        counts=vocabulary.counts,
        documents=len(texts),
        tokens=len(ids),
        dropped=dropped,
        steps_per_epoch=steps,
        source=source,
        texts=texts,
        labels=labels,
        train_size=train_size,
    )
    return Data(train=train, info=info)


def _imdb_data(hp: HParams, ctx: RunContext) -> Data[DocumentInfo]:
    _check(hp)
    splits = imdb.load(ctx.data_dir)
    texts = splits["train"][0] + splits["test"][0]
    labels = np.concatenate([splits["train"][1], splits["test"][1]])
    return document_data(hp, ctx, texts, labels=labels, train_size=len(splits["train"][0]), source="IMDB")


def _corpus_data(hp: HParams, ctx: RunContext) -> Data[DocumentInfo]:
    _check(hp)
    if not hp.corpus:
        raise UserError("paragraph_vectors needs a text file, a folder, or a .tar.gz/.zip of texts", param="corpus")
    texts, _ = corpus.read_texts(hp.corpus, hp.corpus_pattern)
    return document_data(hp, ctx, texts, source=Path(hp.corpus).name)


def _model(hp: HParams, data: Data[DocumentInfo]) -> keras.Model:
    info = data.info
    model = build_paragraph_vectors(
        documents=info.documents,
        vocab_size=len(info.vocabulary),
        dim=hp.dim,
        mode=hp.mode,
        dm_combine=hp.dm_combine,
        window=hp.window,
        negatives=hp.negatives,
        row_cap=hp.row_cap or None,
        counts=info.counts,
    )
    decay = hp.epochs * info.steps_per_epoch
    return compile_paragraph_vectors(
        model,
        learning_rate=hp.learning_rate,
        decay_steps=decay,
        jit_compile=hp.jit_compile,
        steps_per_execution=hp.steps_per_execution,
    )


def _serving(hp: HParams, data: Data[DocumentInfo], model: keras.Model) -> keras.Model:
    return ParagraphVectorServing(data.info.vocabulary, model, epochs=hp.infer_epochs or hp.epochs, seed=hp.seed)


def _nearest(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    sims = q @ unit.T
    top = np.argsort(-sims, axis=1)[:, :k]
    return top, np.take_along_axis(sims, top, axis=1)


def _report(hp: HParams, data: Data[DocumentInfo], model: keras.Model, ctx: RunContext) -> dict:
    info, run = data.info, Path(ctx.run_dir)
    trained = model.document_vectors()
    metrics: dict = {
        "documents": info.documents,
        "vocabulary_size": len(info.vocabulary),
        "words_per_epoch": info.tokens,
        "rare_words_dropped": info.dropped,
    }
    serving = _serving(hp, data, model)
    labels, n = info.labels, info.train_size
    errors: dict[str, float] = {}
    if labels is not None and n:
        error, classifier = logistic_error(trained[:n], labels[:n], trained[n:], labels[n:], hp.seed)
        metrics.update(test_error=round(error, 5), test_accuracy=round(1 - error, 5))
        errors[f"PV-{hp.mode.upper()}, trained: all {len(labels) - n:,} test reviews"] = error
        count = min(hp.infer_documents, info.documents - n)
        if ctx.max_steps:
            count = min(count, 64)
        if count:
            # The test reviews taken evenly over the (label-sorted) test half, so both classes are in.
            picked = n + np.linspace(0, info.documents - n - 1, count).astype(int)
            inferred = infer_texts(serving, [info.texts[i] for i in picked])
            cos = (inferred * trained[picked]).sum(1) / np.maximum(
                np.linalg.norm(inferred, axis=1) * np.linalg.norm(trained[picked], axis=1), 1e-12
            )
            metrics.update(
                inferred_documents=int(count),
                test_error_inferred=round(float(1 - classifier.score(inferred, labels[picked])), 5),
                test_error_trained_same_documents=round(
                    float(1 - classifier.score(trained[picked], labels[picked])), 5
                ),
                inferred_trained_cosine=round(float(cos.mean()), 4),
                # how often a test review's inferred vector finds its own trained vector first
                inferred_self_top1=round(
                    float((_nearest(trained, inferred[:2000], 1)[0][:, 0] == picked[:2000]).mean()), 4
                ),
            )
            # inferred for a sample of the test half: beside the same reviews' trained vectors, not the whole half's
            errors[f"PV-{hp.mode.upper()}, trained: {len(picked):,} test reviews"] = metrics[
                "test_error_trained_same_documents"
            ]
            errors[f"PV-{hp.mode.upper()}, inferred: the same {len(picked):,}"] = metrics["test_error_inferred"]
        if hp.word_vectors:
            averaged = averaged_vectors(hp.word_vectors, info)
            error, _ = logistic_error(averaged[:n], labels[:n], averaged[n:], labels[n:], hp.seed)
            metrics["averaged_word_vectors_test_error"] = round(error, 5)
            errors["averaged word vectors"] = error
        else:
            metrics.update(skipped_baseline(IMDB_CORPUS_FLAGS))
    if ctx.is_chief:
        queries = list(range(min(3, info.documents)))
        if n:
            queries = [n, info.documents - 1]  # a positive and a negative test review
        inferred = infer_texts(serving, [info.texts[i] for i in queries])
        top, sims = _nearest(trained[: n or None], inferred, 4)
        write_json(
            run / "nearest.json",
            [
                {
                    "query": info.texts[q][:300],
                    "nearest": [
                        {"document": int(j), "cosine": round(float(s), 4), "text": info.texts[j][:300]}
                        for j, s in zip(row, sim)
                    ],
                }
                for q, row, sim in zip(queries, top, sims)
            ],
            sort_keys=False,
            indent=1,
        )
        pca_png(run / "pca.png", trained, labels, f"PV-{hp.mode.upper()} {info.source}: PCA of document vectors")
        if errors:
            errors_png(run / "errors.png", errors, f"{info.source}: logistic regression test error")
    return metrics


def _recipe(name: str, dataset: str, summary: str, data, **extra) -> Recipe:
    return register(
        Recipe(
            name=name,
            chapter=14,
            dataset=dataset,
            summary=summary,
            hparams={**_PARAMS, **extra},
            data=data,
            model=_model,
            serving=_serving,
            report=_report,
            monitor="loss",
        )
    )


_recipe(
    "paragraph_vectors_imdb",
    "imdb",
    "paragraph vectors (PV-DBOW/PV-DM) for the 50k IMDB reviews, logistic regression test error, infer endpoint",
    _imdb_data,
)
_recipe(
    "paragraph_vectors",
    "any text",
    "paragraph vectors of --set corpus=PATH (file, folder or archive); nearest documents, infer endpoint",
    _corpus_data,
    corpus=Param("", "a text file (one document per line), a folder, or a .tar.gz/.zip of text files", type=str),
    corpus_pattern=Param("*.txt", "files to read inside a folder or archive (fnmatch; e.g. aclImdb/*/*/*.txt)"),
)

register(
    Recipe(
        name="skip_thought",
        chapter=14,
        dataset="imdb sentences / any text; rt-polarity",
        summary="skip-thought vectors (layer-normalised GRU encoder, two decoders); rt-polarity 10-fold CV beside "
        "averaged vectors, PV",
        hparams=SKIP_THOUGHT_PARAMS,
        data=skip_thought_corpus_data,
        model=skip_thought_model,
        serving=skip_thought_serving,
        report=skip_thought_report,
    )
)
register(
    Recipe(
        name="sequence_autoencoder",
        chapter=14,
        dataset="imdb sentences / any text; rt-polarity",
        summary="Dai & Le's sequence autoencoder (LSTM encoder, LSTM decoder regenerating the sentence); rt-polarity "
        "10-fold CV as skip_thought; its run folder starts sa_lstm_mr",
        hparams=SEQUENCE_AUTOENCODER_PARAMS,
        data=sequence_autoencoder_corpus_data,
        model=sequence_autoencoder_model,
        serving=sequence_autoencoder_serving,
        report=sequence_autoencoder_report,
    )
)
register(
    Recipe(
        name="sa_lstm_mr",
        chapter=14,
        dataset="rt-polarity",
        summary="Dai & Le's LSTM classifier on sentence polarity, started from a sequence_autoencoder run "
        "(--set autoencoder=RUN_DIR, SA-LSTM) or random weights (none), raw text in",
        hparams=SA_LSTM_PARAMS,
        data=sa_lstm_data,
        model=sa_lstm_model,
        serving=serve_strings,
        report=sa_lstm_report,
        monitor="val_accuracy",
    )
)
