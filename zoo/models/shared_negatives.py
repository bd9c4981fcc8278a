"""One trainer for skip-gram, CBOW and PV-DBOW: groups of examples share their negative samples (issue 28).

word2vec.c draws K fresh negatives for every (input, output) pair, so each pair costs 1 + K row gathers
and scatters of the output table, one tiny dot product at a time. Here a *group* of G examples shares
one set of K negatives (Ji et al., "Parallelizing Word2Vec in Shared and Distributed Memory", 2016,
share them over a target's window; TensorFlow's old word2vec tutorial over the whole batch): the
negative scores of a group are one (G x d) @ (d x K) product and each negative row is gathered and
updated once per group, so an example costs about 2 + K / G rows instead of 2 + K.

The public seam is `shared_negatives_gradients`, a pure function of the two tables and a batch of
groups, and `SharedNegatives`, the Keras model that applies it with SGD inside `model.fit`:

- skip-gram: `inputs` (N, G) target words, `positives` (N, G) their context words;
- CBOW: `inputs` (N, G, C) the context words of G centres with `input_mask` (N, G, C), `positives`
  (N, G) the centres (the input vector is the mean of the context vectors, as word2vec.c's `cbow`);
- PV-DBOW (chapter 14): `inputs` (N, G) paragraph ids into a paragraph table (`input_rows` = number of
  paragraphs), `positives` (N, G) words of those paragraphs, the output table over the vocabulary.
  When a group is G words of *one* paragraph, `shared_input_gradients` also shares its input vector.

In every case `negatives` (N, K) are ids into the output table shared by the group's G examples.
"""

from __future__ import annotations

import keras
import tensorflow as tf

BAG_UPDATES = ("word2vec", "mean")

# Batches per call of the compiled train function: a shared-negatives step takes 1-12 ms and Keras' own work
# around each call about 1.4 ms of CPU (issue 28, `benchmarks/shared_step_parts.py`). CBOW's 4,096-window steps
# ran at 1.24M words/s with 16 per call against 0.89M with one; PV-DBOW's 1.7 ms steps took 1.25 ms. One under
# a multi-replica strategy, where Keras 3.15's multi-step loop fails on a distributed stream of unknown length.
STEPS_PER_EXECUTION = 16


def steps_per_call(steps_per_execution: int) -> int:
    """`steps_per_execution` for `model.compile`, or 1 under a multi-replica strategy."""
    replicated = tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1
    return 1 if replicated else steps_per_execution


