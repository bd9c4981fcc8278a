"""Chapter 14 skip-thought vectors (Kiros et al. 2015): a GRU encoder, two GRU decoders (previous, next sentence).

The book gives the equations only. As in the paper, a sentence's encoder state is its vector; one
decoder regenerates the previous sentence and one the next, both conditioned on that vector and
sharing the vocabulary matrix (one output `Dense` layer) and the word embeddings. Each decoder starts
from the sentence vector and, as the paper's C_z, C_r and C matrices add it to every gate at every
step, reads it at every step: concatenated to the word's embedding, which is the same sum. (From the
initial state alone, one epoch on 98,000 IMDB triples collapsed the encoder to one saturated vector
for every sentence, cosine 1.0 between any two, and rt-polarity scored at chance: 48.2% error; the
decoders had learned the language model first and found no use for the vector.) Reading it at every step
did not stop the collapse (cosine 0.996, 46.9% error); layer-normalised GRUs did, as in TensorFlow's
skip-thoughts reference code and the layer-norm paper (Ba et al. 2016): the three GRUs are
`zoo.layers.layer_norm_gru.LayerNormGRUCell`s (`layer_norm=False`: Keras' `GRU`). Simplifications, for
a 2-core CPU: sizes are small (the paper: 620-d words, 2,400 units, 20,000 words, two weeks of
training on BookCorpus), and a sentence's ids come from a
`TextVectorization` (0 = padding, 1 = out of vocabulary); the decoders read `start` (id = vocab_size)
followed by the target sentence shifted right (teacher forcing).
"""

from __future__ import annotations

import keras

from zoo.layers.layer_norm_gru import LayerNormGRUCell
from zoo.models.sentence_encoder import SentenceEncoder, compile_decoders

DECODERS = ("previous", "next")


def build_skip_thought(
    *, vocab_size: int, embedding_dim: int, units: int, sequence_length: int, layer_norm: bool = True
) -> keras.Model:
    """Skip-thought trainer `{"current", "previous_in", "next_in"}` (each `(batch, L)` ids) -> logits by decoder.

    Args:
        vocab_size: the vectoriser's vocabulary (padding 0, OOV 1); the start id is `vocab_size`.
        embedding_dim: word embedding size (shared by encoder and decoders).
        units: GRU size of the encoder and of each decoder (the sentence vector's size).
        sequence_length: L, words per sentence.
        layer_norm: layer-normalised GRU cells (`LayerNormGRUCell`, the default); False: Keras' `GRU`.

    Example:
        >>> model = build_skip_thought(vocab_size=50, embedding_dim=8, units=16, sequence_length=5)
        >>> ids = np.ones((2, 5), "int32")
        >>> model({"current": ids, "previous_in": ids, "next_in": ids})["next"].shape
        TensorShape([2, 5, 50])
    """
    inputs = {
        name: keras.Input((sequence_length,), dtype="int32", name=name)
        for name in ("current", "previous_in", "next_in")
    }

    def gru(name: str, return_sequences: bool) -> keras.layers.Layer:
        if layer_norm:
            return keras.layers.RNN(LayerNormGRUCell(units), return_sequences=return_sequences, name=name)
        return keras.layers.GRU(units, return_sequences=return_sequences, name=name)

    embedding = keras.layers.Embedding(vocab_size + 1, embedding_dim, mask_zero=True, name="embedding")
    thought = gru("encoder", False)(embedding(inputs["current"]))
    vocabulary = keras.layers.Dense(vocab_size, name="vocabulary")  # the paper's V, shared by both decoders
    every_step = keras.layers.RepeatVector(sequence_length, name="thought_at_every_step")(thought)
    outputs = {}
    for name in DECODERS:
        steps = keras.layers.Concatenate(name=f"{name}_steps")([embedding(inputs[f"{name}_in"]), every_step])
        states = gru(f"{name}_decoder", True)(steps, initial_state=thought)
        outputs[name] = keras.layers.Identity(name=name)(vocabulary(states))
    return keras.Model(inputs, outputs, name="skip_thought")


def compile_skip_thought(model: keras.Model, *, learning_rate: float = 1e-3, clipnorm: float = 10.0) -> keras.Model:
    """Adam (the paper's) with gradient norms clipped at `clipnorm` (the paper: 10), per-word cross-entropy
    over real words only (padding ignored); returns `model` (`zoo.models.sentence_encoder.compile_decoders`)."""
    return compile_decoders(model, learning_rate=learning_rate, clipnorm=clipnorm)


class SkipThoughtEncoder(SentenceEncoder):
    """Raw sentences `(batch,)` -> skip-thought vectors `(batch, units)`: `serve` and `encode` endpoints.

    Args:
        vectorizer: the `TextVectorization` the model was trained with.
        model: the trained `build_skip_thought` model (its `embedding` and `encoder` are used).

    Example:
        >>> SkipThoughtEncoder(vectorizer, model)(tf.constant(["A fine film.", ""])).shape
        TensorShape([2, 256])
    """

    def __init__(self, vectorizer: keras.layers.TextVectorization, model: keras.Model, **kwargs):
        super().__init__(vectorizer, model, name=kwargs.pop("name", "skip_thought_encoder"), **kwargs)
