"""What chapter 14's recipes and benchmark share: scoring text-block vectors with a logistic regression
(gensim's IMDB tutorial; the skip-thought paper's cross-validation), averaged word vectors (the
baseline), batched inference through a serving model or SavedModel endpoint, and the report pictures;
for the sentence encoders (skip-thought, the sequence autoencoder), the texts they train on and the
report scoring their frozen vectors, so their rows of the chapter's table are comparable. Not a
chapter: it registers nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.data import corpus, imdb, rt_polarity
from zoo.data.documents import DocumentInfo, encode_documents
from zoo.data.pipelines import Data
from zoo.data.sentence_decoders import SentenceInfo
from zoo.data.vectors import check_word_vectors, load_word_vectors
from zoo.errors import DataNotFound, UserError
from zoo.recipes.base import HParams, Param, RunContext

# What `corpus_texts` and `sentence_vectors_report` read: declared by every sentence-encoder recipe.
SENTENCE_CORPUS_PARAMS = {
    "corpus": Param("", "texts of several sentences (file, folder or archive); default: the IMDB reviews", type=str),
    "corpus_pattern": Param("*.txt", "files to read inside a folder or archive (fnmatch)"),
    "folds": Param(
        10, "cross-validation folds of the rt-polarity evaluation (the skip-thought paper: 10)", minimum=2, maximum=50
    ),
    "word_vectors": Param("", "word2vec text file (chapter 6's vectors.txt): adds its averaged vectors", type=str),
    "paragraph_vectors": Param(
        "",
        "a paragraph-vector run (RUN or RUN/saved_model, with an infer endpoint): adds its inferred vectors",
        type=str,
    ),
}


def infer_texts(serving: keras.Model, texts: list[str], batch: int = 512) -> np.ndarray:
    """Inferred vectors of `texts` through a serving model's (or a loaded SavedModel's) `infer`, in batches."""
    parts = [np.asarray(serving(tf.constant(texts[i : i + batch]))) for i in range(0, len(texts), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), "float32")


def averaged_vectors(path: str, info: DocumentInfo) -> np.ndarray:
    """Each document's mean word vector from a word2vec text file (words absent from the file count as zeros)."""
    from scipy.sparse import csr_matrix

    matrix, _ = load_word_vectors(path, info.vocabulary, scale=0.0, param="word_vectors")
    matrix[0] = 0.0
    rows, cols = [], []
    index = {w: k for k, w in enumerate(info.vocabulary)}
    for i, text in enumerate(info.texts):
        ids = [index.get(t, 0) for t in corpus.tokenize(text)]
        rows += [i] * len(ids)
        cols += ids
    counts = csr_matrix((np.ones(len(rows), "float32"), (rows, cols)), shape=(len(info.texts), len(info.vocabulary)))
    known = np.asarray(counts[:, 1:].sum(axis=1)).reshape(-1, 1)
    return np.asarray(counts @ matrix) / np.maximum(known, 1.0)


def logistic_error(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, seed: int = 0):
    """Test error of a logistic regression fit on `train_x` (gensim's tutorial's classifier), and the model."""
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(max_iter=1000, random_state=seed).fit(train_x, train_y)
    return float(1.0 - classifier.score(test_x, test_y)), classifier