def shared_negatives_gradients(
    input_table: tf.Tensor,
    output_table: tf.Tensor,
    inputs: tf.Tensor,
    positives: tf.Tensor,
    negatives: tf.Tensor,
    input_mask: tf.Tensor | None = None,
    bag_update: str = "word2vec",
) -> tuple[tf.Tensor, tf.Tensor, tf.IndexedSlices, tf.IndexedSlices]:
    """Loss and closed-form gradients of negative sampling for groups that share their negatives.

    The loss of one example (input vector h, positive output u, the group's negatives n_1..n_K) is
    word2vec's `-log sigmoid(h.u) - sum_k log sigmoid(-h.n_k)`; a negative equal to the example's
    positive is skipped (word2vec.c's `if (target == word) continue`). The loss is summed over the
    examples, so SGD on these gradients applies the sum of word2vec's per-example updates.

    Args:
        input_table: (input_rows, d) input vectors (word2vec's `syn0`; PV-DBOW: paragraph vectors).
        output_table: (output_rows, d) output vectors (word2vec's `syn1neg`).
        inputs: (N, G) input ids, or (N, G, C) bags of ids whose masked mean is the input vector.
        positives: (N, G) output id of each example.
        negatives: (N, K) output ids shared by the G examples of each group.
        input_mask: (N, G, C) float weights of bag members (1 = present, 0 = padding); needed with
            rank-3 `inputs`. An example whose bag is empty is ignored.
        bag_update: for bags, `"word2vec"` gives every member the gradient of the mean vector (as
            word2vec.c and gensim's `cbow_mean=1` do), `"mean"` the true gradient (that divided by
            the bag size).

    Returns:
        `(loss_sum, examples, input_gradient, output_gradient)`: the summed loss, the number of
        examples counted, and the gradients of `loss_sum` for both tables as `tf.IndexedSlices`
        (rows may repeat; a scatter-add applies them).

    Example:
        >>> loss, n, g_in, g_out = shared_negatives_gradients(
        ...     tf.random.normal((10, 4)), tf.random.normal((10, 4)),
        ...     inputs=tf.constant([[1, 2]]), positives=tf.constant([[3, 4]]), negatives=tf.constant([[5, 6, 7]]))
        >>> g_in.values.shape, g_out.values.shape   # 2 input rows; 2 positive + 3 negative output rows
        (TensorShape([2, 4]), TensorShape([5, 4]))
    """
    if bag_update not in BAG_UPDATES:
        raise ValueError(f"bag_update must be one of {BAG_UPDATES}, got {bag_update!r}")
    dim = tf.shape(input_table)[1]
    if input_mask is None:
        h = tf.gather(input_table, inputs)  # (N, G, d)
        weight = tf.ones(tf.shape(inputs), h.dtype)
    else:
        input_mask = tf.cast(input_mask, input_table.dtype)
        count = tf.reduce_sum(input_mask, axis=-1)  # (N, G)
        h = tf.einsum("ngc,ngcd->ngd", input_mask, tf.gather(input_table, inputs)) / tf.maximum(count, 1.0)[..., None]
        weight = tf.cast(count > 0, h.dtype)
    u_pos = tf.gather(output_table, positives)  # (N, G, d)
    u_neg = tf.gather(output_table, negatives)  # (N, K, d)
    s_pos = tf.reduce_sum(h * u_pos, axis=-1)  # (N, G)
    s_neg = tf.einsum("ngd,nkd->ngk", h, u_neg)  # one (G x d) @ (d x K) product per group
    neg_weight = weight[..., None] * tf.cast(negatives[:, None, :] != positives[..., None], h.dtype)
    loss = tf.reduce_sum(weight * tf.nn.softplus(-s_pos)) + tf.reduce_sum(neg_weight * tf.nn.softplus(s_neg))
    e_pos = weight * (tf.sigmoid(s_pos) - 1.0)  # d loss / d s_pos
    e_neg = neg_weight * tf.sigmoid(s_neg)  # d loss / d s_neg
    d_h = e_pos[..., None] * u_pos + tf.einsum("ngk,nkd->ngd", e_neg, u_neg)
    d_pos = e_pos[..., None] * h
    d_neg = tf.einsum("ngk,ngd->nkd", e_neg, h)  # each shared negative's rows summed over its group
    output_gradient = tf.IndexedSlices(
        tf.concat([tf.reshape(d_pos, (-1, dim)), tf.reshape(d_neg, (-1, dim))], axis=0),
        tf.concat([tf.reshape(positives, (-1,)), tf.reshape(negatives, (-1,))], axis=0),
        tf.shape(output_table),
    )
    if input_mask is None:
        rows = tf.reshape(d_h, (-1, dim))
    else:
        share = input_mask if bag_update == "word2vec" else input_mask / tf.maximum(count, 1.0)[..., None]
        rows = tf.reshape(share[..., None] * d_h[:, :, None, :], (-1, dim))
    input_gradient = tf.IndexedSlices(
        rows,
        tf.reshape(inputs, (-1,)),
        tf.shape(input_table),
    )
    return loss, tf.reduce_sum(weight), input_gradient, output_gradient


