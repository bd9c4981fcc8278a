"""Chapter 6: skip-gram word2vec with negative sampling, nearest neighbours, analogies, PCA and exports.

The literate source of chapters/ch06.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch06_word2vec.py --data-dir ../shared/data   # PTB (text8 if you have it: --recipe skipgram_text8)
    python chapters/ch06_word2vec.py --data-dir ../shared/data --quick          # 20 batches, 1 epoch
    python chapters/ch06_word2vec.py --recipe skipgram_corpus --corpus ../shared/data/imdb/aclImdb_labeled.tar.gz
"""

# %% [markdown]
# # Chapter 6: word2vec
#
# Skip-gram learns a vector per word by predicting the words around it: every (target, context) pair
# seen in a window is a positive example, and k words drawn from the unigram distribution raised
# to 0.75 are negatives; a sigmoid of the dot product of the two words' vectors scores a pair.
# Frequent words are sub-sampled. Words used in similar contexts end up with similar vectors.
#
# *Book bugs fixed:* the book's batch sampling and its `train_on_batch` loop were wrong, and Keras 3
# removed the `skipgrams` / `make_sampling_table` helpers it used. The zoo generates pairs, negatives
# and sub-sampling in a `tf.data` pipeline and trains through `zoo.fit`; its window is word2vec's
# (a random size up to 5; the book used 1).
#
# The book trains on text8 (17M words); this notebook uses the Penn Treebank (0.9M words) by
# default, so that a full run takes minutes on a CPU.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (20 batches x 1 epoch; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    steps=20,
    RECIPE="skipgram_ptb",  # skipgram_ptb, skipgram_text8 or skipgram_corpus
    CORPUS="",  # for skipgram_corpus: a text file, a folder or a .tar.gz/.zip of texts
    choices={"RECIPE": ["skipgram_ptb", "skipgram_text8", "skipgram_corpus"]},
)
QUICK, DATA_DIR, OUT, RECIPE, CORPUS = chapter
settings = chapter.fit_settings(RECIPE)
if RECIPE == "skipgram_corpus":
    settings["corpus"] = CORPUS
    if CORPUS.endswith("aclImdb_labeled.tar.gz"):
        settings["corpus_pattern"] = "aclImdb/*/*/*.txt"
print(chapter)

# %%
import collections
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import ptb
from zoo.models import word2vec
from zoo.notebooks import plot_model, show, show_image

FIGURES = Path(OUT or "saved_models") / "ch06"  # the data pictures; the run's pictures go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The corpus, and the pairs skip-gram learns from
#
# Word frequencies follow Zipf's law: a few words are everywhere (hence the sub-sampling), most are
# rare (hence the vocabulary cut at `min_count`).

# %%
if RECIPE == "skipgram_ptb":
    sentences = ptb.load(DATA_DIR)["train"]
    counts = collections.Counter(word for sentence in sentences for word in sentence)
    print(f"PTB train: {len(sentences)} sentences, {sum(counts.values())} tokens, {len(counts)} distinct words")
    for sentence in sentences[:3]:
        print("  ", " ".join(sentence))
    show(pd.DataFrame(counts.most_common(10), columns=["word", "count"]).T)

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.loglog(np.arange(1, len(counts) + 1), sorted(counts.values(), reverse=True))
    ax.set(xlabel="rank", ylabel="count", title="Zipf's law on PTB")
    fig.savefig(FIGURES / "zipf.png", dpi=90, bbox_inches="tight")
    plt.show()

    window, words = 2, sentences[1][:8]
    pairs = [
        (t, words[j])
        for i, t in enumerate(words)
        for j in range(max(0, i - window), min(len(words), i + window + 1))
        if j != i
    ]
    print(f"positive (target, context) pairs of {' '.join(words)!r} with a window of {window}:")
    print("  ", ", ".join(f"({t}, {c})" for t, c in pairs[:12]), "...")

# %% [markdown]
# ## 2. Training through `zoo.fit`
#
# Two embedding tables (targets and contexts), a dot product and a sigmoid; the loss is binary
# cross-entropy over one positive and k negatives. `build_skipgram` from `zoo.models.word2vec` is
# the builder the recipes call; here with their sizes (100 dimensions, 5 negatives) and an example
# vocabulary of 10,000 words (the recipe counts its own on the training split).

# %%
model = word2vec.build_skipgram(vocab_size=10_000, dim=100, negatives=5)
model.summary()
plot_model(model, FIGURES / "skipgram.png")

# %% [markdown]
# `zoo.fit` builds it on the real vocabulary and trains it. After every epoch a callback prints the
# nearest neighbours of a few probe words: watch them become meaningful.

# %%
result = zoo.fit(RECIPE, **settings)
show_image(result.run_dir / "curves.png")
m = result.metrics
if "analogy_accuracy" in m:
    print(
        f"analogies (3CosAdd): {m['analogy_accuracy']:.1%} of {m['analogy_answered']} answered "
        f"({m['analogy_oov']} skipped as out of vocabulary); semantic {m['analogy_semantic']:.1%}, "
        f"syntactic {m['analogy_syntactic']:.1%}"
    )
print(f"run folder: {result.run_dir}")

# %% [markdown]
# ## 3. What the vectors learned: neighbours, an analogy, a PCA map
#
# Cosine nearest neighbours of a few words, `a - b + c` arithmetic, and the most frequent words
# projected on their first two principal components (a QUICK run has barely moved the vectors away
# from their random start: run the full settings to see clusters).

# %%
vocabulary = ["[UNK]", *(result.run_dir / "metadata.tsv").read_text(encoding="utf-8").splitlines()]
matrix = word2vec.word_vectors(result.model)  # row i = vocabulary[i]; metadata.tsv lists all but [UNK]
index = {w: i for i, w in enumerate(vocabulary)}
probes = [w for w in ("company", "market", "president", "japan", "good", "money", "week") if w in index]
top, sims = word2vec.nearest(matrix, np.array([index[w] for w in probes]), k=6)
show(
    pd.DataFrame(
        {w: [f"{vocabulary[j]} ({s:.2f})" for j, s in zip(row, sim)] for w, row, sim in zip(probes, top, sims)}
    ).T
)

unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
for a, b, c in [("king", "man", "woman"), ("japan", "tokyo", "paris"), ("big", "bigger", "small")]:
    if all(w in index for w in (a, b, c)):
        query = unit[index[a]] - unit[index[b]] + unit[index[c]]
        best = [vocabulary[i] for i in np.argsort(-(unit @ query)) if vocabulary[i] not in (a, b, c, "[UNK]")][:5]
        print(f"{a} - {b} + {c} ~ {', '.join(best)}")

show_image(result.run_dir / "pca.png")  # drawn by the recipe's report with zoo.visualize.embeddings.plot_pca

# %% [markdown]
# ## 4. The exports
#
# The SavedModel maps a batch of words to their vectors (unknown words get the `[UNK]` row); the run
# folder also holds `vectors.txt` (word2vec text format, loadable by gensim) and `vectors.tsv` +
# `metadata.tsv` for the TensorFlow Embedding Projector.

# %%
serve = keras.layers.TFSMLayer(str(result.run_dir / "saved_model"), call_endpoint="serve")
words = ["market", "stock", "zebra-unknown"]
vectors = np.asarray(serve(tf.constant(words)))
print(
    f"served vectors {vectors.shape}; cosine(market, stock) = "
    f"{vectors[0] @ vectors[1] / np.linalg.norm(vectors[0]) / np.linalg.norm(vectors[1]):.2f}"
)
print(sorted(p.name for p in result.run_dir.iterdir()))
