"""Chapter 9: LSTM vs. peephole-LSTM sentiment on rt-polarity (masked mean over time), raw strings in.

The literate source of chapters/ch09.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch09_lstm.py --data-dir ../shared/data            # the author's settings
    python chapters/ch09_lstm.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch09_lstm.py --peephole full                      # the book's u x u peepholes
    python chapters/ch09_lstm.py --cells simple_rnn,gru,lstm,peephole  # the cells side by side
"""

# %% [markdown]
# # Chapter 9: LSTMs for sentiment
#
# An LSTM reads a sentence token by token; its gates decide what to keep in the cell state. The
# chapter classifies the rt-polarity sentences of chapter 7 (same split) in two ways:
#
# - **LSTM**: Embedding -> LSTM (every time step) -> Dropout 0.5 -> **mean over time** -> Dense 100 ->
#   sigmoid. *Book bug fixed:* the book averaged over the padding too, with a `Lambda` layer; the zoo
#   masks the padding so the mean covers only the sentence's real tokens. The `Dense(100)` has no
#   activation in the book, and none here (`dense_activation="linear"`): followed by the sigmoid
#   unit, a linear layer adds nothing a single `Dense(1)` could not do (two linear maps compose into
#   one), it only re-parameterises it. The zoo used a ReLU there before; `--set dense_activation=relu`
#   brings it back (RESULTS.md compares the two).
# - **Peephole LSTM** in a `Bidirectional(RNN(PeepholeLSTMCell))`: the gates also look at the cell
#   state. The book's peepholes are full u x u matrices; Gers & Schmidhuber's are diagonal
#   (element-wise), the zoo's default; `PEEPHOLE = "full"` gives the book's.
#
# Both SavedModels take raw strings. Section 4 puts the recurrent cells the chapter contrasts side by
# side: a plain tanh RNN, the GRU and the LSTM (and the peephole LSTM) in the same classifier.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch per model; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    PEEPHOLE="diagonal",  # diagonal (Gers & Schmidhuber) or full (the book)
    CELLS="simple_rnn,gru",  # more cells for section 4's comparison (lstm and peephole are trained anyway)
    choices={"PEEPHOLE": ["diagonal", "full"]},
)
QUICK, DATA_DIR, OUT, PEEPHOLE, CELLS = chapter
print(chapter)

# %%
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.metrics import ConfusionMatrixDisplay

import zoo
from zoo.data import rt_polarity
from zoo.models.rnn import build_lstm_classifier
from zoo.notebooks import plot_model, show, show_image

FIGURES = Path(OUT or "saved_models") / "ch09"  # the data pictures; each run's pictures go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The data: the sentences of chapter 7, the same split

# %%
texts, labels = rt_polarity.load(DATA_DIR)
train_idx, dev_idx = rt_polarity.book_split(len(texts))
lengths = np.array([len(t.split()) for t in texts])
print(
    f"{len(texts)} sentences ({len(train_idx)} train / {len(dev_idx)} dev), "
    f"{labels.mean():.0%} positive; 95% have at most {int(np.percentile(lengths, 95))} tokens"
)
show(pd.DataFrame({"sentence": [texts[i] for i in train_idx[:5]], "label": labels[train_idx[:5]]}))

fig, ax = plt.subplots(figsize=(6, 3))
for value, name in [(0, "negative"), (1, "positive")]:
    ax.hist(lengths[labels == value], bins=40, alpha=0.6, label=name)
