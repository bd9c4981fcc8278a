"""Chapter 14 paragraph vectors (Le & Mikolov 2014): PV-DBOW, PV-DM (mean or concatenation), and inference.

The book gives the equations only. As in gensim's `Doc2Vec` (the plainest version and our benchmark):

- PV-DBOW: document vector d_i alone predicts each word of document i (skip-gram with the document
  as the "target"), negative sampling;
- PV-DM: the document vector with the vectors of the word's window, averaged (`dm_combine="mean"`,
  gensim's `dm_mean=1`) or concatenated (`"concat"`, gensim's `dm_concat=1`: a (2 window + 1) x dim
  input and output layer; positions outside the window read the null word, row 0), predict the word;
- `both`: a PV-DBOW and a PV-DM model trained side by side on the same words, vectors concatenated
  (the paper's recommendation, gensim tutorial's DBOW+DMM).

Training reuses chapter 6's shared-negatives step (`zoo.models.shared_negatives`). PV-DBOW is its
skip-gram case with the document table as input table, in groups of a few words of one document
(`shared_input_gradients`: the group's document vector is read once and scores the group's K
negatives once, so a word costs one dot product and one output row plus (K + 1) / G of each, where
random pairs cost 1 + K dot products; the recipe's groups of 4 trained 1.3x faster than groups of 16
random words, within 0.1 point of their test error after gensim's 20 epochs). In mode `both` PV-DBOW trains on
PV-DM's words, any documents per group (`shared_negatives_gradients`). For PV-DM the
combined input vector h of each example is handed to it as a one-row-per-example "table", and the
gradient it returns for h is passed on to the document and word rows it came from (every member of
a mean gets all of it, as word2vec.c and gensim do).

Inference (`ParagraphVectors.infer`, gensim's `infer_vector`): a fresh document vector per text is
trained for `epochs` passes over its words with the word and output tables frozen, the rate
decaying linearly from `learning_rate` to `min_learning_rate`; all of it is TensorFlow ops, so it
runs inside the exported SavedModel. A text without a known word gets the zero vector.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from zoo.data.documents import MODES
from zoo.data.skipgrams import draw_negatives, negative_cdf, window_contexts
from zoo.models.shared_negatives import (
    BAG_UPDATES,
    STEPS_PER_EXECUTION,
    cap_repeated_rows,
    row_counts,
    shared_input_gradients,
    shared_negatives_gradients,
    steps_per_call,
)

DM_COMBINES = ("mean", "concat")


@keras.saving.register_keras_serializable(package="zoo")
class ParagraphVectors(keras.Model):
    """Paragraph-vector tables trained by SGD in `model.fit` on `zoo.data.documents.document_dataset` batches.

    Calling the model on document ids `(n,)` returns their trained vectors `(n, output_dim)`.

    Args:
        documents: rows of the document table (training documents).
        vocab_size: words, `[UNK]`/null word at 0.
        dim: vector size of each table.
        mode: `"dbow"`, `"dm"` or `"both"` (vectors concatenated, DBOW first).
        dm_combine: `"mean"` or `"concat"` (PV-DM's input layer).
        window: PV-DM's window (context words on each side).
        negatives: negative samples per word at inference (training batches bring their own).
        bag_update: PV-DM mean's window words: `"mean"` gives each its share of the mean's gradient
            (the true gradient), `"word2vec"` all of it, as word2vec.c and gensim do word by word. The
            document vector always gets all of it, as in gensim. Summed over a batch of 4,096 words,
            gensim's way diverged to NaN on IMDB (a frequent word sits in thousands of windows of one
            batch and takes their summed step at once), hence `"mean"` by default.
        row_cap: examples' worth of update an output row (a word) may take per batch
            (`zoo.models.shared_negatives.cap_repeated_rows`, as the word2vec recipes' `row_cap`); `None`
            applies the batch's exact sum: with sub-sampling off, "the" is a target about 240 times in
            a batch of 4,096 words, where gensim applies those updates one after another.

    Example:
        >>> model = compile_paragraph_vectors(ParagraphVectors(documents=3, vocab_size=10, dim=4))
        >>> batch = {"dbow": {"docs": [1], "words": [[3, 4]], "weights": [[1.0, 1.0]], "negatives": [[5, 6]]}}
        >>> model.train_on_batch(batch)
        >>> model(np.array([0, 2])).shape
        TensorShape([2, 4])
    """

    def __init__(
        self,
        *,
        documents: int,
        vocab_size: int,
        dim: int,
        mode: str = "dbow",
        dm_combine: str = "mean",
        window: int = 5,
        negatives: int = 5,
        bag_update: str = "mean",
        row_cap: float | None = None,
        **kwargs,
    ):
        super().__init__(name=kwargs.pop("name", "paragraph_vectors"), **kwargs)
        if mode not in MODES or dm_combine not in DM_COMBINES or bag_update not in BAG_UPDATES:
            raise ValueError(f"need mode in {MODES}, dm_combine in {DM_COMBINES}, bag_update in {BAG_UPDATES}")
        self.documents, self.vocab_size, self.dim = int(documents), int(vocab_size), int(dim)
        self.mode, self.dm_combine, self.window, self.negatives = mode, dm_combine, int(window), int(negatives)
        self.bag_update = bag_update
        if row_cap is not None and not row_cap > 0:
            raise ValueError(f"row_cap must be > 0 or None, got {row_cap!r}")
        self.row_cap = row_cap
        start = keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim)  # word2vec.c's and gensim's start
        if mode in ("dbow", "both"):
            self.dbow_documents = self.add_weight(shape=(documents, dim), initializer=start, name="dbow_documents")
            self.dbow_output = self.add_weight(shape=(vocab_size, dim), initializer="zeros", name="dbow_output")
        if mode in ("dm", "both"):
            width = dim * (2 * window + 1) if dm_combine == "concat" else dim
            self.dm_documents = self.add_weight(shape=(documents, dim), initializer=start, name="dm_documents")
            self.dm_words = self.add_weight(shape=(vocab_size, dim), initializer=start, name="dm_words")
            self.dm_output = self.add_weight(shape=(vocab_size, width), initializer="zeros", name="dm_output")
        # unigram^0.75 CDF of the training words, for the negatives of inference (set by the recipe)
        self.negative_cdf = self.add_weight(
            shape=(vocab_size,), initializer="ones", trainable=False, name="negative_cdf"
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True

    @property
    def output_dim(self) -> int:
        return self.dim * (2 if self.mode == "both" else 1)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, doc_ids):
        parts = []
        if self.mode in ("dbow", "both"):
            parts.append(tf.gather(self.dbow_documents, doc_ids))
        if self.mode in ("dm", "both"):
            parts.append(tf.gather(self.dm_documents, doc_ids))
        return tf.concat(parts, axis=-1)

    def document_vectors(self) -> np.ndarray:
        """The trained vectors of all training documents, `(documents, output_dim)`."""
        return np.asarray(self(tf.range(self.documents)))

    def _dm_input(self, documents: tf.Tensor, docs: tf.Tensor, contexts: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """PV-DM's input vector of each example: `docs`, `contexts`, `mask` of any leading shape -> (..., width)."""
        d = tf.gather(documents, docs)
        c = tf.gather(self.dm_words, contexts)  # (..., 2 window, dim)
        if self.dm_combine == "concat":  # masked positions read the null word (row 0)
            return tf.concat([d, tf.reshape(c, tf.concat([tf.shape(c)[:-2], [-1]], 0))], axis=-1)
        total = d + tf.einsum("...c,...cd->...d", mask, c)
        return total / (1.0 + tf.reduce_sum(mask, axis=-1))[..., None]

    def _dm_gradients(self, batch) -> tuple[tf.Tensor, tf.Tensor, list, list]:
        h = self._dm_input(self.dm_documents, batch["docs"], batch["contexts"], batch["mask"])
        rows = tf.reshape(tf.range(tf.size(batch["docs"])), tf.shape(batch["docs"]))
        loss, n, g_h, g_out = shared_negatives_gradients(
            tf.reshape(h, [-1, h.shape[-1]]), self.dm_output, rows, batch["words"], batch["negatives"]
        )
        g = g_h.values  # row k: d loss / d h of example k (the rows are in order)
        docs, contexts = tf.reshape(batch["docs"], [-1]), tf.reshape(batch["contexts"], [-1])
        width = 2 * self.window
        if self.dm_combine == "concat":
            parts = tf.reshape(g, [-1, width + 1, self.dim])
            g_doc, g_words = parts[:, 0], tf.reshape(parts[:, 1:], [-1, self.dim])
        else:
            mask = tf.reshape(batch["mask"], [-1, width])
            if self.bag_update == "mean":  # the true gradient: each word its share of the mean
                mask = mask / (1.0 + tf.reduce_sum(mask, -1, keepdims=True))
            g_doc, g_words = g, tf.reshape(mask[..., None] * g[:, None, :], [-1, self.dim])
        shape = tf.shape(self.dm_documents)
        grads = [
            tf.IndexedSlices(g_doc, docs, shape),
            tf.IndexedSlices(g_words, contexts, tf.shape(self.dm_words)),
            self._capped(g_out, batch["words"], batch["negatives"]),
        ]
        return loss, n, grads, [self.dm_documents, self.dm_words, self.dm_output]

    def _capped(self, g_out: tf.IndexedSlices, words: tf.Tensor, negatives: tf.Tensor) -> tf.IndexedSlices:
        """The output table's update with `row_cap` applied; a shared negative counts once per word of its group."""
        if self.row_cap is None:
            return g_out
        examples = row_counts(words, self.vocab_size) + row_counts(negatives, self.vocab_size, tf.shape(words)[1])
        return cap_repeated_rows(g_out, self.row_cap, examples)

    def _gradients(self, data):
        data = data[0] if isinstance(data, tuple) else data
        losses, columns, grads, variables = [], [], [], []
        if "dbow" in data:
            b = data["dbow"]
            if "weights" in b:  # groups of one document's words (mode "dbow")
                loss, n, g_doc, g_out = shared_input_gradients(
                    self.dbow_documents, self.dbow_output, b["docs"], b["words"], b["negatives"], b["weights"]
                )
            else:  # PV-DM's words, any documents per group (mode "both")
                loss, n, g_doc, g_out = shared_negatives_gradients(
                    self.dbow_documents, self.dbow_output, b["docs"], b["words"], b["negatives"]
                )
            losses.append(loss)
            columns.append(n * tf.cast(1 + tf.shape(b["negatives"])[-1], n.dtype))
            grads += [g_doc, self._capped(g_out, b["words"], b["negatives"])]
            variables += [self.dbow_documents, self.dbow_output]
        if "dm" in data:
            loss, n, g, v = self._dm_gradients(data["dm"])
            losses.append(loss)
            columns.append(n * tf.cast(1 + tf.shape(data["dm"]["negatives"])[-1], n.dtype))
            grads += g
            variables += v
        weight = tf.add_n(columns)
        return tf.add_n(losses) / tf.maximum(weight, 1.0), weight, grads, variables

    def train_step(self, data):
        mean_loss, weight, grads, variables = self._gradients(data)
        self.optimizer.apply(grads, variables)
        self.loss_tracker.update_state(mean_loss, sample_weight=weight)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        mean_loss, weight, _, _ = self._gradients(data)
        self.loss_tracker.update_state(mean_loss, sample_weight=weight)
        return {"loss": self.loss_tracker.result()}

    def infer(
        self,
        ids: tf.RaggedTensor,
        *,
        epochs: int,
        learning_rate: float = 0.025,
        min_learning_rate: float = 0.0001,
        substeps: int = 64,
        seed: int = 0,
    ) -> tf.Tensor:
        """Vectors `(batch, output_dim)` of unseen documents, word ids `(batch, None)` (0 = unknown, ignored).

        Each document vector starts as word2vec's uniform(-0.5/dim, 0.5/dim) draw (the same for every
        text) and makes `epochs` passes over its words with the word and output tables frozen, each pass
        in `substeps` SGD steps over an even share of its words (gensim steps word by word; one step
        per pass summing all of a review's words overshot: inferred vectors scored at chance). Texts
        without a known word get zeros. With its seeded negatives PV-DBOW gives a text the same vector
        at every call; PV-DM draws word2vec's random window widths anew (`window_contexts` has no
        stateless seed), so its vectors vary a little.
        """
        ids = tf.ragged.boolean_mask(ids, ids > 0)
        batch = ids.nrows(out_type=tf.int32)
        words = tf.cast(ids.flat_values, tf.int32)
        rows = tf.cast(ids.value_rowids(), tf.int32)
        # Sub-step of each word: a document's words spread evenly over `substeps` steps per pass, so a
        # step sums a few words' gradients (as a training batch does), not the whole text's at once.
        lengths = tf.cast(tf.gather(ids.row_lengths(), rows), tf.int32)
        position = tf.range(tf.size(words)) - tf.cast(tf.gather(ids.row_starts(), rows), tf.int32)
        substep = position * substeps // tf.maximum(lengths, 1)
        settings = (words, rows, substep, batch, epochs, substeps, learning_rate, min_learning_rate, seed)
        parts = []
        if self.mode in ("dbow", "both"):
            parts.append(self._infer_one(*settings, dm=False))
        if self.mode in ("dm", "both"):
            parts.append(self._infer_one(*settings, dm=True))
        known = tf.cast(ids.row_lengths() > 0, parts[0].dtype)[:, None]
        return tf.concat(parts, axis=-1) * known

    @tf.function(reduce_retracing=True)  # a graph even when called eagerly: the loop has epochs x substeps steps
    def _infer_one(
        self, words, rows, substep, batch, epochs, substeps, learning_rate, min_learning_rate, seed, dm: bool
    ):
        dim, cdf = self.dim, self.negative_cdf
        h = tf.random.stateless_uniform([1, dim], [seed, 7], -0.5 / dim, 0.5 / dim) + tf.zeros([batch, 1])
        rate_step = (learning_rate - min_learning_rate) / max(epochs - 1, 1)
        if dm:
            ones = tf.ones([self.vocab_size], tf.float32)
            _, contexts, valid = window_contexts(words, rows, ones, self.window, drop_unk=False, seed=seed)
            contexts, mask = contexts * tf.cast(valid, tf.int32), tf.cast(valid, tf.float32)

        def step(k, h):
            epoch, part = k // substeps, k % substeps
            chosen = tf.reshape(tf.where(tf.equal(substep, part)), [-1])
            w, r = tf.gather(words, chosen), tf.gather(rows, chosen)
            negatives = draw_negatives(cdf, self.vocab_size, [tf.size(w), self.negatives], seed=[seed, k])
            rate = learning_rate - tf.cast(epoch, tf.float32) * rate_step
            if dm:
                inputs = self._dm_input(h, r, tf.gather(contexts, chosen), tf.gather(mask, chosen))
                example_rows = tf.range(tf.size(w))[:, None]
                _, _, g, _ = shared_negatives_gradients(inputs, self.dm_output, example_rows, w[:, None], negatives)
                g_doc = g.values[:, :dim]  # concat: the document's slice; mean: all of it
                return k + 1, h - rate * tf.math.unsorted_segment_sum(g_doc, r, batch)
            _, _, g, _ = shared_negatives_gradients(h, self.dbow_output, r[:, None], w[:, None], negatives)
            return k + 1, h - rate * tf.math.unsorted_segment_sum(g.values, g.indices, batch)

        _, h = tf.while_loop(lambda k, _: k < epochs * substeps, step, (tf.constant(0), h))
        return h

    def get_config(self):
        return {
            **super().get_config(),
            "documents": self.documents,
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "mode": self.mode,
            "dm_combine": self.dm_combine,
            "window": self.window,
            "negatives": self.negatives,
            "bag_update": self.bag_update,
            "row_cap": self.row_cap,
        }


def compile_paragraph_vectors(
    model: ParagraphVectors,
    *,
    learning_rate: float = 0.025,
    decay_steps: int = 0,
    jit_compile: bool = True,
    steps_per_execution: int = STEPS_PER_EXECUTION,
) -> ParagraphVectors:
    """gensim's SGD: `learning_rate` per example (the gradients are sums), decayed linearly to 1e-4 of it
    over `decay_steps` (gensim: 0.025 -> 0.0001), `steps_per_execution` batches per compiled call (1 under
    a multi-replica strategy); returns `model`."""
    rate = (
        keras.optimizers.schedules.PolynomialDecay(learning_rate, decay_steps, learning_rate * 1e-4 / 0.025)
        if decay_steps > 0
        else learning_rate
    )
    model.compile(
        optimizer=keras.optimizers.SGD(rate),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_call(steps_per_execution),
    )
    model.optimizer.build(model.trainable_variables)
    return model


def build_paragraph_vectors(
    *,
    documents: int,
    vocab_size: int,
    dim: int = 100,
    mode: str = "dbow",
    dm_combine: str = "mean",
    window: int = 5,
    negatives: int = 5,
    bag_update: str = "mean",
    row_cap: float | None = None,
    counts: np.ndarray | None = None,
) -> ParagraphVectors:
    """A `ParagraphVectors` model (chapter 14) whose inference draws negatives from unigram^0.75 of `counts`.

    Args:
        documents: training documents (rows of the document table).
        vocab_size: words including the null word at 0.
        dim: vector size (gensim's `vector_size`).
        mode: `"dbow"` (default), `"dm"` or `"both"`.
        dm_combine: PV-DM's `"mean"` or `"concat"`.
        window: PV-DM's context words on each side.
        negatives: negative samples per word.
        bag_update: PV-DM mean's update of the window words (`ParagraphVectors`).
        row_cap: examples' worth of update a word's output row may take per batch (`ParagraphVectors`).
        counts: training count of each word (`DocumentInfo.counts`).

    Example:
        >>> model = build_paragraph_vectors(documents=2, vocab_size=4, dim=8, counts=np.array([0, 3, 2, 1]))
        >>> model.infer(tf.ragged.constant([[1, 2], []]), epochs=2).shape
        TensorShape([2, 8])
    """
    model = ParagraphVectors(
        documents=documents,
        vocab_size=vocab_size,
        dim=dim,
        mode=mode,
        dm_combine=dm_combine,
        window=window,
        negatives=negatives,
        bag_update=bag_update,
        row_cap=row_cap,
    )
    if counts is not None:
        model.negative_cdf.assign(negative_cdf(np.asarray(counts)))
    return model