def shared_input_gradients(
    input_table: tf.Tensor,
    output_table: tf.Tensor,
    inputs: tf.Tensor,
    positives: tf.Tensor,
    negatives: tf.Tensor,
    weights: tf.Tensor,
) -> tuple[tf.Tensor, tf.Tensor, tf.IndexedSlices, tf.IndexedSlices]:
    """`shared_negatives_gradients` for groups whose G examples also share their *input* vector.

    PV-DBOW's document vector predicts every word of its document, so a group can be G words of one
    document: the group's K negative scores are then one (d) @ (d x K) product, not G of them, and its
    input row is gathered and updated once. An example costs one dot product and one output row
    (plus (K + 1) / G of each for the group), where a group of random pairs costs 1 + K dot products
    and two rows. The gradients are those of the same per-example loss, summed over the group.

    Args:
        input_table: (input_rows, d) input vectors (PV-DBOW: paragraph vectors).
        output_table: (output_rows, d) output vectors.
        inputs: (N,) the input id of each group.
        positives: (N, G) output id of each example.
        negatives: (N, K) output ids shared by each group.
        weights: (N, G) 1 for an example, 0 for a padding slot (a group with fewer than G words).

    Returns:
        `(loss_sum, examples, input_gradient, output_gradient)` as `shared_negatives_gradients`.

    Example:
        >>> loss, n, g_in, g_out = shared_input_gradients(
        ...     tf.random.normal((10, 4)), tf.random.normal((10, 4)), inputs=tf.constant([1]),
        ...     positives=tf.constant([[3, 4, 0]]), negatives=tf.constant([[5, 6]]),
        ...     weights=tf.constant([[1.0, 1.0, 0.0]]))
        >>> float(n), g_in.values.shape, g_out.values.shape   # 1 input row; 3 positive slots + 2 negatives
        (2.0, TensorShape([1, 4]), TensorShape([5, 4]))
    """
    dim = tf.shape(input_table)[1]
    h = tf.gather(input_table, inputs)  # (N, d)
    weights = tf.cast(weights, h.dtype)
    u_pos = tf.gather(output_table, positives)  # (N, G, d)
    u_neg = tf.gather(output_table, negatives)  # (N, K, d)
    s_pos = tf.einsum("nd,ngd->ng", h, u_pos)
    s_neg = tf.einsum("nd,nkd->nk", h, u_neg)  # the same for every example of the group
    # a negative counts once per example of its group, except where it is that example's positive
    counted = tf.einsum("ng,ngk->nk", weights, tf.cast(negatives[:, None, :] != positives[..., None], h.dtype))
    loss = tf.reduce_sum(weights * tf.nn.softplus(-s_pos)) + tf.reduce_sum(counted * tf.nn.softplus(s_neg))
    e_pos = weights * (tf.sigmoid(s_pos) - 1.0)
    e_neg = counted * tf.sigmoid(s_neg)
    d_h = tf.einsum("ng,ngd->nd", e_pos, u_pos) + tf.einsum("nk,nkd->nd", e_neg, u_neg)
    d_pos = e_pos[..., None] * h[:, None, :]
    d_neg = e_neg[..., None] * h[:, None, :]
    output_gradient = tf.IndexedSlices(
        tf.concat([tf.reshape(d_pos, (-1, dim)), tf.reshape(d_neg, (-1, dim))], axis=0),
        tf.concat([tf.reshape(positives, (-1,)), tf.reshape(negatives, (-1,))], axis=0),
        tf.shape(output_table),
    )
    input_gradient = tf.IndexedSlices(d_h, tf.reshape(inputs, (-1,)), tf.shape(input_table))
    return loss, tf.reduce_sum(weights), input_gradient, output_gradient


def cap_repeated_rows(gradient: tf.IndexedSlices, cap: float, examples: tf.Tensor | None = None) -> tf.IndexedSlices:
    """Scale the rows of `gradient` so that no table row takes more than `cap` examples' worth of update in one step.

    word2vec.c applies its updates one example at a time, each on the vectors the last one left; a batch
    sums them all at the same point. A word in n examples of a batch moves n times as far at once, and
    for the most frequent words of a small vocabulary (PTB's "the" in about 270 of 4,096 CBOW windows)
    that step overshoots and training diverges. Here a row's summed update is multiplied by
    `min(1, cap / n)`, n its examples in the batch: rows in at most `cap` examples keep word2vec's exact
    sum, the most frequent ones move as far as `cap` examples' mean would take them.

    Args:
        gradient: rows of a table's gradient (indices may repeat).
        cap: examples' worth of update a row may take per step (> 0).
        examples: (rows,) the examples of the batch each table row is in (a shared negative counts its
            group's G examples); default: how often each row's index repeats in `gradient`.

    Example:
        >>> g = tf.IndexedSlices(tf.ones((3, 2)), tf.constant([4, 4, 7]), tf.constant([10, 2]))
        >>> cap_repeated_rows(g, cap=1.0).values.numpy().tolist()   # row 4 twice: each entry halved
        [[0.5, 0.5], [0.5, 0.5], [1.0, 1.0]]
    """
    indices = tf.reshape(gradient.indices, (-1,))
    if examples is None:
        examples = row_counts(indices, gradient.dense_shape[0], dtype=gradient.values.dtype)
    examples = tf.cast(examples, gradient.values.dtype)
    scale = tf.minimum(1.0, cap / tf.maximum(tf.gather(examples, indices), 1.0))
    return tf.IndexedSlices(gradient.values * scale[:, None], gradient.indices, gradient.dense_shape)


def row_counts(ids: tf.Tensor, rows, weight=1.0, dtype=tf.float32) -> tf.Tensor:
    """(rows,) how many times each row id occurs in `ids` (any shape), each occurrence counting `weight`."""
    ids = tf.reshape(ids, (-1,))
    return tf.math.unsorted_segment_sum(tf.fill(tf.shape(ids), tf.cast(weight, dtype)), ids, tf.cast(rows, ids.dtype))