def pca_png(path: Path, vectors: np.ndarray, labels: np.ndarray | None, title: str) -> None:
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA

    rows = np.random.default_rng(0).permutation(len(vectors))[:3000]
    points = PCA(n_components=2).fit_transform(vectors[rows]) if len(rows) > 2 else np.zeros((len(rows), 2))
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    colour = None if labels is None else np.where(labels[rows] > 0, "tab:blue", "tab:red")
    ax.scatter(points[:, 0], points[:, 1], s=3, c=colour)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def errors_png(path: Path, rows: dict[str, float], title: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 0.6 * len(rows) + 1.2))
    ax = fig.subplots()
    names = list(rows)
    ax.barh(names, [100 * rows[n] for n in names], color="tab:blue")
    for k, n in enumerate(names):
        ax.annotate(f"{100 * rows[n]:.2f}%", (100 * rows[n], k), va="center", fontsize=8)
    ax.set_xlabel("test error (%)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def cross_validated_error(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> float:
    """Mean held-out error of a logistic regression over stratified folds (the skip-thought paper's protocol)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(1.0 - cross_val_score(LogisticRegression(max_iter=2000), x, y, cv=splitter).mean())


def paragraph_vectors_model(value: str) -> Path:
    """The SavedModel `--set paragraph_vectors=` names: `RUN/saved_model`, or a run folder holding one.

    Checked without loading it (its `saved_model.pb` is read, not its variables): it must have an
    `infer` endpoint, as `paragraph_vectors(_imdb)` runs' have; anything else is a one-line `UserError`.
    """
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    path = Path(value).expanduser()
    if not path.exists():
        raise UserError("no such file or folder", param="paragraph_vectors", value=value)
    if not (path / "saved_model.pb").is_file() and (path / "saved_model" / "saved_model.pb").is_file():
        path = path / "saved_model"  # a run folder
    if not (path / "saved_model.pb").is_file():
        raise UserError(
            "not a SavedModel nor a run folder with one: give a paragraph_vectors(_imdb) run folder",
            param="paragraph_vectors",
            value=value,
        )
    try:
        proto = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
        graph = proto.meta_graphs[0]
    except (DecodeError, IndexError):
        raise UserError(
            f"{path / 'saved_model.pb'} is not a readable SavedModel", param="paragraph_vectors", value=value
        ) from None
    if "infer" not in {child.local_name for child in graph.object_graph_def.nodes[0].children}:
        found = ", ".join(sorted(n for n in graph.signature_def if n != "serving_default" and not n.startswith("__")))
        raise UserError(
            f"this SavedModel has no `infer` endpoint (it has: {found or 'none'}); give a paragraph_vectors(_imdb) "
            f"run folder",
            param="paragraph_vectors",
            value=value,
        )
    return path


def check_baseline_files(word_vectors: str, paragraph_vectors: str = "") -> None:
    """Refuse, before any training, the files a chapter 14 report reads only after it: `word_vectors`
    (its header and first vector are read) and `paragraph_vectors` (`paragraph_vectors_model`); "" = none."""
    if word_vectors:
        check_word_vectors(Path(word_vectors).expanduser(), param="word_vectors")
    if paragraph_vectors:
        paragraph_vectors_model(paragraph_vectors)


# `skipgram_corpus`'s flags for the IMDB reviews (chapter 6's example), the texts of the default runs.
IMDB_CORPUS_FLAGS = "--set corpus=DATA/imdb/aclImdb_labeled.tar.gz --set corpus_pattern=aclImdb/*/*/*.txt"


def skipped_baseline(corpus_flags: str) -> dict:
    """The metrics entry, and the line printed, when no `word_vectors` gives the averaged-vectors baseline row.

    `corpus_flags`: `skipgram_corpus`'s `--set` flags for the texts the run read (`IMDB_CORPUS_FLAGS`).
    """
    print(
        "averaged word vectors (the baseline row) skipped: no word_vectors given; train them with "
        f"`python -m zoo.run skipgram_corpus {corpus_flags} --out RUN` and add `--set word_vectors=RUN/vectors.txt`",
        flush=True,
    )
    return {"averaged_word_vectors_skipped": "no word_vectors given (skipgram_corpus's RUN/vectors.txt)"}


def corpus_texts(hp: HParams, ctx: RunContext) -> tuple[list[str], str]:
    """The texts a sentence encoder trains on (`hp.corpus`, else the 50,000 IMDB reviews) and their name.

    The optional files of `sentence_vectors_report` (`word_vectors`, `paragraph_vectors`) are
    checked first (`check_baseline_files`), so a wrong one is refused before any work.
    """
    check_baseline_files(hp.word_vectors, hp.paragraph_vectors)
    if hp.corpus:
        return corpus.read_texts(hp.corpus, hp.corpus_pattern)[0], Path(hp.corpus).name
    splits = imdb.load(ctx.data_dir)
    return splits["train"][0] + splits["test"][0], "IMDB"


def sentence_vectors_report(
    hp: HParams,
    data: Data[SentenceInfo],
    model: keras.Model,
    ctx: RunContext,
    encoder: keras.Model,
    name: str,
) -> dict:
    """A sentence encoder's frozen vectors scored as the skip-thought paper does (`rt_polarity_cv_error`).

    A logistic regression, `hp.folds`-fold cross-validated on rt-polarity, on the vectors `encoder`
    gives the snippets (row `name`), beside the mean of `model`'s own word embeddings (its
    `embedding` layer, over the snippet's known words), `hp.word_vectors` averaged and
    `hp.paragraph_vectors`' inferred vectors when given (without `word_vectors`, the metrics say the
    baseline was skipped and how to get it: `skipped_baseline`); `rt_polarity.png` draws the errors.
    `mean_cosine_between_sentences` (the mean cosine over all pairs of snippets, self-pairs included)
    tells a collapsed encoder, one vector for every sentence, by a value near 1. A smoke run (`ctx.max_steps`) keeps
    100 snippets of each class; without rt-polarity the evaluation is skipped and says why.
    """
    metrics: dict = {"vocabulary_size": len(data.info.vocabulary)}
    try:
        texts, labels = rt_polarity.load(ctx.data_dir)
    except DataNotFound as error:
        print(f"rt-polarity evaluation skipped: {error}", flush=True)
        return {**metrics, "rt_polarity_skipped": str(error).splitlines()[0]}
    if ctx.max_steps:  # smoke run: a few snippets of each class
        pick = np.r_[0:100, len(texts) - 100 : len(texts)]
        texts, labels = [texts[i] for i in pick], labels[pick]
    rows = {name: infer_texts(encoder, texts)}
    # near 1 when the encoder gives every sentence the same vector (a collapsed encoder scores at chance)
    unit = rows[name] / np.maximum(np.linalg.norm(rows[name], axis=1, keepdims=True), 1e-12)
    metrics["mean_cosine_between_sentences"] = round(float(np.square(unit.mean(0)).sum()), 4)
    ids = np.asarray(data.info.vectorizer(tf.constant(texts)))
    table = np.asarray(model.get_layer("embedding").embeddings)
    known = (ids > 1)[..., None]
    rows[f"averaged {name} word embeddings"] = (table[ids] * known).sum(1) / np.maximum(known.sum(1), 1)
    if hp.word_vectors:
        vocabulary, _, _, _ = encode_documents([corpus.tokenize(t) for t in texts], min_count=1, max_vocab=1 << 24)
        info = DocumentInfo(vocabulary.words, vocabulary.counts, len(texts), 0, 0, 0, texts=texts)
        rows["averaged word vectors (word_vectors)"] = averaged_vectors(hp.word_vectors, info)
    else:
        flags = f"--set corpus={hp.corpus} --set corpus_pattern={hp.corpus_pattern}" if hp.corpus else IMDB_CORPUS_FLAGS
        metrics.update(skipped_baseline(flags))
    if hp.paragraph_vectors:
        loaded = tf.saved_model.load(str(paragraph_vectors_model(hp.paragraph_vectors)))  # kept: its variables
        rows["paragraph vectors (inferred)"] = infer_texts(loaded.infer, texts)
    errors = {row: cross_validated_error(x, labels, hp.folds, hp.seed) for row, x in rows.items()}
    metrics["rt_polarity_cv_error"] = {row: round(e, 5) for row, e in errors.items()}
    metrics["rt_polarity_cv_accuracy_" + re.sub(r"\W+", "_", name)] = round(1 - errors[name], 5)
    if ctx.is_chief:
        errors_png(Path(ctx.run_dir) / "rt_polarity.png", errors, f"rt-polarity, {hp.folds}-fold CV: error")
    return metrics
