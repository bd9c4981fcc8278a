"""Chapter 7: the Embedding+Flatten toy, Kim's TextCNN and the 1D CNN on sentence polarity, served from raw strings.

The literate source of chapters/ch07.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch07_textcnn.py --data-dir ../shared/data            # the book's settings
    python chapters/ch07_textcnn.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch07_textcnn.py --vectors glove.twitter.27B.100d.txt --variant multichannel
    python chapters/ch07_textcnn.py --vectors glove.twitter.27B.100d.txt --variant book-multichannel
"""

# %% [markdown]
# # Chapter 7: convolutional networks for text
#
# A sentence becomes a matrix (one embedding per token) and a convolution slides windows of 3, 4 and 5
# words over it: each filter is an n-gram detector, max-pooling over time keeps its best match
# anywhere in the sentence (Kim, 2014). This notebook trains the chapter's three models with the
# zoo's one driver, `zoo.fit`:
#
# - the **Embedding + Flatten toy** on the book's ten short documents (the book printed eight labels
#   for ten documents; the zoo labels all ten);
# - **Kim's TextCNN** on Pang & Lee's sentence polarity data (rt-polarity, 10,662 sentences), with
#   the book's split (a seed-10 shuffle, the last 1,000 sentences as dev) and variants `rand`,
#   `static`, `non-static`, `multichannel` and `book-multichannel` (all but `rand` need pre-trained
#   vectors);
# - **keras' imdb_cnn 1D CNN** on the same split;
# - the sequence-models notes' **averaged word embeddings**: a sentence is the mean of its word
#   vectors, one softmax layer reads it; against scikit-learn's TF-IDF + logistic regression.
#
# *Where the zoo departs from the book, and how to get the book's version:* the book's two-channel
# network (section 7.3.3) is not Kim's `multichannel`. Kim starts both channels from the same
# pre-trained vectors (one frozen, one fine-tuned) and applies each filter to both; the book stacks
# a **randomly initialised** trainable channel on a frozen GloVe channel, each with its own kernel
# weights. The zoo offers both: `variant="multichannel"` (Kim) and `variant="book-multichannel"`.
#
# Every model is exported as a SavedModel that takes **raw strings**: the `TextVectorization`
# adapted on the training sentences is inside it.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch per model; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    VARIANT="rand",  # TextCNN variant: rand, static, non-static, multichannel (Kim), book-multichannel
    VECTORS="",  # word2vec/GloVe text file, needed by every variant but rand
    choices={"VARIANT": ["rand", "static", "non-static", "multichannel", "book-multichannel"]},
)
QUICK, DATA_DIR, OUT, VARIANT, VECTORS = chapter
print(chapter)

# %%
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import rt_polarity
from zoo.models.average_embedding import build_average_embedding
from zoo.models.textcnn import build_textcnn
from zoo.notebooks import plot_model, show, show_image
from zoo.recipes.ch07 import TOY_DOCS, TOY_LABELS

FIGURES = Path(OUT or "saved_models") / "ch07"  # the data pictures; each run's pictures go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The toy: an Embedding, flattened
#
# Ten documents of at most four words: each word gets an 8-dimensional vector, the four vectors are
# concatenated (`Flatten`) and one sigmoid unit reads them.

# %%
show(pd.DataFrame({"document": TOY_DOCS, "label": TOY_LABELS}))
toy = zoo.fit("embedding_toy", **chapter.fit_settings("embedding_toy", max_steps=None))  # 10 documents: one batch
toy.model.summary()
print(f"training accuracy {toy.metrics['train_accuracy']:.2f} on {len(TOY_DOCS)} documents")

# %% [markdown]
# ## 2. The data: sentence polarity
#
# 5,331 positive and 5,331 negative snippets of movie reviews, lower-cased and tokenised by Pang & Lee.

# %%
texts, labels = rt_polarity.load(DATA_DIR)
train_idx, dev_idx = rt_polarity.book_split(len(texts))
lengths = np.array([len(t.split()) for t in texts])
print(
    f"{len(texts)} sentences: {len(train_idx)} train, {len(dev_idx)} dev (the book's split); "
    f"{int(labels.sum())} positive, {int((1 - labels).sum())} negative"
)
show(pd.DataFrame({"sentence": [texts[i] for i in dev_idx[:6]], "label": labels[dev_idx[:6]]}))

fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(lengths, bins=40)
ax.set(xlabel="tokens per sentence", ylabel="sentences", title=f"median {int(np.median(lengths))} tokens")
fig.savefig(FIGURES / "lengths.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 3. Kim's TextCNN
#
# Windows of 3, 4 and 5 tokens, 10 filters each (the paper uses 100), 1-max pooling over time,
# dropout 0.5 and one sigmoid unit; Adam, 10 epochs, batch 50. `build_textcnn` from
# `zoo.models.textcnn` is the builder the recipe calls; here the `rand` variant with the recipe's
# sizes: a vocabulary of 10,000 (a cap: the recipe adapts it on the training split) and 56 tokens.

# %%
model = build_textcnn(
    vocab_size=10_000, sequence_length=56, embedding_dim=50, windows=(3, 4, 5), filters=10, dropout=0.5
)
model.summary()
plot_model(model, FIGURES / "textcnn.png")

# %% [markdown]
# `zoo.fit` builds the chosen variant on the training split's vocabulary, trains, evaluates, and
# writes the run folder (metrics, curves, `model.keras`, the SavedModel).

# %%
textcnn = zoo.fit("textcnn_mr", **chapter.fit_settings(f"textcnn_mr_{VARIANT}"), variant=VARIANT, vectors=VECTORS)
print(f"TextCNN-{VARIANT}: dev accuracy {textcnn.metrics['val_accuracy']:.3f} ({textcnn.run_dir})")
if "vectors_coverage" in textcnn.metrics:
    print(f"pre-trained vectors cover {textcnn.metrics['vectors_coverage']:.1%} of the vocabulary")
show_image(textcnn.run_dir / "curves.png")

# %% [markdown]
# ### Where it errs: the dev confusion matrix
#
# The SavedModel is loaded as another program would, with `keras.layers.TFSMLayer`, and called on the
# raw dev sentences.

# %%
from sklearn.metrics import ConfusionMatrixDisplay

serve = keras.layers.TFSMLayer(str(textcnn.run_dir / "saved_model"), call_endpoint="serve")
dev_texts = [texts[i] for i in dev_idx]
p_positive = np.concatenate(
    [np.asarray(serve(tf.constant(dev_texts[i : i + 500])))[:, 0] for i in range(0, len(dev_texts), 500)]
)
predicted = (p_positive > 0.5).astype(int)
print(
    f"served model: accuracy {np.mean(predicted == labels[dev_idx]):.3f} on all {len(dev_texts)} dev sentences "
    f"(zoo.fit scored {'the first 2 dev batches' if QUICK else 'the whole dev set'})"
)
matrix_plot = ConfusionMatrixDisplay.from_predictions(
    labels[dev_idx], predicted, display_labels=["negative", "positive"], colorbar=False
)
matrix_plot.figure_.savefig(textcnn.run_dir / "confusion_matrix.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 4. keras' imdb_cnn: one window size, max-pooling, a hidden layer

# %%
cnn1d = zoo.fit("cnn1d_mr", **chapter.fit_settings("cnn1d_mr"))
cnn1d.model.summary()
print(
    f"1D CNN dev accuracy: {cnn1d.metrics['val_accuracy']:.3f} "
    f"(TextCNN-{VARIANT}: {textcnn.metrics['val_accuracy']:.3f})"
)
show_image(cnn1d.run_dir / "curves.png")

# %% [markdown]
# ## 5. Averaged word embeddings: no convolution at all
#
# The sequence-models notes' first sentiment model: average the vectors of a sentence's words and
# let one softmax layer (a sigmoid unit for two classes) read the mean. `build_average_embedding`
# learns the embedding from scratch, or starts from a vectors file (`VECTORS`: the zoo's skip-gram
# `vectors.txt` or GloVe) and, with `freeze=True`, trains only the output layer as in the notes.
# The mean skips the padding. It cannot see word order: "not good" and "good , not" are the same
# point. Its report also fits scikit-learn's TF-IDF (words and pairs) + logistic regression on the
# same split, the plain bag-of-words baseline every model here should beat.

# %%
build_average_embedding(vocab_size=10_000, sequence_length=56, embedding_dim=50).summary()
average = zoo.fit("avg_embedding_mr", **chapter.fit_settings("avg_embedding_mr"), vectors=VECTORS)
show(
    pd.DataFrame(
        {
            "model": [
                "averaged embeddings" + (" (from vectors)" if VECTORS else " (from scratch)"),
                "TF-IDF + logistic regression",
                f"TextCNN-{VARIANT}",
                "1D CNN",
            ],
            "dev accuracy": [
                average.metrics["val_accuracy"],
                average.metrics["baseline_tfidf_logreg_accuracy"],
                textcnn.metrics["val_accuracy"],
                cnn1d.metrics["val_accuracy"],
            ],
        }
    ).round(3)
)

# %% [markdown]
# ## 6. New sentences, through the exported SavedModel
#
# Strings in, P(positive) out: no zoo, no vocabulary file, just TensorFlow and Keras.

# %%
SENTENCES = [
    "a great film , moving and funny",
    "dull , predictable and far too long",
    "the actors try hard but the script lets them down",
]
for name, run in [("TextCNN", textcnn), ("1D CNN", cnn1d), ("average", average)]:
    served = keras.layers.TFSMLayer(str(run.run_dir / "saved_model"), call_endpoint="serve")
    for sentence, p in zip(SENTENCES, np.asarray(served(tf.constant(SENTENCES)))):
        print(f"{name:8s} P(positive) = {float(p[0]):.2f}  {sentence!r}")
