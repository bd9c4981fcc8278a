"""Chapters 12-13 walk-through: fine-tune BERT on SQuAD, score it, then ask the exported model questions.

    python chapters/ch12_squad_bert.py                                   # BERT-Base on the official SQuAD v1.1
    python chapters/ch12_squad_bert.py --version 2                       # SQuAD v2.0 (unanswerable questions)
    python chapters/ch12_squad_bert.py --preset /path/to/hf_bert_folder \\
        --train-file ../shared/data/squad/dev-v1.1-part-a.json --dev-articles 3 --quick   # small CPU run
"""

from __future__ import annotations

import zoo
from zoo.run import chapter_parser, chapter_settings

CONTEXT = (
    "Super Bowl 50 was an American football game to determine the champion of the National Football League "
    "(NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the "
    "National Football Conference (NFC) champion Carolina Panthers 24-10 to earn their third Super Bowl title. "
    "The game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, "
    "California."
)
QUESTIONS = ["Which team won Super Bowl 50?", "Where was the game played?", "Who won the 2017 World Series?"]


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--preset", default="bert_base_en_uncased", help="keras-hub preset or local HF BERT folder")
    parser.add_argument("--version", type=int, default=1, choices=(1, 2))
    parser.add_argument("--train-file", default="", help="local SQuAD JSON (default: download the official file)")
    parser.add_argument("--predict-file", default="")
    parser.add_argument("--dev-articles", type=int, default=0, help="hold out the train file's last N articles")
    args = parser.parse_args()
    settings = dict(preset=args.preset, version=args.version, train_file=args.train_file,
                    predict_file=args.predict_file, dev_articles=args.dev_articles)
    if args.quick_steps:  # small windows too, so a CPU smoke run takes seconds
        settings.update(max_seq_length=128, doc_stride=64, batch_size=4)
    result = zoo.fit("squad_bert", **chapter_settings(args, "squad_bert"), **settings)
    m = result.metrics
    print(f"this run ({args.preset}, SQuAD v{args.version}): dev EM {m['dev_exact_match']:.1f}  "
          f"F1 {m['dev_f1']:.1f} on {m['dev_total']} questions")
    print("reference (google-research/bert, not this run): BERT-Base on the full v1.1 dev set, EM 81.2 / F1 88.4")
    if args.version == 2:
        print(f"  HasAns F1 {m.get('dev_HasAns_f1', float('nan')):.1f}  NoAns F1 {m.get('dev_NoAns_f1', float('nan')):.1f}"
              f"  best F1 {m['dev_best_f1']:.1f} at null threshold {m['dev_best_f1_thresh']:.2f}")
    print(f"run folder: {result.run_dir} (predictions.json, saved_model/)")
    for row, question in zip(zoo.squad.answer(result.run_dir, QUESTIONS, [CONTEXT] * len(QUESTIONS)), QUESTIONS):
        print(f"  {question} -> {row['answer']!r} (chars {row['start']}-{row['end']}, score {row['score']:.2f})")


if __name__ == "__main__":
    main()
