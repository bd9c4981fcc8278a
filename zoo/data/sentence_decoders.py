"""Chapter 14 data for encoder-decoders over sentences: skip-thought's triples, the sequence autoencoder's sentences.

Skip-thought and the sequence autoencoder read sentences (`text_sentences`, cut by
`zoo.data.sentences.split_sentences`): `decoder_data` turns parallel columns of sentences into the id
batches of an encoder-decoder with teacher forcing, `skip_thought_data` with (previous, current, next)
triples, `sequence_autoencoder_data` with each sentence as its own target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from zoo.errors import UserError


def text_sentences(texts: Sequence[str], max_sentences: int = 64, batch: int = 1024) -> list[list[str]]:
    """The sentences of each text, cut by `zoo.data.sentences.split_sentences` (its first `max_sentences`).

    Example:
        >>> text_sentences(["One. Two!", "Alone"])
        [['One.', 'Two!'], ['Alone']]
    """
    from zoo.data.sentences import split_sentences

    out = []
    for start in range(0, len(texts), batch):
        rows = split_sentences(tf.constant(list(texts[start : start + batch])), max_sentences).numpy()
        out += [[s.decode("utf-8") for s in row if s] for row in rows]
    return out


def sentence_triples(texts: Sequence[str], max_sentences: int = 64, batch: int = 1024) -> tuple[list[str], ...]:
    """`(previous, current, next)` sentences of every run of three consecutive sentences inside a text (skip-thought).

    Texts are cut by `text_sentences`; a triple never crosses from one text to the next.

    Example:
        >>> sentence_triples(["One. Two! Three? Four."])[1]
        ['Two!', 'Three?']
    """
    previous, current, following = [], [], []
    for sentences in text_sentences(texts, max_sentences, batch):
        for i in range(1, len(sentences) - 1):
            previous.append(sentences[i - 1])
            current.append(sentences[i])
            following.append(sentences[i + 1])
    return previous, current, following


@dataclasses.dataclass(frozen=True)
class SentenceInfo:
    """What a sentence encoder-decoder (skip-thought, the sequence autoencoder) needs: the vectoriser
    (adapted on the training sentences), its vocabulary, the words per sentence, and the number of
    training examples (skip-thought's triples, the autoencoder's sentences)."""

    vectorizer: object  # keras.layers.TextVectorization
    vocabulary: list[str]
    sequence_length: int
    examples: int
    source: str = ""


def decoder_data(
    inputs: dict[str, Sequence[str]],
    targets: dict[str, Sequence[str]],
    *,
    vocab_size: int,
    sequence_length: int,
    batch_size: int,
    max_examples: int,
    validation_fraction: float = 0.02,
    seed: int = 0,
    source: str = "",
):
    """`Data` of `({input: ids, "<target>_in": ids}, {target: ids})` batches of parallel sentence columns.

    Row i of every column is example i. Each decoder reads the start id (`vocab_size`) followed by
    its target shifted right (teacher forcing); padding is id 0. A seeded `max_examples` sample
    (0 = all) is kept, `validation_fraction` of it held out; the vectoriser is adapted on the
    training rows of the first input column. A column given twice (the autoencoder's input is its
    target) is encoded once.
    """
    from zoo.data.pipelines import Data
    from zoo.data.text import encode, vectorizer

    first = next(iter(inputs.values()))
    order = np.random.default_rng(seed).permutation(len(first))
    if max_examples:
        order = order[:max_examples]
    held = int(len(order) * validation_fraction)
    splits = {"train": order[held:], "validation": order[:held]}
    layer = vectorizer([first[i] for i in splits["train"]], vocab_size, sequence_length)

    def ds(rows, shuffle):
        if not len(rows):
            return None
        encoded = {}
        for column in (*inputs.values(), *targets.values()):
            if id(column) not in encoded:
                encoded[id(column)] = encode(layer, [column[i] for i in rows])
        start = np.full((len(rows), 1), vocab_size, "int32")
        x = {name: encoded[id(column)] for name, column in inputs.items()}
        y = {name: encoded[id(column)] for name, column in targets.items()}
        x.update({f"{name}_in": np.concatenate([start, ids[:, :-1]], axis=1) for name, ids in y.items()})
        data = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            data = data.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size)

    info = SentenceInfo(layer, layer.get_vocabulary(), sequence_length, len(splits["train"]), source)
    return Data(train=ds(splits["train"], True), validation=ds(splits["validation"], False), info=info)


def skip_thought_data(
    texts: Sequence[str],
    *,
    vocab_size: int,
    sequence_length: int,
    batch_size: int,
    max_triples: int,
    validation_fraction: float = 0.02,
    seed: int = 0,
    source: str = "",
):
    """`Data` of `({"current", "previous_in", "next_in"}, {"previous", "next"})` id batches from raw `texts`.

    `decoder_data` of the sentence triples (`max_triples` of them, 0 = all). Fewer than one triple
    (texts without three consecutive sentences) is refused.
    """
    previous, current, following = sentence_triples(texts)
    if not current:
        raise UserError(
            f"{source or 'the corpus'} has no three consecutive sentences inside one text; skip-thought "
            f"learns a sentence from its neighbours: give texts of several sentences",
            param="corpus",
        )
    return decoder_data(
        {"current": current},
        {"previous": previous, "next": following},
        vocab_size=vocab_size,
        sequence_length=sequence_length,
        batch_size=batch_size,
        max_examples=max_triples,
        validation_fraction=validation_fraction,
        seed=seed,
        source=source,
    )


def sequence_autoencoder_data(
    texts: Sequence[str],
    *,
    vocab_size: int,
    sequence_length: int,
    batch_size: int,
    max_sentences: int,
    validation_fraction: float = 0.02,
    seed: int = 0,
    source: str = "",
):
    """`Data` of `({"sentence", "reconstruction_in"}, {"reconstruction"})` id batches from raw `texts`.

    `decoder_data` of every sentence of every text (`max_sentences` of them, 0 = all), each its own
    target (the sequence autoencoder); sentences without a letter or digit ("...") are left out. A
    corpus without a sentence is refused.
    """
    sentences = [s for row in text_sentences(texts) for s in row if any(c.isalnum() for c in s)]
    if not sentences:
        raise UserError(f"{source or 'the corpus'} has no sentences: give texts with words", param="corpus")
    return decoder_data(
        {"sentence": sentences},
        {"reconstruction": sentences},
        vocab_size=vocab_size,
        sequence_length=sequence_length,
        batch_size=batch_size,
        max_examples=max_sentences,
        validation_fraction=validation_fraction,
        seed=seed,
        source=source,
    )
