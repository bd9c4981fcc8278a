"""Chapter 11 self-attentive sentence classifier (Lin et al. 2017) and its serving models.

    ids -> Embedding(mask_zero) -> BiLSTM(u, return_sequences) -> SelfAttention(r hops, d_a)
        -> M (r x 2u) -> Flatten -> Dense(relu) -> Dropout -> Dense(k, softmax)

Differences from the book (bugs fixed): the attention softmax runs over the tokens, not the hops;
the penalty is the squared Frobenius norm times a coefficient, averaged over the batch, and is
actually added to the loss (see `zoo.layers.self_attention`); padding is masked. The book's accuracy
metric does not measure what it claims (REFERENCES.md); here it is explicit: `SparseCategoricalAccuracy`
on the softmax over k classes with integer labels, plus `MacroF1` for k > 2, and the attention
penalty is logged as its own metric. The author's code also builds `Adam(learning_rate=0.005)` but
compiles with the string `'adam'` (so 0.001 is used); here the learning rate passed is the one used.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.layers.self_attention import SelfAttention
from zoo.losses import SmoothedSparseCrossentropy
from zoo.metrics.classification import MacroF1
from zoo.models.classifier import vectors_dim
from zoo.regularizers import Orthogonality, l1_activity

ATTENTION_LAYER = "self_attention"


def build_self_attentive_classifier(
    *,
    vocab_size: int,
    sequence_length: int | None,
    num_classes: int,
    embedding_dim: int = 50,
    vectors: np.ndarray | None = None,
    freeze_vectors: bool = False,
    units: int = 200,
    hops: int = 50,
    attention_units: int = 30,
    penalty: float = 1.0,
    dense_units: int = 128,
    dropout: float = 0.5,
    regularizer: str = "none",
    penalty_gradient: str = "all",
) -> keras.Model:
    """Lin et al.'s self-attentive sentence embedding with an MLP classifier on the flattened M.

    Args:
        vocab_size: rows of the embedding (id 0 = padding, masked).
        sequence_length: tokens per text (`None` for any length).
        num_classes: k; the output is a softmax over k classes (also for k = 2, as the author's code).
        embedding_dim: embedding size (the author's code: 50; taken from `vectors` when given).
        vectors: optional `(vocab_size, dim)` pre-trained matrix aligned to the vocabulary
            (`zoo.data.vectors.load_word_vectors`), copied into the embedding after building.
        freeze_vectors: keep those vectors fixed (default: fine-tune them, as Lin et al.).
        units: u, LSTM units per direction (the code: 200; H has 2u features).
        hops, attention_units, penalty: r, d_a and the penalty coefficient (code: 50, 30, 1).
        penalty_gradient: `"all"` (Lin et al.) or `"attention"`: what the penalty trains (`SelfAttention`).
        dense_units: the hidden layer of the classifier MLP (the code: 128).
        dropout: dropout before the output layer (Lin et al.: 0.5; the author's code: none).
        regularizer: `"none"`, `"l1_activity"` (`zoo.regularizers.l1_activity` on the hidden
            layer's activations) or `"orthogonal"` (`zoo.regularizers.Orthogonality(1e-4)` on its
            kernel): the chapter 11.3 custom regularisers.

    Returns:
        An uncompiled `keras.Model`, int ids `(batch, sequence_length)` -> probabilities `(batch, k)`.
        `attention_model(model)` adds the attention matrix A as a second output.

    Example:
        >>> model = build_self_attentive_classifier(vocab_size=100, sequence_length=12, num_classes=3,
        ...                                         units=8, hops=4, attention_units=5, dense_units=16)
        >>> model.output_shape
        (None, 3)
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if regularizer not in ("none", "l1_activity", "orthogonal"):
        raise ValueError(f"regularizer must be none, l1_activity or orthogonal, got {regularizer!r}")
    embedding_dim = vectors_dim(vectors, vocab_size=vocab_size, embedding_dim=embedding_dim)
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")
    embedding = keras.layers.Embedding(
        vocab_size,
        embedding_dim,
        mask_zero=True,
        trainable=not (vectors is not None and freeze_vectors),
        name="embedding",
    )
    x = embedding(ids)
    h = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    m, _ = SelfAttention(
        hops=hops,
        attention_units=attention_units,
        penalty=penalty,
        penalty_gradient=penalty_gradient,
        name=ATTENTION_LAYER,
    )(h)
    x = keras.layers.Flatten(name="flatten_m")(m)
    x = keras.layers.Dense(
        dense_units,
        activation="relu",
        name="hidden",
        activity_regularizer=l1_activity if regularizer == "l1_activity" else None,
        kernel_regularizer=Orthogonality(1e-4) if regularizer == "orthogonal" else None,
    )(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    model = keras.Model(ids, outputs, name="self_attentive")
    if vectors is not None:  # after building: a Constant initialiser would copy the matrix into the config
        embedding.set_weights([np.asarray(vectors, "float32")])
    return model


def compile_self_attentive(
    model: keras.Model,
    *,
    num_classes: int,
    learning_rate: float = 1e-3,
    label_smoothing: float = 0.0,
    optimizer: str = "adam",
    clipnorm: float = 0.0,
) -> keras.Model:
    """The optimizer, sparse cross-entropy (label-smoothed when `label_smoothing` > 0), accuracy, macro F1 (k > 2).

    The loss is `zoo.losses.SmoothedSparseCrossentropy` (the chapter 11.3 `Loss` subclass; with
    smoothing 0 it is plain sparse cross-entropy). The attention penalty joins it through `add_loss`.

    Args:
        optimizer: `"adam"` (the author's code) or `"sgd"` (Lin et al.: plain SGD, learning rate 0.06,
            with gradient clipping).
        clipnorm: global gradient-norm clip (0 = none; Lin et al. clip at 0.5).
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be adam or sgd, got {optimizer!r}")
    opt = (keras.optimizers.Adam if optimizer == "adam" else keras.optimizers.SGD)(
        learning_rate, global_clipnorm=clipnorm or None
    )
    metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    if num_classes > 2:
        metrics.append(MacroF1(num_classes))
    model.compile(optimizer=opt, loss=SmoothedSparseCrossentropy(label_smoothing), metrics=metrics)
    return model


def attention_model(model: keras.Model) -> keras.Model:
    """The same weights with two outputs: `{"probabilities": (batch, k), "attention": A (batch, r, n)}`."""
    attention = model.get_layer(ATTENTION_LAYER).output[1]
    return keras.Model(
        model.input, {"probabilities": model.outputs[0], "attention": attention}, name=f"{model.name}_attention"
    )


_STRIP_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'  # TextVectorization's own pattern


@keras.saving.register_keras_serializable(package="zoo")
class TokenStrings(keras.layers.Layer):
    """Raw strings -> the tokens a `TextVectorization` sees, `(batch, sequence_length)`, padded with "".

    Applies the vectoriser's standardisation and whitespace split, so token i lines up with id i of
    the vectoriser's output (also for out-of-vocabulary words, which show as themselves, not [UNK]).

    Args:
        standardize: the vectoriser's `standardize` (a name it accepts, `None`, or a registered function).
        sequence_length: tokens kept per text.
    """

    def __init__(self, standardize="lower_and_strip_punctuation", sequence_length: int = 50, **kwargs):
        super().__init__(**kwargs)
        if isinstance(standardize, dict):
            standardize = keras.saving.deserialize_keras_object(standardize)
        self.standardize = standardize
        self.sequence_length = int(sequence_length)

    @classmethod
    def like(cls, vectorizer: keras.layers.TextVectorization) -> TokenStrings:
        """Tokens exactly as `vectorizer` splits them (whitespace split only)."""
        config = vectorizer.get_config()
        if config["split"] != "whitespace" or not config["output_sequence_length"]:
            raise ValueError("TokenStrings needs a vectorizer with split='whitespace' and output_sequence_length")
        return cls(config["standardize"], config["output_sequence_length"], name="tokens")

    def call(self, text):
        text = tf.convert_to_tensor(text, tf.string)
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = tf.strings.lower(text)
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = tf.strings.regex_replace(text, _STRIP_PUNCTUATION, "")
        if callable(self.standardize):
            text = self.standardize(text)
        tokens = tf.strings.split(text)
        return tokens.to_tensor(default_value="", shape=[None, self.sequence_length])

    def compute_output_spec(self, text):
        return keras.KerasTensor((text.shape[0], self.sequence_length), dtype="string")

    def get_config(self):
        standardize = self.standardize
        if callable(standardize):
            standardize = keras.saving.serialize_keras_object(standardize)
        return {**super().get_config(), "standardize": standardize, "sequence_length": self.sequence_length}


def explain_model(vectorizer: keras.layers.TextVectorization, model: keras.Model) -> keras.Model:
    """Raw strings -> `{"probabilities", "tokens", "weights"}`: the SavedModel's `attention` endpoint.

    `weights` `(batch, sequence_length)` are the attention rows summed over the hops and divided
    by r (Lin et al.'s visualisation), so each text's weights sum to 1 over its real tokens and are
    0 on padding; `tokens` are the matching strings ("" for padding).
    """
    text = keras.Input(shape=(), dtype="string", name="text")
    outputs = attention_model(model)(vectorizer(text))
    weights = keras.layers.GlobalAveragePooling1D(name="hop_mean")(outputs["attention"])  # mean over axis 1 (hops)
    return keras.Model(
        text,
        {"probabilities": outputs["probabilities"], "tokens": TokenStrings.like(vectorizer)(text), "weights": weights},
        name=f"{model.name}_explain",
    )


def string_classifier(vectorizer: keras.layers.TextVectorization, model: keras.Model) -> keras.Model:
    """Raw strings (a 1-D batch) -> class probabilities: the `serve` endpoint."""
    text = keras.Input(shape=(), dtype="string", name="text")
    return keras.Model(text, model(vectorizer(text)), name=f"{model.name}_serving")


class SelfAttentiveServing(keras.Model):
    """The exported model: raw strings in, with two endpoints in one SavedModel.

    - `serve(text)` -> class probabilities `(batch, k)` (what `TFSMLayer(path, call_endpoint="serve")` gives);
    - `attention(text)` -> `{"probabilities", "tokens", "weights"}` (see `explain_model`), so another
      program can draw the same highlights as the run's `attention.html`. (The endpoint is named like
      chapter 11's translator's `attention` endpoint, `zoo.models.seq2seq.Translator`.)

    `zoo.export.save_serving` writes `serve` (this model's `call` on `input_signature`, the 1-D
    string batch) and the `endpoints` property's `attention`.

    Args:
        vectorizer: the `TextVectorization` adapted on the training texts.
        model: the trained classifier from `build_self_attentive_classifier`.
    """

    def __init__(self, vectorizer: keras.layers.TextVectorization, model: keras.Model, **kwargs):
        super().__init__(name=kwargs.pop("name", f"{model.name}_serving"), **kwargs)
        self.classifier = string_classifier(vectorizer, model)
        self.explainer = explain_model(vectorizer, model)
        self.input_signature = [tf.TensorSpec([None], tf.string, name="text")]
        self.built = True

    def call(self, text):
        return self.classifier(text)

    def attention(self, text):
        return self.explainer(text)

    @property
    def endpoints(self) -> dict:
        """The SavedModel's endpoints besides `serve` (`zoo.export.save_serving` writes them)."""
        return {"attention": (self.attention, self.input_signature)}


def mean_pairwise_overlap(attention: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean over texts and hop pairs i < j of sum_t min(A_i,t, A_j,t): 1 = hops identical, 0 = disjoint.

    The number Lin et al. (section 4.4) use to show what the penalty does: without it the hops
    collapse onto the same tokens. `attention` is `(texts, hops, n)`.
    """
    attention = np.asarray(attention, "float64")
    if mask is not None:
        attention = attention * np.asarray(mask, "float64")[:, None, :]
    r = attention.shape[1]
    if r < 2:
        raise ValueError("overlap needs at least two hops")
    i, j = np.triu_indices(r, k=1)
    return float(np.minimum(attention[:, i, :], attention[:, j, :]).sum(-1).mean())


def explain(explainer, texts: Sequence[str]) -> list[dict]:
    """Run an explain model (or a loaded SavedModel's `attention` endpoint) on texts.

    Returns one dict per text: `text`, its `tokens` (padding dropped), their `weights` and the
    class `probabilities`.
    """
    out = explainer(tf.constant(list(texts)))
    tokens, weights = np.asarray(out["tokens"]), np.asarray(out["weights"])
    probabilities = np.asarray(out["probabilities"])
    rows = []
    for k, text in enumerate(texts):
        real = [t.decode() if isinstance(t, bytes) else str(t) for t in tokens[k]]
        real = [t for t in real if t]
        rows.append(
            {
                "text": text,
                "tokens": real,
                "weights": weights[k, : len(real)].tolist(),
                "probabilities": probabilities[k].tolist(),
            }
        )
    return rows


def attend(
    model: keras.Model, vectorizer: keras.layers.TextVectorization, texts: Sequence[str], batch_size: int = 256
) -> dict[str, np.ndarray]:
    """Tokens `(m, n)`, attention A `(m, r, n)`, probabilities `(m, k)` and the padding mask for raw texts."""
    probe = attention_model(model)
    tokenize = TokenStrings.like(vectorizer)
    parts = {"tokens": [], "attention": [], "probabilities": [], "mask": []}
    for start in range(0, len(texts), batch_size):
        batch = tf.constant(list(texts[start : start + batch_size]))
        ids = vectorizer(batch)
        out = probe(ids, training=False)
        parts["tokens"].append(np.asarray(tokenize(batch)))
        parts["attention"].append(np.asarray(out["attention"]))
        parts["probabilities"].append(np.asarray(out["probabilities"]))
        parts["mask"].append(np.asarray(ids) != 0)
    return {key: np.concatenate(value) for key, value in parts.items()}
