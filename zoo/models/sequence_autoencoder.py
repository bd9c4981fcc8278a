"""Chapter 14 sequence autoencoder (Dai & Le 2015, "Semi-supervised Sequence Learning", SA-LSTM).

An LSTM encoder reads a sentence; an LSTM decoder, started from the encoder's final state (hidden
and cell), regenerates the same sentence word by word with teacher forcing. The encoder's final
hidden state is the sentence's vector (served by `zoo.models.sentence_encoder.SentenceEncoder`, as
skip-thought's). Dai & Le's main use is different: the autoencoder's embedding and encoder LSTM
initialise an LSTM classifier (`build_sentence_classifier`), which then trains better than the same
classifier from random weights. `load_autoencoder_run` reads a finished `sequence_autoencoder` run
folder back for that (its model, the vocabulary its vectoriser had, its sizes), checking it first.

Departures from the paper, for a 2-core CPU and to share skip-thought's data: the model reads
sentences cut from the corpus, at most `sequence_length` words each (the paper reads whole
documents, hundreds of words); the sizes are small (the paper's LSTMs have about a thousand
units); there is no end-of-sentence token (the decoder is never asked where to stop, only what
each real word is); and the softmax is a full `Dense` over the vocabulary.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import keras

from zoo.data.bert_pretraining import VOCABULARY_FILE, read_vocabulary
from zoo.errors import CorruptData, DataNotFound, UserError
from zoo.models.classifier import classifier_head
from zoo.models.sentence_encoder import compile_decoders

RECIPE = "sequence_autoencoder"  # the recipe whose run folders `load_autoencoder_run` reads


def build_sequence_autoencoder(*, vocab_size: int, embedding_dim: int, units: int, sequence_length: int) -> keras.Model:
    """Sequence autoencoder `{"sentence", "reconstruction_in"}` (each `(batch, L)` ids) -> `{"reconstruction"}` logits.

    `sentence` holds a `TextVectorization`'s ids (0 = padding, 1 = out of vocabulary);
    `reconstruction_in` is the start id (`vocab_size`) followed by the sentence shifted right
    (teacher forcing: `zoo.data.sentence_decoders.sequence_autoencoder_data` makes both). The logits
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


@dataclasses.dataclass(frozen=True)
class AutoencoderRun:
    """A finished `sequence_autoencoder` run, read back to start a classifier.

    Attributes:
        location: the run folder (absolute).
        vocabulary: its vectoriser's vocabulary in id order (`""` padding, `"[UNK]"`, then words).
        vocab_size: the autoencoder's `vocab_size` (its embedding has one more row, the start id).
        embedding_dim: its word embedding size.
        units: its encoder LSTM's units.
        model: its trained model (`build_sequence_autoencoder`'s, not compiled).
    """

    location: str
    vocabulary: list[str]
    vocab_size: int
    embedding_dim: int
    units: int
    model: keras.Model

    @property
    def sizes(self) -> dict[str, int]:
        """The keywords of `build_sentence_classifier` that must match the autoencoder's."""
        return {"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim, "units": self.units}


def load_autoencoder_run(folder: str | Path, *, param: str = "autoencoder") -> AutoencoderRun:
    """The `sequence_autoencoder` run in `folder`, checked: anything else is a one-line `UserError`.

    The folder must hold the run's `config.json` (recipe `sequence_autoencoder`), its vocabulary
    (`vocab.txt`, one token per line) and `model.keras`, and they must agree: the model's
    embedding and encoder have the sizes `config.json` records, and the vocabulary fits in the
    embedding.

    Args:
        folder: the run folder.
        param: the argument the folder was given as, named in errors.

    Example:
        >>> run = load_autoencoder_run("saved_models/sequence_autoencoder/20261207-104400")  # doctest: +SKIP
        >>> build_sentence_classifier(**run.sizes, sequence_length=56, pretrained=run.model)  # doctest: +SKIP
    """
    flag, path = str(folder), Path(folder).expanduser()
    if not path.exists():
        raise DataNotFound("no such folder", param=param, value=flag)
    config_file = path / "config.json"
    if not path.is_dir() or not config_file.is_file():
        raise UserError(f"not a run folder (no config.json): expected a finished {RECIPE} run", param=param, value=flag)
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        config = None
    if not isinstance(config, dict) or not isinstance(config.get("hparams", {}), dict):
        raise CorruptData("its config.json is not a run's JSON", param=param, value=flag)
    if config.get("recipe") != RECIPE:
        raise UserError(f"a run of recipe {config.get('recipe')}, not {RECIPE}", param=param, value=flag)
    hparams = config.get("hparams", {})
    vocab_file, model_file = path / VOCABULARY_FILE, path / "model.keras"
    if not (vocab_file.is_file() and model_file.is_file()):
        raise DataNotFound(
            f"no {VOCABULARY_FILE} and model.keras there (an unfinished run, or one older than the saved vocabulary?)",
            param=param,
            value=flag,
        )
    try:
        model = keras.saving.load_model(model_file, compile=False)
        embedding, encoder = model.get_layer("embedding"), model.get_layer("encoder")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError) as error:
        reason = str(error).partition("\n")[0][:120]
        raise CorruptData(
            f"its model.keras is not a readable sequence autoencoder ({reason})", param=param, value=flag
        ) from None
    sizes = {"vocab_size": embedding.input_dim - 1, "embedding_dim": embedding.output_dim, "units": encoder.units}
    for name, size in sizes.items():
        if hparams.get(name) != size:
            raise UserError(
                f"its model.keras has {name} {size}, its config.json {hparams.get(name)}: not one run's files",
                param=param,
                value=flag,
            )
    vocabulary = read_vocabulary(vocab_file)
    if vocabulary[:2] != ["", "[UNK]"] or len(vocabulary) > sizes["vocab_size"]:
        raise UserError(
            f"its {VOCABULARY_FILE} ({len(vocabulary)} lines) is not the vocabulary of its model "
            f"(padding, [UNK], then at most {sizes['vocab_size'] - 2} words)",
            param=param,
            value=flag,
        )
    return AutoencoderRun(str(path.resolve()), vocabulary, model=model, **sizes)
