"""SQuAD features: WordPiece offsets, windows, max-context flags, answer labels, the JSON loader."""

from __future__ import annotations

import json
import string

import numpy as np
import pytest
import tensorflow as tf

from zoo.data import squad as squad_data
from zoo.squad.features import Example, convert
from zoo.squad.tokenizer import WordPieceOffsets
from zoo.squad.windows import SquadWindows, WindowConfig

WORDS = "the a of in is was who what capital france paris city big river team won game cafe naive".split()
VOCAB = list(
    dict.fromkeys(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        + list(string.ascii_lowercase)
        + ["##" + c for c in string.ascii_lowercase]
        + list(string.digits)
        + ["##" + c for c in string.digits]
        + list(".,?!'\"-()")
        + WORDS
        + ["##s", "東"]
    )
)


@pytest.fixture(scope="module")
def tokenizer() -> WordPieceOffsets:
    return WordPieceOffsets(VOCAB, lowercase=True)


def tokens(tokenizer, text):
    ids, starts, ends = tokenizer(tf.constant([text]))
    return [VOCAB[i] for i in ids[0].numpy()], list(zip(starts[0].numpy().tolist(), ends[0].numpy().tolist()))


def test_wordpiece_offsets_point_into_the_original_text(tokenizer):
    text = "Café  naïve PARIS's  東京!"
    pieces, offsets = tokens(tokenizer, text)
    assert pieces == ["cafe", "naive", "paris", "'", "s", "東", "[UNK]", "!"]
    assert [text[s:e] for s, e in offsets] == ["Café", "naïve", "PARIS", "'", "s", "東", "京", "!"]


def test_wordpiece_splits_unknown_and_overlong_words(tokenizer):
    pieces, _ = tokens(tokenizer, "Cities xyz%")
    assert pieces == ["c", "##i", "##t", "##i", "##e", "##s", "x", "##y", "##z", "[UNK]"]  # greedy longest match
    pieces, offsets = tokens(tokenizer, "teams " + "b" * 101)
    assert pieces == ["team", "##s", "[UNK]"]
    assert offsets == [(0, 4), (4, 5), (6, 107)]


def test_wordpiece_handles_empty_and_blank_strings(tokenizer):
    ids, starts, ends = tokenizer(tf.constant(["", "  \t\n", "a"]))
    assert ids.to_list() == [[], [], [VOCAB.index("a")]]


@pytest.mark.slow
def test_wordpiece_matches_huggingface_on_squad(shared_data, minilm_folder):
    """Same ids and offsets as the reference `tokenizers` BertTokenizer on real SQuAD contexts."""
    import tokenizers as hf  # a keras-hub dependency: the reference implementation

    folder = minilm_folder
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    reference = hf.Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    data = json.loads((shared_data / "squad" / "dev-v1.1-part-a.json").read_text(encoding="utf-8"))
    contexts = [p["context"] for a in data["data"] for p in a["paragraphs"]][::4]  # includes ½, ß, Greek
    ids, starts, ends = WordPieceOffsets(vocab, lowercase=True)(tf.constant(contexts))
    for i, text in enumerate(contexts):
        expected = reference.encode(text, add_special_tokens=False)
        assert ids[i].numpy().tolist() == expected.ids
        assert list(zip(starts[i].numpy().tolist(), ends[i].numpy().tolist())) == [tuple(o) for o in expected.offsets]


def _run_squad_windows(n_context: int, room: int, stride: int) -> list[tuple[int, int]]:
    """(start, length) of the windows, as run_squad.py's while loop slides them."""
    spans, start = [], 0
    while True:
        length = min(n_context - start, room)
        spans.append((start, length))
        if start + length >= n_context:
            return spans
        start += min(length, stride)


def _run_squad_is_max_context(spans, k, position) -> bool:
    """run_squad.py's `_check_is_max_context`: score min(left, right) + 0.01 * length, first wins ties."""
    best, best_k = None, None
    for j, (start, length) in enumerate(spans):
        if not start <= position < start + length:
            continue
        score = min(position - start, start + length - 1 - position) + 0.01 * length
        if best is None or score > best:
            best, best_k = score, j
    return best_k == k


def windows_of(example: Example, config: WindowConfig) -> dict[str, np.ndarray]:
    out = SquadWindows(VOCAB, True, config).traced(tf.constant([example.question]), tf.constant([example.context]))
    return {k: v.numpy() for k, v in out.items()}


@pytest.mark.parametrize("n_context, stride", [(30, 6), (20, 6), (0, 6), (29, 25), (45, 1)])
def test_windows_and_max_context_follow_run_squad(n_context, stride):
    """Window starts, lengths, layout and max-context flags against a transcription of run_squad.py."""
    context = " ".join(["the"] * n_context)
    question = "capital"  # one token: room = 24 - 1 - 3 = 20 context tokens per window
    out = windows_of(Example("q", question, context), WindowConfig(24, stride, 8))
    spans = _run_squad_windows(n_context, 20, stride)
    assert len(out["token_ids"]) == len(spans) and set(out["example"].tolist()) == {0}
    cls, sep = VOCAB.index("[CLS]"), VOCAB.index("[SEP]")
    for k, (start, length) in enumerate(spans):
        ids, segments, mask = out["token_ids"][k], out["segment_ids"][k], out["padding_mask"][k]
        n = 1 + 1 + 1 + length + 1
        assert ids[0] == cls and ids[2] == sep and ids[n - 1] == sep and mask.sum() == n and not ids[n:].any()
        assert segments[:3].tolist() == [0, 0, 0] and segments[3:n].tolist() == [1] * (length + 1)
        assert out["char_start"][k, 3 : 3 + length].tolist() == [4 * i for i in range(start, start + length)]
        flags = [_run_squad_is_max_context(spans, k, p) for p in range(start, start + length)]
        assert out["max_context"][k, 3 : 3 + length].tolist() == flags
        assert not out["max_context"][k, :3].any() and not out["max_context"][k, 3 + length :].any()


