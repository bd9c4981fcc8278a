"""Chapter 8 walk-through: recurrent language models, a character RNN and a word-level LSTM on Penn Treebank.

    python chapters/ch08_language_models.py --data-dir ../shared/data            # Zaremba's small LSTM, 13 epochs
    python chapters/ch08_language_models.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch08_language_models.py --recipe ptb_lstm_book               # the book's 2x500 LSTM
    python chapters/ch08_language_models.py --corpus my_novel.txt                # the char RNN on any text

A language model gives every next token a probability; its perplexity on held-out text is
`exp(mean cross-entropy per token)`, the number of equally likely choices it is as unsure as.
The word model reads PTB as `batch_size` parallel streams, cut into `num_steps` windows, and carries
its LSTM state from one window to the next within an epoch (truncated back-propagation through time).
"""

from __future__ import annotations

import tensorflow as tf

import zoo
from zoo.run import chapter_parser, chapter_settings

SENTENCES = ["the company said it expects higher sales next year",
             "year next sales higher expects it said company the"]
PROMPTS = ["the company said", "in the first quarter"]


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--recipe", default="ptb_lstm_small",
                        choices=("ptb_lstm_small", "ptb_lstm_medium", "ptb_lstm_large", "ptb_lstm_book"))
    parser.add_argument("--corpus", default="", help="text for the char RNN (default: PTB read as characters)")
    parser.add_argument("--char-hidden", type=int, default=256,
                        help="char RNN size (the book's code: 1000; smaller trains in minutes on a CPU)")
    args = parser.parse_args()

    # 1. The book's character RNN (ReLU SimpleRNN with logits and gradient clipping).
    char = zoo.fit("char_rnn", **chapter_settings(args, "char_rnn"), corpus=args.corpus, hidden=args.char_hidden)
    print(f"char RNN: validation perplexity {char.metrics['val_perplexity']:.2f}, "
          f"test {char.metrics['test_perplexity']:.2f} (per character)")

    # 2. The word-level LSTM (Zaremba et al. 2014's configurations, or the book's).
    word = zoo.fit(args.recipe, **chapter_settings(args, args.recipe))
    print(f"{args.recipe}: validation perplexity {word.metrics['val_perplexity']:.1f}, "
          f"test {word.metrics['test_perplexity']:.1f} (Zaremba small: 120.7 / 114.5)")

    # 3. Samples (samples.txt): greedy, three temperatures (0.7 repetitive ... 1.3 inventive and
    #    ungrammatical), top-k and top-p, all through keras_hub.samplers with the RNN state as the cache.
    print((word.run_dir / "samples.txt").read_text())

    # 4. Scoring through the exported SavedModel, as any Keras code would (no zoo needed there).
    scorer = tf.saved_model.load(str(word.run_dir / "saved_model"))
    scores = scorer.serve(tf.constant(SENTENCES))
    for sentence, log_prob, ppl in zip(SENTENCES, scores["log_prob"].numpy(), scores["perplexity"].numpy()):
        print(f"  log p = {log_prob:8.2f}  perplexity {ppl:8.1f}  {sentence!r}")
    print("  generate:", [t.decode() for t in scorer.generate(tf.constant(PROMPTS)).numpy()])


if __name__ == "__main__":
    main()