ax.set(xlabel="tokens per sentence", ylabel="sentences")
ax.legend()
fig.savefig(FIGURES / "lengths.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 2. The LSTM with a masked mean over time
#
# `build_lstm_classifier` from `zoo.models.rnn` is the builder the `lstm_mr` recipe calls, here with
# its sizes (a vocabulary of 5,000, 56 tokens, LSTM(100)). The summary shows the
# `Embedding(mask_zero=True)`: its mask travels through the LSTM into the pooling, so padded steps
# count neither in the mean nor in the gradient.

# %%
model = build_lstm_classifier(
    vocab_size=5_000, sequence_length=56, embedding_dim=50, units=100, cell="lstm", dropout=0.5, dense_units=100
)
model.summary()
plot_model(model, FIGURES / "lstm_mr.png")

# %%
lstm = zoo.fit("lstm_mr", **chapter.fit_settings("lstm_mr"))
print(f"LSTM dev accuracy {lstm.metrics['val_accuracy']:.3f}  ({lstm.run_dir})")
show_image(lstm.run_dir / "curves.png")

# %% [markdown]
# ## 3. The bidirectional peephole LSTM

# %%
peephole = zoo.fit("peephole_mr", **chapter.fit_settings(f"peephole_mr_{PEEPHOLE}"), peephole=PEEPHOLE)
peephole.model.summary()
print(
    f"BiRNN(PeepholeLSTMCell, {PEEPHOLE}) dev accuracy {peephole.metrics['val_accuracy']:.3f} "
    f"(LSTM {lstm.metrics['val_accuracy']:.3f}; the book: the peephole model did slightly worse)"
)
show_image(peephole.run_dir / "curves.png")

# %% [markdown]
# ## 4. The recurrent cells side by side
#
# `cell` swaps the recurrent layer and nothing else: `simple_rnn` (Elman's tanh RNN: one matrix for
# the input, one for the state), `gru` (two gates, no separate cell state), `lstm` (three gates and
# a cell state) and `peephole` (gates that also read the cell state). Same data, same head, same
# early stopping on the dev set. On sentences of about 20 words the vanishing gradient that hurts
# the plain RNN on long texts matters less; RESULTS.md has the full runs with steps/s beside the
# accuracy (the fused LSTM and GRU kernels run much faster than the Python-level peephole loop).

# %%
from zoo.models.rnn import CELLS as ALL_CELLS

runs = {"lstm": lstm}
for cell in [c.strip() for c in CELLS.split(",") if c.strip() and c.strip() != "lstm"]:
    if cell not in ALL_CELLS:
        raise ValueError(f"CELLS: {cell!r} is not one of {', '.join(ALL_CELLS)}")
    runs[cell] = zoo.fit("lstm_mr", **chapter.fit_settings(f"lstm_mr_{cell}"), cell=cell)
show(
    pd.DataFrame(
        [
            {"cell": cell, "dev accuracy": run.metrics["val_accuracy"], "parameters": run.model.count_params()}
            for cell, run in runs.items()
        ]
        + [
            {
                "cell": f"bidirectional peephole ({PEEPHOLE}), section 3",
                "dev accuracy": peephole.metrics["val_accuracy"],
                "parameters": peephole.model.count_params(),
            }
        ]
    ).round(3)
)

# %% [markdown]
# ## 5. The exported models, as another program would use them
#
# `keras.layers.TFSMLayer` loads the SavedModel; raw dev sentences in, P(positive) out. The
# confusion matrices compare the two models on the whole dev set.

# %%
served = {
    name: keras.layers.TFSMLayer(str(run.run_dir / "saved_model"), call_endpoint="serve")
    for name, run in [("LSTM", lstm), (f"peephole ({PEEPHOLE})", peephole)]
}
dev_texts = [texts[i] for i in dev_idx]
fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
for ax, (name, serve) in zip(axes, served.items()):
    p = np.concatenate([np.asarray(serve(tf.constant(dev_texts[i : i + 500])))[:, 0] for i in range(0, 1000, 500)])
    ConfusionMatrixDisplay.from_predictions(
        labels[dev_idx], (p > 0.5).astype(int), ax=ax, colorbar=False, display_labels=["negative", "positive"]
    )
    ax.set_title(f"{name}: {np.mean((p > 0.5) == labels[dev_idx]):.1%}")
fig.savefig(peephole.run_dir / "confusion_matrices.png", dpi=90, bbox_inches="tight")
plt.show()

SENTENCES = [
    "a great film , moving and funny",
    "dull , predictable and far too long",
    "not bad at all",
    "not good at all",
]
for name, serve in served.items():
    for sentence, p in zip(SENTENCES, np.asarray(serve(tf.constant(SENTENCES)))):
        print(f"{name:20s} P(positive) = {float(p[0]):.2f}  {sentence!r}")
