"""Chapter 14 sequence autoencoder (Dai & Le 2015, "Semi-supervised Sequence Learning", SA-LSTM).

An LSTM encoder reads a sentence; an LSTM decoder, started from the encoder's final state (hidden
and cell), regenerates the same sentence word by word with teacher forcing. The encoder's final
hidden state is the sentence's vector (served by `zoo.models.sentence_encoder.SentenceEncoder`, as
skip-thought's). Dai & Le's main use is different: the autoencoder's embedding and encoder LSTM
initialise an LSTM classifier (`build_sentence_classifier`), which then trains better than the same
classifier from random weights.

Departures from the paper, for a 2-core CPU and to share skip-thought's data: the model reads
sentences cut from the corpus, at most `sequence_length` words each (the paper reads whole
documents, hundreds of words); the sizes are small (the paper's LSTMs have about a thousand
units); there is no end-of-sentence token (the decoder is never asked where to stop, only what
each real word is); and the softmax is a full `Dense` over the vocabulary.
"""

from __future__ import annotations

import keras

from zoo.models.classifier import classifier_head
from zoo.models.sentence_encoder import compile_decoders


def build_sequence_autoencoder(*, vocab_size: int, embedding_dim: int, units: int, sequence_length: int) -> keras.Model:
    """Sequence autoencoder `{"sentence", "reconstruction_in"}` (each `(batch, L)` ids) -> `{"reconstruction"}` logits.

    `sentence` holds a `TextVectorization`'s ids (0 = padding, 1 = out of vocabulary);
    `reconstruction_in` is the start id (`vocab_size`) followed by the sentence shifted right
    (teacher forcing: `zoo.data.documents.sequence_autoencoder_data` makes both). The logits
    `(batch, L, vocab_size)` predict the sentence itself; `compile_sequence_autoencoder` ignores
    the padding in the loss. The encoder and decoder share the word embeddings.

    Args:
        vocab_size: the vectoriser's vocabulary (padding 0, OOV 1); the start id is `vocab_size`.
        embedding_dim: word embedding size.
        units: LSTM size of the encoder and of the decoder (the sentence vector's size).
        sequence_length: L, words per sentence.

    Example:
        >>> model = build_sequence_autoencoder(vocab_size=50, embedding_dim=8, units=16, sequence_length=5)
        >>> ids = np.array([[4, 7, 9, 0, 0]], "int32")
        >>> shifted = np.array([[50, 4, 7, 9, 0]], "int32")  # the start id, then the sentence shifted right
        >>> model({"sentence": ids, "reconstruction_in": shifted})["reconstruction"].shape
        TensorShape([1, 5, 50])
    """
    sentence = keras.Input((sequence_length,), dtype="int32", name="sentence")
    shifted = keras.Input((sequence_length,), dtype="int32", name="reconstruction_in")
    embedding = keras.layers.Embedding(vocab_size + 1, embedding_dim, mask_zero=True, name="embedding")
    _, hidden, cell = keras.layers.LSTM(units, return_state=True, name="encoder")(embedding(sentence))
    states = keras.layers.LSTM(units, return_sequences=True, name="decoder")(
        embedding(shifted), initial_state=[hidden, cell]
    )
    logits = keras.layers.Dense(vocab_size, name="vocabulary")(states)
    outputs = {"reconstruction": keras.layers.Identity(name="reconstruction")(logits)}
    return keras.Model({"sentence": sentence, "reconstruction_in": shifted}, outputs, name="sequence_autoencoder")


def compile_sequence_autoencoder(
    model: keras.Model, *, learning_rate: float = 1e-3, clipnorm: float = 10.0
) -> keras.Model:
    """Adam, gradient norms clipped at `clipnorm` (0 = off), per-word cross-entropy over the real words
    only (padding ignored), as skip-thought; returns `model`."""
    return compile_decoders(model, learning_rate=learning_rate, clipnorm=clipnorm)


def build_sentence_classifier(
    *,
    vocab_size: int,
    embedding_dim: int,
    units: int,
    sequence_length: int,
    num_classes: int = 2,
    dropout: float = 0.5,
    pretrained: keras.Model | None = None,
) -> keras.Model:
    """Dai & Le's LSTM classifier: ids `(batch, L)` -> embedding -> LSTM final state -> dropout -> classes.

    Its `embedding` and `encoder` have the shapes of `build_sequence_autoencoder`'s, so a trained
    autoencoder can start them (SA-LSTM); without one they start from random weights (the paper's
    LSTM baseline). Everything is trained afterwards (fine-tuning), the output layer from scratch.

    Args:
        vocab_size, embedding_dim, units, sequence_length: as `build_sequence_autoencoder`.
        num_classes: 2 gives one sigmoid unit (`zoo.models.classifier.classifier_head`).
        dropout: rate on the sentence vector before the output layer.
        pretrained: a `build_sequence_autoencoder` model whose `embedding` and `encoder` weights are
            copied, or None.

    Example:
        >>> autoencoder = build_sequence_autoencoder(vocab_size=50, embedding_dim=8, units=16, sequence_length=5)
        >>> classifier = build_sentence_classifier(vocab_size=50, embedding_dim=8, units=16, sequence_length=5,
        ...                                        pretrained=autoencoder)
        >>> classifier(np.array([[4, 7, 9, 0, 0]], "int32")).shape
        TensorShape([1, 1])
    """
    ids = keras.Input((sequence_length,), dtype="int32", name="ids")
    embedding = keras.layers.Embedding(vocab_size + 1, embedding_dim, mask_zero=True, name="embedding")
    vector = keras.layers.LSTM(units, name="encoder")(embedding(ids))
    x = keras.layers.Dropout(dropout)(vector)
    model = keras.Model(ids, classifier_head(x, num_classes), name="sa_lstm" if pretrained else "lstm")
    if pretrained is not None:
        for name in ("embedding", "encoder"):
            model.get_layer(name).set_weights(pretrained.get_layer(name).get_weights())
    return model