def _context(n_words: int) -> str:
    return " ".join(WORDS[i % 8] for i in range(n_words))


def test_answers_map_to_tokens_in_every_window_that_holds_them():
    context = _context(30) + " Paris is the capital of France. " + _context(30)
    start = context.index("Paris")
    example = Example("q1", "What is the capital?", context, (("Paris", start),))
    config = WindowConfig(max_seq_length=24, doc_stride=6, max_query_length=8)
    windows = SquadWindows(VOCAB, True, config)
    feats, unmatched = convert([example], windows, training=True)
    offsets = windows_of(example, config)
    assert unmatched == 0 and len(feats) > 3
    np.testing.assert_array_equal(feats.token_ids, offsets["token_ids"])  # the serving graph's windows
    labelled = np.flatnonzero(feats.start_positions)
    assert len(labelled) >= 2  # several overlapping windows contain the answer
    for w in range(len(feats)):
        s, e = feats.start_positions[w], feats.end_positions[w]
        if s == 0:
            assert e == 0
            continue
        assert feats.segment_ids[w, s] == 1
        assert context[offsets["char_start"][w, s] : offsets["char_end"][w, e]] == "Paris"


def test_answer_on_a_window_edge():
    # 18 context tokens per window (24 - question 3 - 3 specials); the answer is token 17 = the last of window 0
    context = " ".join(["the"] * 17 + ["paris"] + ["a"] * 20)
    example = Example("q1", "capital of france", context, (("paris", context.index("paris")),))
    config = WindowConfig(24, 6, 8)
    feats, _ = convert([example], SquadWindows(VOCAB, True, config), training=True)
    offset = 3 + 2
    assert feats.start_positions[0] == offset + 17 == feats.end_positions[0]
    assert not windows_of(example, config)["max_context"][0, offset + 17]  # better centred in a later window
    assert (feats.start_positions[1:3] > 0).all()


def test_unanswerable_and_misaligned_examples():
    context = _context(12)
    impossible = Example("q2", "who won?", context, ())
    misaligned = Example("q3", "who won?", context, (("paris", 0),))
    windows = SquadWindows(VOCAB, True, WindowConfig(32, 8, 8))
    feats, unmatched = convert([impossible, misaligned], windows, training=True)
    assert unmatched == 1
    assert set(feats.example_index.tolist()) == {0}
    assert feats.start_positions.tolist() == [0] and feats.end_positions.tolist() == [0]
    feats, _ = convert([impossible, misaligned], windows)
    assert set(feats.example_index.tolist()) == {0, 1}  # prediction keeps every question


def test_window_config_refuses_no_room_for_the_context():
    from zoo.errors import UserError

    with pytest.raises(UserError, match="max_seq_length=16 leaves no room"):
        WindowConfig(max_seq_length=16, max_query_length=13)


def test_loader_reads_v2_and_rejects_malformed_files(tmp_path):
    good = {
        "version": "v2.0",
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": "Paris is big.",
                        "qas": [
                            {"id": "a", "question": "What is big?", "answers": [{"text": "Paris", "answer_start": 0}]},
                            {
                                "id": "b",
                                "question": "Why?",
                                "answers": [],
                                "plausible_answers": [{"text": "big", "answer_start": 9}],
                                "is_impossible": True,
                            },
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(good))
    [examples] = squad_data.load(path)
    assert examples[0].answers == (("Paris", 0),) and examples[1].is_impossible
    assert squad_data.gold_answers(examples) == {"a": ["Paris"], "b": []}
    del good["data"][0]["paragraphs"][0]["qas"][0]["question"]
    path.write_text(json.dumps(good))
    with pytest.raises(ValueError, match="dev.json"):
        squad_data.load(path)
    path.write_text('{"data": [')
    with pytest.raises(ValueError, match="dev.json"):
        squad_data.load(path)


def test_sources_name_the_official_files():
    assert squad_data.SQUAD_V1_TRAIN.url.endswith("/train-v1.1.json")
    assert all(len(s.archives[0].sha256) == 64 for s in squad_data.SOURCES.values())


def test_official_files_are_checked_before_use(tmp_path):
    from zoo import recipes
    from zoo.errors import CorruptData
    from zoo.recipes.base import RunContext

    (tmp_path / "squad").mkdir()
    (tmp_path / "squad" / "train-v1.1.json").write_text('{"data": []}')
    hp = recipes.resolve_hparams(recipes.get("squad_bert"))
    with pytest.raises(CorruptData, match="sha256"):
        recipes.get("squad_bert").data(hp, RunContext(data_dir=tmp_path, run_dir=tmp_path))
