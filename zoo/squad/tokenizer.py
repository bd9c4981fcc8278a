"""BERT WordPiece with character offsets in core TensorFlow ops (chapter 12), for features and serving.

tensorflow-text's tokenizers are custom ops: a SavedModel that uses them only loads in a process that
first ran `import tensorflow_text`, and `BertTokenizer.tokenize_with_offsets` reports offsets into
the lower-cased, accent-stripped text rather than the user's string. This module reimplements
google-research/bert `tokenization.FullTokenizer` (clean text, CJK and punctuation splits,
lower-casing with accent stripping, greedy longest-match-first WordPiece, 100-character words to
[UNK]) with lookup tables and string ops from TensorFlow itself, so the same code builds training
features and runs inside the exported graph, and offsets are code-point indices into the original
string (Python `str` indices).
"""

from __future__ import annotations

import functools
import itertools
import unicodedata

import numpy as np
import tensorflow as tf

from zoo.errors import UserError

MAX_CHARS_PER_WORD = 100
_KEEP = -2  # replacement row 0 means "keep the code point as it is"
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _normalize_char(char: str, lowercase: bool) -> str:
    """One code point as BERT's BasicTokenizer sees it: dropped, a space, or lower-cased and unaccented."""
    cp = ord(char)
    if char in " \t\n\r" or unicodedata.category(char) == "Zs":
        return " "
    if cp == 0 or cp == 0xFFFD or unicodedata.category(char) in ("Cc", "Cf"):
        return ""
    if lowercase:
        char = unicodedata.normalize("NFD", char.lower())
        char = "".join(c for c in char if unicodedata.category(c) != "Mn")
    return char


@functools.lru_cache(maxsize=2)
def _char_tables(lowercase: bool) -> tuple[np.ndarray, np.ndarray, list[list[int]], np.ndarray]:
    """Code points that normalise to something else (with their replacements) and the punctuation set."""
    keys, rows, replacements, punct = [], [], [[_KEEP]], []
    # Planes 3-13 and 15-16 hold only CJK extensions G/H and private use: unchanged by the rules, skipped.
    for cp in itertools.chain(range(0xD800), range(0xE000, 0x30000), range(0xE0000, 0xE1000)):
        char = chr(cp)
        if _is_punctuation(char):
            punct.append(cp)
        normal = _normalize_char(char, lowercase)
        if normal != char:
            keys.append(cp)
            rows.append(len(replacements))
            replacements.append([ord(c) for c in normal])
    return np.array(keys, np.int64), np.array(rows, np.int64), replacements, np.array(punct, np.int64)