@keras.saving.register_keras_serializable(package="zoo")
class SharedNegatives(keras.Model):
    """Two embedding tables trained by SGD on `shared_negatives_gradients` in `model.fit` (skip-gram, CBOW, PV-DBOW).

    The batches are dicts `{"inputs", "positives", "negatives"}` (plus `"input_mask"` for bags), as
    `shared_negatives_gradients` takes them; `fit` applies the summed per-example updates with the
    compiled optimizer (plain SGD keeps them sparse: a scatter of the touched rows). The loss it
    reports is the mean binary cross-entropy per scored column (1 + K per example), as the per-pair
    skip-gram model's. Calling the model returns the scores `(N, G, 1 + K)` (positive first).

    Args:
        input_rows: rows of the input table (vocabulary size; PV-DBOW: number of paragraphs).
        output_rows: rows of the output table (vocabulary size).
        dim: vector size.
        bag_update: how bag members share the mean's gradient (`shared_negatives_gradients`).
        row_cap: examples' worth of update a table row may take in one step (`cap_repeated_rows`);
            `None` applies every batch's exact sum (which diverges when a word fills much of a batch).

    Example:
        >>> model = SharedNegatives(input_rows=100, output_rows=100, dim=8)
        >>> model.compile(optimizer=keras.optimizers.SGD(0.025))
        >>> batch = {"inputs": [[1, 2]], "positives": [[3, 4]], "negatives": [[5, 6, 7]]}
        >>> model.train_on_batch(tf.data.Dataset.from_tensors(batch))
    """

    def __init__(
        self,
        *,
        input_rows: int,
        output_rows: int,
        dim: int,
        bag_update: str = "word2vec",
        row_cap: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if bag_update not in BAG_UPDATES:
            raise ValueError(f"bag_update must be one of {BAG_UPDATES}, got {bag_update!r}")
        if row_cap is not None and not row_cap > 0:
            raise ValueError(f"row_cap must be > 0 or None, got {row_cap!r}")
        self.input_rows, self.output_rows, self.dim, self.bag_update = input_rows, output_rows, dim, bag_update
        self.row_cap = row_cap
        # word2vec.c's start: inputs uniform(-0.5/d, 0.5/d), outputs zero
        self.input_embedding = keras.layers.Embedding(
            input_rows,
            dim,
            embeddings_initializer=keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim),
            name="input_embedding",
        )
        self.output_embedding = keras.layers.Embedding(
            output_rows, dim, embeddings_initializer="zeros", name="output_embedding"
        )
        self.input_embedding.build()
        self.output_embedding.build()
        self.built = True  # both tables exist: fit's BackupAndRestore and weight loading need a built model
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, batch):
        h = self.input_embedding(batch["inputs"])
        if "input_mask" in batch:
            mask = tf.cast(batch["input_mask"], h.dtype)
            h = tf.einsum("ngc,ngcd->ngd", mask, h) / tf.maximum(tf.reduce_sum(mask, -1), 1.0)[..., None]
        positive = tf.reduce_sum(h * self.output_embedding(batch["positives"]), axis=-1, keepdims=True)
        return tf.concat([positive, tf.einsum("ngd,nkd->ngk", h, self.output_embedding(batch["negatives"]))], axis=-1)

    def _loss_and_gradients(self, batch):
        batch = batch[0] if isinstance(batch, tuple) else batch
        loss, examples, g_in, g_out = shared_negatives_gradients(
            self.input_embedding.embeddings,
            self.output_embedding.embeddings,
            batch["inputs"],
            batch["positives"],
            batch["negatives"],
            batch.get("input_mask"),
            self.bag_update,
        )
        columns = tf.cast(1 + tf.shape(batch["negatives"])[-1], loss.dtype)
        return loss / tf.maximum(examples * columns, 1.0), examples * columns, g_in, g_out

    def train_step(self, data):
        mean_loss, weight, g_in, g_out = self._loss_and_gradients(data)
        if self.row_cap is not None:
            batch = data[0] if isinstance(data, tuple) else data
            positives, negatives = batch["positives"], batch["negatives"]
            group = tf.shape(positives)[1]  # a shared negative's update sums its group's G examples
            examples = row_counts(positives, self.output_rows) + row_counts(negatives, self.output_rows, group)
            g_in = cap_repeated_rows(g_in, self.row_cap)
            g_out = cap_repeated_rows(g_out, self.row_cap, examples)
        self.optimizer.apply([g_in, g_out], [self.input_embedding.embeddings, self.output_embedding.embeddings])
        self.loss_tracker.update_state(mean_loss, sample_weight=weight)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        mean_loss, weight, _, _ = self._loss_and_gradients(data)
        self.loss_tracker.update_state(mean_loss, sample_weight=weight)
        return {"loss": self.loss_tracker.result()}

    def get_config(self):
        return {
            **super().get_config(),
            "input_rows": self.input_rows,
            "output_rows": self.output_rows,
            "dim": self.dim,
            "bag_update": self.bag_update,
            "row_cap": self.row_cap,
        }
