"""Chapter 10 walk-through: sequence to sequence on the book's English-Chinese Anki pairs: the book's
character LSTM encoder-decoder, a word-level encoder-decoder with attention, greedy vs beam search, BLEU,
an attention heat map, and a SavedModel that turns English strings into Chinese strings.

    python chapters/ch10_seq2seq.py --data-dir ../shared/data            # the book's settings (hours on a CPU)
    python chapters/ch10_seq2seq.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch10_seq2seq.py --attention additive --beam-width 10
"""

from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import zoo
from zoo.models import seq2seq
from zoo.models.decoding import beam_search, greedy_search
from zoo.run import chapter_parser, chapter_settings

# The book prints five translations, among them "See you." -> 再见！
SENTENCES = ["See you.", "I love you.", "Where is the station?", "Tom is tired.", "Thank you very much."]


def beam_vs_greedy_by_hand() -> None:
    """10.x: why beam search: a decoder whose best first token leads nowhere (the test suite's toy)."""
    end, start, a, b = 1, 2, 3, 4  # 0 is padding
    table = np.full((5, 5), 1e-6)
    table[start, [a, b]] = [0.55, 0.45]          # A looks better at first ...
    table[a, [a, b, end]] = [0.34, 0.33, 0.33]   # ... but after A nothing is sure,
    table[b, [end, a]] = [0.95, 0.05]            # while B is followed by the end with 95%.
    logits = tf.constant(np.log(table / table.sum(1, keepdims=True)), tf.float32)

    def step(tokens, cache):
        return tf.gather(logits, tokens), cache

    names = {a: "A", b: "B"}
    for label, out in (("greedy", greedy_search(step, {}, tf.constant([start]), end_id=end, max_length=3)),
                       ("beam 2", beam_search(step, {}, tf.constant([start]), end_id=end, max_length=3,
                                              beam_width=2, alpha=0.0))):
        tokens = [names[t] for t in out["tokens"].numpy()[0] if t]
        print(f"  {label}: {' '.join(tokens) or '(empty)'}  log P = {float(out['log_probs'][0]):.3f}")


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--attention", default="general", choices=seq2seq.ATTENTIONS)
    parser.add_argument("--beam-width", type=int, default=5)
    parser.add_argument("--skip-char", action="store_true", help="skip the book's character model")
    args = parser.parse_args()

    print("Greedy vs beam search on a hand-built decoder:")
    beam_vs_greedy_by_hand()

    runs = {}
    if not args.skip_char:
        runs["char"] = zoo.fit("seq2seq_char_cmn", **chapter_settings(args, "seq2seq_char_cmn"),
                               beam_width=args.beam_width)
    runs["attention"] = zoo.fit("seq2seq_attention_cmn", **chapter_settings(args, "seq2seq_attention_cmn"),
                                attention=args.attention, beam_width=args.beam_width)
    beam = f"beam{args.beam_width}"
    print(f"\n{'model':<10} {'BLEU greedy':>12} {'BLEU ' + beam:>12} {'chrF greedy':>12} {'chrF ' + beam:>12}")
    for name, run in runs.items():
        m = run.metrics
        print(f"{name:<10} {m['greedy_bleu']:12.2f} {m[f'{beam}_bleu']:12.2f} "
              f"{m['greedy_chrf']:12.2f} {m[f'{beam}_chrf']:12.2f}")
    if "char" in runs:
        print(f"char model, keras.io character accuracy: {runs['char'].metrics['test_char_accuracy']:.3f}")

    # Greedy vs beam on test sentences (samples.tsv: source, reference, greedy, beam).
    run_dir = runs["attention"].run_dir
    with open(run_dir / "samples.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    for source, reference, greedy, beamed in rows[1:6]:
        print(f"  {source!r}: reference {reference}  greedy {greedy}  {beam} {beamed}")

    # The SavedModel: English strings in, Chinese strings out, in any Keras code (no zoo needed).
    saved = str(run_dir / "saved_model")
    translate = keras.layers.TFSMLayer(saved, call_endpoint="serve")
    for sentence, output in zip(SENTENCES, translate(tf.constant(SENTENCES)).numpy()):
        print(f"  {sentence:<28} -> {output.decode('utf-8')}")

    # A heat map of one sentence through the `attention` endpoint.
    if args.attention != "none":
        png = Path(run_dir) / "attention_see_you.png"
        seq2seq.plot_attention(saved, SENTENCES[0], png)
        print("attention heat map:", png)


if __name__ == "__main__":
    main()