class WordPieceOffsets(tf.Module):
    """Tokenise a batch of strings into WordPiece ids with [start, end) character offsets.

    Args:
        vocabulary: the WordPiece vocabulary in id order (e.g. the lines of BERT's `vocab.txt`).
        lowercase: lower-case and strip accents first (uncased models).
        unknown_token: the vocabulary entry for words that cannot be split.

    Example:
        >>> tok = WordPieceOffsets(["[PAD]", "[UNK]", "hello", "##s", "!"])
        >>> ids, starts, ends = tok(tf.constant(["Hellos!"]))  # [[2, 3, 4]], [[0, 5, 6]], [[5, 6, 7]]
    """

    def __init__(self, vocabulary: list[str], lowercase: bool = True, unknown_token: str = "[UNK]"):
        super().__init__(name="wordpiece_offsets")
        vocabulary = list(vocabulary)
        if unknown_token not in vocabulary:
            raise UserError(f"the vocabulary has no {unknown_token!r} token")
        self.lowercase = lowercase
        self.unknown_id = vocabulary.index(unknown_token)
        self.max_piece_chars = max(len(t[2:] if t.startswith("##") else t) for t in vocabulary)
        keys, rows, replacements, punct = _char_tables(lowercase)
        self._normalise = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, rows), default_value=0)
        self._replacements = tf.ragged.constant(replacements, dtype=tf.int64)
        self._punctuation = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(punct, tf.ones_like(punct)), default_value=0
        )
        self._vocab = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(vocabulary), tf.range(len(vocabulary), dtype=tf.int64)),
            default_value=-1,
        )

    def __call__(self, texts: tf.Tensor) -> tuple[tf.RaggedTensor, tf.RaggedTensor, tf.RaggedTensor]:
        """`texts` [batch] strings -> ragged (ids, starts, ends), each [batch, None] int64."""
        texts = tf.convert_to_tensor(texts, tf.string)
        batch = tf.shape(texts, out_type=tf.int64)[0]
        chars = tf.strings.unicode_decode(texts, "UTF-8", errors="replace")
        char_text = chars.value_rowids()
        char_pos = tf.range(tf.size(chars.flat_values, out_type=tf.int64)) - tf.gather(chars.row_starts(), char_text)

        # Normalise every code point into zero, one or several; remember where each came from.
        codes = tf.cast(chars.flat_values, tf.int64)
        expanded = tf.gather(self._replacements, self._normalise.lookup(codes))
        source = expanded.value_rowids()
        norm = expanded.flat_values
        norm = tf.where(norm == _KEEP, tf.gather(codes, source), norm)
        text_id = tf.gather(char_text, source)
        orig_pos = tf.gather(char_pos, source)
        n = tf.size(norm, out_type=tf.int64)

        # Basic tokenisation: words are runs of ordinary characters; punctuation and CJK stand alone.
        space = tf.equal(norm, 32)
        alone = tf.logical_or(tf.equal(self._punctuation.lookup(norm), 1), self._is_cjk(norm))
        new_text = tf.not_equal(text_id, tf.concat([[-1], text_id[:-1]], 0))
        prev_breaks = tf.concat([[True], tf.logical_or(space, alone)[:-1]], 0)
        word_start = ~space & (alone | new_text | prev_breaks)
        word_of = tf.cumsum(tf.cast(word_start, tf.int64)) - 1
        in_word = tf.where(~space)[:, 0]
        n_words = tf.reduce_sum(tf.cast(word_start, tf.int64))
        starts_w = tf.where(word_start)[:, 0]
        ends_w = tf.math.unsorted_segment_max(in_word + 1, tf.gather(word_of, in_word), n_words)
        remaining = tf.gather(ends_w, tf.maximum(word_of, 0)) - tf.range(n)  # chars left in own word

        best = self._longest_matches(norm, remaining, space)

        # Greedy longest-match-first along each word, all words at once.
        def step(pos, failed, marks):
            active = (pos < ends_w) & ~failed
            at = tf.minimum(pos, tf.maximum(n - 1, 0))
            first = tf.equal(pos, starts_w)
            length = tf.where(first, tf.gather(best[True][0], at), tf.gather(best[False][0], at))
            failed = failed | (active & tf.equal(length, 0))
            take = active & (length > 0)
            marks = tf.tensor_scatter_nd_max(
                marks, tf.expand_dims(tf.boolean_mask(pos, take), 1), tf.ones_like(tf.boolean_mask(pos, take))
            )
            return pos + tf.where(take, length, tf.zeros_like(length)), failed, marks

        _, failed, marks = tf.while_loop(
            lambda pos, failed, marks: tf.reduce_any((pos < ends_w) & ~failed),
            step,
            (starts_w, tf.zeros([n_words], tf.bool), tf.zeros([n], tf.int64)),
            maximum_iterations=MAX_CHARS_PER_WORD,
        )
        unknown = failed | (ends_w - starts_w > MAX_CHARS_PER_WORD)
        word_unknown = tf.gather(unknown, tf.maximum(word_of, 0)) & ~space
        is_word_start = tf.equal(tf.range(n), tf.gather(starts_w, tf.maximum(word_of, 0))) & ~space
        token_at = tf.where((tf.equal(marks, 1) & ~word_unknown) | (is_word_start & word_unknown))[:, 0]

        first = tf.gather(is_word_start, token_at)
        unk = tf.gather(word_unknown, token_at)
        length = tf.where(first, tf.gather(best[True][0], token_at), tf.gather(best[False][0], token_at))
        ids = tf.where(first, tf.gather(best[True][1], token_at), tf.gather(best[False][1], token_at))
        last = tf.where(unk, tf.gather(ends_w, tf.gather(word_of, token_at)) - 1, token_at + length - 1)
        ids = tf.where(unk, tf.constant(self.unknown_id, tf.int64), ids)
        starts = tf.gather(orig_pos, token_at)
        ends = tf.gather(orig_pos, last) + 1
        rows = tf.gather(text_id, token_at)

        def ragged(values):
            return tf.RaggedTensor.from_value_rowids(values, rows, nrows=batch)

        return ragged(ids), ragged(starts), ragged(ends)

    def _longest_matches(self, norm: tf.Tensor, remaining: tf.Tensor, space: tf.Tensor) -> dict:
        """Longest vocabulary match starting at each character, as a word start and as a "##" piece.

        `{initial: (lengths, ids)}` over the `n` normalised characters (`True`: a word's first piece;
        `False`: a "##" continuation); length 0 where nothing in the vocabulary matches.
        """
        n = tf.size(norm, out_type=tf.int64)
        singles = tf.strings.unicode_encode(tf.cast(tf.expand_dims(norm, 1), tf.int32), "UTF-8")
        best = {
            True: (tf.zeros([n], tf.int64), tf.zeros([n], tf.int64)),
            False: (tf.zeros([n], tf.int64), tf.zeros([n], tf.int64)),
        }
        piece = tf.fill([n], "")
        for length in range(1, self.max_piece_chars + 1):
            shifted = tf.concat([singles, tf.fill([length - 1], "")], 0)[length - 1 : length - 1 + n]
            piece = tf.strings.join([piece, shifted])
            fits = remaining >= length
            for initial in (True, False):
                ids = self._vocab.lookup(piece if initial else tf.strings.join(["##", piece]))
                found = fits & (ids >= 0) & ~space
                old_len, old_id = best[initial]
                best[initial] = (tf.where(found, tf.constant(length, tf.int64), old_len), tf.where(found, ids, old_id))
        return best

    @staticmethod
    def _is_cjk(codes: tf.Tensor) -> tf.Tensor:
        hits = [(codes >= lo) & (codes <= hi) for lo, hi in _CJK_RANGES]
        return tf.reduce_any(tf.stack(hits), axis=0)
