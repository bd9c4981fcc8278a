"""Sentence pairs for sequence to sequence (chapters 10-11): Anki/manythings translation pairs and the
course author's abstract -> title data, seeded splits, and the tokenisers the models carry inside.

Anki pair files (https://www.manythings.org/anki/) hold `english<TAB>other[<TAB>attribution]` per
line, in a zip (`cmn-eng.zip` holds `cmn.txt` and `_about.txt`) or as the extracted text file.
The source side is English, the target side the other language (the book translates English ->
Chinese). `num_samples` keeps the *first* N pairs of the file, as the book does (the file is
ordered by sentence length, so the first pairs are the short ones).

Token ids, the same for every tokeniser here: 0 padding, 1 out-of-vocabulary, 2 start `<s>`,
3 end `</s>`, then the training vocabulary by frequency.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.data.extended_vocabulary import extended_ids, vocabulary_lookup
from zoo.data.fetch import Archive, Source, locate, verify
from zoo.errors import CorruptData, DataNotFound, UserError

START, END = "<s>", "</s>"
START_ID, END_ID = 2, 3
LEVELS = ("char", "word")

ANKI_CMN = Source(
    name="anki_cmn",
    folder="anki",
    files=("cmn.txt",),
    archives=(Archive("cmn-eng.zip", "6e21dfeab92f253deefb804de1c372572cc7e6108c9e9325db7155bc0fe1b83c"),),
    title="Tatoeba English-Chinese sentence pairs (manythings.org Anki release of 2019-07-21)",
    size="21,116 pairs",
    licence="CC BY 2.0 (Tatoeba)",
    citation="Tatoeba Project, https://tatoeba.org; pairs packaged by manythings.org/anki",
    homepage="https://www.manythings.org/anki/",
)
TITLES = Source(
    name="titles",
    folder="titles",
    files=("title.json",),
    archives=(Archive("title.json", "013df59018a050c0d6e9b01fa48d8f5f018b874881a54dc8e5bb1e6a61f25e39"),),
    title="Paper titles and abstracts of the course's title-generation example",
    size="1,630 JSON lines {Title, Abstract}",
    licence="course material, research use",
)


class PairFileError(CorruptData):
    """A pair or title file the loader cannot read (the message names the file and the line)."""


def _decode(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PairFileError(f"{where}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    if not text.strip():
        raise PairFileError(f"{where}: the file is empty")
    return text


def _read_text(path: Path) -> tuple[str, str]:
    """The text of a pair file, or of the one pair file inside a zip (names starting with `_` skipped)."""
    if not path.exists():
        raise DataNotFound(f"{path}: no such pair file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(".txt") and not Path(n).name.startswith("_")]
            if len(names) != 1:
                raise PairFileError(f"{path}: expected one pair .txt file in the zip, found {names or 'none'}")
            return _decode(z.read(names[0]), f"{path}:{names[0]}"), f"{path}:{names[0]}"
    return _decode(path.read_bytes(), str(path)), str(path)


def read_pairs(path: str | os.PathLike, num_samples: int | None = None) -> list[tuple[str, str]]:
    """`(english, other)` pairs from an Anki file (zip or text), the first `num_samples` if given.

    Every line must have 2 or 3 tab-separated columns with two non-empty sentences; blank lines are
    skipped. Errors name the file and the 1-based line number.
    """
    text, where = _read_text(Path(path))
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) not in (2, 3):
            raise PairFileError(
                f"{where} line {number}: {len(columns)} tab-separated columns, expected "
                f"2 or 3 (english<TAB>other[<TAB>attribution]): {line[:80]!r}"
            )
        source, target = columns[0].strip(), columns[1].strip()
        if not source or not target:
            raise PairFileError(f"{where} line {number}: an empty sentence: {line[:80]!r}")
        pairs.append((source, target))
        if num_samples and len(pairs) == num_samples:
            return pairs
    if num_samples and len(pairs) < num_samples:
        raise UserError(f"{where} has only {len(pairs)} pairs", param="num_samples", value=num_samples)
    return pairs


def repair_hyphenation(text: str) -> str:
    """Join words broken at line ends (`es-\\ntimate` -> `estimate`) and turn newlines into spaces."""
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text).strip()


def read_titles(path: str | os.PathLike) -> list[tuple[str, str]]:
    """`(abstract, title)` pairs from JSON lines `{"Title": ..., "Abstract": ...}`, hyphenation repaired."""
    text, where = _read_text(Path(path))
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            title, abstract = record["Title"], record["Abstract"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise PairFileError(f"{where} line {number}: not a JSON object with Title and Abstract ({error})") from None
        pairs.append((repair_hyphenation(abstract), repair_hyphenation(title)))
    return pairs


@dataclasses.dataclass(frozen=True)
class Split:
    """Pairs of one split and their 0-based indices in the list they were drawn from."""

    pairs: list[tuple[str, str]]
    indices: list[int]


def split_pairs(
    pairs, *, seed: int, test_size: int | None = None, validation_fraction: float = 0.1, test_last: bool = False
) -> dict[str, Split]:
    """Seeded `train` / `validation` / `test` split.

    `test_size` defaults to 1,000 pairs when there are at least 5,000 (10% otherwise); validation is
    `validation_fraction` of what remains. `test_last=True` takes the *last* `test_size` pairs as test (the
    title author's split) and shuffles only the rest.
    """
    n = len(pairs)
    if n < 3:
        raise UserError(f"need at least 3 pairs to split into train/validation/test, got {n}")
    if test_size is None:
        test_size = 1000 if n >= 5000 else max(1, n // 10)
    if test_size >= n - 1:
        raise UserError(f"leaves no training pairs out of {n}", param="test_size", value=test_size)
    rng = np.random.default_rng(seed)
    if test_last:
        test = list(range(n - test_size, n))
        rest = rng.permutation(n - test_size).tolist()
    else:
        order = rng.permutation(n).tolist()
        test, rest = sorted(order[:test_size]), order[test_size:]
    validation_size = max(1, int(round(len(rest) * validation_fraction)))
    validation, train = sorted(rest[:validation_size]), rest[validation_size:]
    return {
        name: Split([pairs[i] for i in idx], list(idx))
        for name, idx in (("train", train), ("validation", validation), ("test", test))
    }


@keras.saving.register_keras_serializable(package="zoo")
def standardize_words(text):
    """Lower-case; every punctuation mark and every CJK character becomes its own token."""
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"([\p{Han}\p{Hiragana}\p{Katakana}]|[^\p{L}\p{M}\p{N}\s])", r" \1 ")
    return text


def detokenize_words(text):
    """Undo `standardize_words`' spaces around punctuation in `[B]` strings of space-joined tokens.

    "i ' m well - known ( 2 ) ." -> "i'm well-known (2).": punctuation joins the word before it,
    except opening brackets and quotes (Unicode Ps, Pi), which join the word after ("[UNK] : [UNK]"
    stays "[UNK]: [UNK]"); an apostrophe joins both sides and a hyphen after a letter joins the next word.
    """
    text = tf.strings.regex_replace(text, r" ([^\p{L}\p{M}\p{N}\s\p{Ps}\p{Pi}])", r"\1")
    text = tf.strings.regex_replace(text, r"([\p{Ps}\p{Pi}]) ", r"\1")
    text = tf.strings.regex_replace(text, r"' ", "'")
    return tf.strings.regex_replace(text, r"([\p{L}\p{M}\p{N}])- ", r"\1-")


def make_vectorizer(level: str, texts, *, max_tokens: int | None = None) -> keras.layers.TextVectorization:
    """A `TextVectorization(ragged=True)` adapted on `texts` with ids 2/3 reserved for `<s>`/`</s>`.

    `level="char"`: every character (case kept, as in the book); `"word"`: `standardize_words`
    then whitespace split (lower-cased words and punctuation; Chinese/Japanese one character each).
    `max_tokens` caps the vocabulary (padding, OOV, start and end included).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    options = (
        dict(standardize=None, split="character")
        if level == "char"
        else dict(standardize=standardize_words, split="whitespace")
    )
    counter = keras.layers.TextVectorization(**options, max_tokens=None if max_tokens is None else max_tokens - 2)
    counter.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    words = [w for w in counter.get_vocabulary()[2:] if w not in (START, END)]
    return keras.layers.TextVectorization(**options, ragged=True, vocabulary=[START, END, *words])


@dataclasses.dataclass(frozen=True)
class Seq2SeqInfo:
    """What seq2seq models, serving and reports need from the data.

    `source_vectorizer`/`target_vectorizer` are ragged `TextVectorization` layers (the same object
    when the vocabulary is shared); lengths count tokens; `separator` joins output tokens.
    """

    source_vectorizer: keras.layers.TextVectorization
    target_vectorizer: keras.layers.TextVectorization
    splits: dict[str, Split]
    max_source_length: int
    max_target_length: int
    level: str
    target_language: str  # "zh" selects sacrebleu's Chinese tokeniser
    separator: str

    @property
    def lowercase(self) -> bool:
        """Whether the target tokeniser lower-cases (word level): outputs are then scored case-insensitively."""
        return self.level == "word"

    @property
    def source_vocab_size(self) -> int:
        return self.source_vectorizer.vocabulary_size()

    @property
    def target_vocab_size(self) -> int:
        return self.target_vectorizer.vocabulary_size()

    @property
    def target_vocabulary(self) -> list[str]:
        return self.target_vectorizer.get_vocabulary()


_HAN = re.compile(r"[\u3400-\u9fff\u3040-\u30ff]")


def guess_language(sentences) -> str:
    """`"zh"` when most sentences contain CJK characters (no spaces between words), else `"other"`."""
    sample = list(sentences)[:200]
    return "zh" if sum(bool(_HAN.search(s)) for s in sample) > len(sample) / 2 else "other"


def make_info(
    splits: dict[str, Split],
    *,
    level: str,
    max_source_length: int,
    max_target_length: int,
    max_tokens: int | None = None,
    shared_vocabulary: bool = False,
) -> Seq2SeqInfo:
    """Vectorizers adapted on the training split only, and the rest of `Seq2SeqInfo`.

    A maximum length of 0 means the longest training sentence (in tokens).
    """
    train = splits["train"].pairs
    language = guess_language(t for _, t in train)
    if shared_vocabulary:
        source = target = make_vectorizer(level, [s for s, _ in train] + [t for _, t in train], max_tokens=max_tokens)
    else:
        source = make_vectorizer(level, [s for s, _ in train], max_tokens=max_tokens)
        target = make_vectorizer(level, [t for _, t in train], max_tokens=max_tokens)
    separator = "" if level == "char" or language == "zh" else " "
    if not max_source_length:
        max_source_length = longest(source, [s for s, _ in train])
    if not max_target_length:
        max_target_length = longest(target, [t for _, t in train])
    return Seq2SeqInfo(source, target, splits, max_source_length, max_target_length, level, language, separator)


def word_tokens(texts, max_length: int) -> tf.RaggedTensor:
    """The first `max_length` word-level tokens (strings) of `[B]` texts: what `make_vectorizer("word")` looks up."""
    return tf.strings.split(standardize_words(tf.reshape(texts, [-1])))[:, :max_length]


def encode_pairs(info: Seq2SeqInfo, sources, targets, *, fixed_shape: bool = False, copy_lookup=None):
    """`({"source", "target_in"}, target_out, weights)` int32 tensors of a batch of sentence pairs.

    target_in = `<s>` + target, target_out = target + `</s>` (truncated to `max_target_length`
    tokens before the end token); weights are 1 on real target positions, 0 on padding. Padded to
    the batch's longest sentences (the decoder's time loop runs no step that is padding in every
    row), or to the maximum lengths with `fixed_shape` (static shapes, for TPUs).

    With `copy_lookup` (`vocabulary_lookup` of the target vocabulary; word level only) the inputs
    also hold `source_ext`, the source over the extended vocabulary, and target_out uses it: a
    title word outside the vocabulary that the abstract has is a copy target, not `[UNK]`
    (`extended_ids`).
    """
    src = info.source_vectorizer(sources)[:, : info.max_source_length]
    tgt = info.target_vectorizer(targets)[:, : info.max_target_length]
    source_ext = None
    if copy_lookup is not None:
        source_tokens = word_tokens(sources, info.max_source_length)
        target_tokens = word_tokens(targets, info.max_target_length)
        source_ext, target_ext = extended_ids(source_tokens, copy_lookup, info.target_vocab_size, target_tokens)
        tgt = tf.RaggedTensor.from_tensor(tf.cast(target_ext, tgt.dtype), lengths=target_tokens.row_lengths())
    rows = tf.shape(tgt.row_lengths())[0]
    start = tf.fill([rows, 1], tf.constant(START_ID, tgt.dtype))
    end = tf.fill([rows, 1], tf.constant(END_ID, tgt.dtype))
    target_shape = [None, info.max_target_length + 1] if fixed_shape else None
    target_in = tf.concat([start, tgt], axis=1).to_tensor(0, shape=target_shape)
    target_out = tf.concat([tgt, end], axis=1).to_tensor(0, shape=target_shape)
    source = src.to_tensor(0, shape=[None, info.max_source_length] if fixed_shape else None)
    # target_in is read by the decoder's embedding: copied words go in as [UNK], as in See et al.
    target_in = tf.where(target_in >= info.target_vocab_size, tf.ones_like(target_in), target_in)
    weights = tf.cast(target_out != 0, tf.float32)
    inputs = {"source": tf.cast(source, tf.int32), "target_in": tf.cast(target_in, tf.int32)}
    if source_ext is not None:
        if fixed_shape:
            source_ext = tf.pad(source_ext, [[0, 0], [0, info.max_source_length - tf.shape(source_ext)[1]]])
            source_ext = tf.ensure_shape(source_ext, [None, info.max_source_length])
        inputs["source_ext"] = source_ext
    return inputs, tf.cast(target_out, tf.int32), weights


def make_dataset(
    info: Seq2SeqInfo,
    pairs,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
    fixed_shape: bool = False,
    copy: bool = False,
) -> tf.data.Dataset:
    """Batched `(inputs, target_out, sample_weights)` for teacher forcing, tokenised in `tf.data`.

    Batches are padded to their longest pair, or to the maximum lengths with `fixed_shape` (see
    `encode_pairs`). `copy=True` adds `source_ext` and extended target ids for a copying decoder
    (word level only).
    """
    if copy and info.level != "word":
        raise ValueError("copying needs word-level tokens")
    lookup = vocabulary_lookup(info.target_vocabulary) if copy else None
    sources = [s for s, _ in pairs]
    targets = [t for _, t in pairs]
    ds = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle:
        ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.map(
        lambda s, t: encode_pairs(info, s, t, fixed_shape=fixed_shape, copy_lookup=lookup),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def longest(vectorizer, texts, quantile: float = 1.0) -> int:
    """The token count of the longest text (or the given quantile), at least 1."""
    lengths = vectorizer(list(texts)).row_lengths().numpy()
    return max(1, int(np.quantile(lengths, quantile)) if len(lengths) else 1)


def anki_path(data_dir: str | os.PathLike | None = None, pairs: str = "") -> Path:
    """`pairs` if given, else the book's `anki/cmn-eng.zip` (sha256 checked) or extracted `cmn.txt` under `data_dir`."""
    if pairs:
        return Path(pairs).expanduser()
    folder = Path(data_dir or ".").expanduser() / ANKI_CMN.folder
    archive = ANKI_CMN.archives[0]
    if (folder / archive.name).exists():  # read in place (no extraction into a shared data folder)
        verify(folder / archive.name, archive.sha256, ANKI_CMN)
        return folder / archive.name
    if (folder / "cmn.txt").exists():
        return folder / "cmn.txt"
    found = locate(ANKI_CMN, data_dir)
    if found is None:
        raise DataNotFound(
            f"the book's pairs not found under {folder} (cmn-eng.zip or cmn.txt); download "
            f"cmn-eng.zip from {ANKI_CMN.homepage} there, or give another pair file's path as pairs",
            param="pairs",
        )
    return found["cmn.txt"]


def titles_path(data_dir: str | os.PathLike | None = None) -> Path:
    path = Path(data_dir or ".").expanduser() / TITLES.folder / "title.json"
    if not path.exists():
        raise DataNotFound(f"{path} not found (the course's title.json, 1,630 JSON lines)")
    return path
