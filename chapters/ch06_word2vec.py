"""Chapter 6: word2vec (skip-gram and CBOW) with negative sampling, neighbours, analogies, PCA, exports, debiasing.

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
# CBOW, the book's other model, turns the prediction around: the mean of the context words' vectors
# predicts the word in the middle (section 5).
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
# Two embedding tables (inputs and outputs), a dot product and a sigmoid; the loss is binary
# cross-entropy over one positive and k negatives. The plainest way to write it in Keras is
# `build_skipgram`: each pair scored against its own k negatives in one row, trained by autodiff
# (`--set step=per_pair`). Here with the recipes' sizes (100 dimensions, 5 negatives) and an example
# vocabulary of 10,000 words (the recipe counts its own on the training split).

# %%
model = word2vec.build_skipgram(vocab_size=10_000, dim=100, negatives=5)
model.summary()
plot_model(model, FIGURES / "skipgram.png")

# %% [markdown]
# Each pair then costs 1 + k rows gathered from and scattered into the output table, one tiny dot
# product at a time. The recipes' default step (`zoo.models.shared_negatives`, after Ji et al. 2016)
# lets a *group* of `group_size` pairs share one draw of k negatives: a group's negative scores are
# one (G x d) @ (d x k) product and each negative row is touched once per group. The gradients are
# word2vec's own, written in closed form (a test checks them against autodiff of the per-pair loss);
# the same model trains CBOW and, in chapter 14, paragraph vectors.

# %%
shared = word2vec.build_word2vec(vocab_size=10_000, dim=100)
batch = {  # 2 groups of 3 (target, context) pairs, each group sharing 5 negatives
    "inputs": tf.constant([[11, 12, 13], [14, 15, 16]]),
    "positives": tf.constant([[21, 22, 23], [24, 25, 26]]),
    "negatives": tf.constant([[31, 32, 33, 34, 35], [36, 37, 38, 39, 40]]),
}
print("scores (groups, pairs per group, 1 positive + 5 shared negatives):", tuple(shared(batch).shape))

# %% [markdown]
# A batch applies the updates of all its examples at once, each computed on the same vectors, where
# word2vec.c applies them one by one. A word in n examples of a batch therefore moves n times as far
# in one step. For PTB's most frequent words (after sub-sampling, "the" is in about 270 of 4,096 CBOW
# windows) that step overshoots, and training blew up in its first epoch. The recipes' `row_cap`
# (default 64) scales a row's summed update down to at most 64 examples' worth:

# %%
from zoo.models.shared_negatives import cap_repeated_rows

rows = tf.IndexedSlices(tf.ones((4, 2)), tf.constant([7, 7, 7, 9]), tf.constant([10, 2]))
print("row 7 in 3 examples, row 9 in 1, cap 2:", cap_repeated_rows(rows, cap=2.0).values.numpy()[:, 0])

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

# %% [markdown]
# ## 5. CBOW beside skip-gram
#
# CBOW averages the vectors of the words in the window and predicts the centre word from that mean
# (word2vec.c's `-cbow 1`, learning rate 0.05): one example per word instead of one per pair, so it
# is several times faster per epoch, and usually a little behind skip-gram on semantic analogies.
# The same recipe settings, the same `SharedNegatives` trainer; only the batches differ.

# %%
CBOW_RECIPE = RECIPE.replace("skipgram", "cbow")
cbow_settings = chapter.fit_settings(CBOW_RECIPE)
if RECIPE == "skipgram_corpus":
    cbow_settings.update({k: settings[k] for k in ("corpus", "corpus_pattern") if k in settings})
cbow = zoo.fit(CBOW_RECIPE, **cbow_settings)
rows = {}
for name, run in ((RECIPE, result), (CBOW_RECIPE, cbow)):
    m = run.metrics
    rows[name] = {
        "final loss": round(m["final_loss"], 4),
        "training words/s": m.get("train_words_per_second"),
        "analogies": m.get("analogy_accuracy"),
        "answered": m.get("analogy_answered"),
    }
show(pd.DataFrame(rows).T)
cbow_matrix = word2vec.word_vectors(cbow.model)
top, sims = word2vec.nearest(cbow_matrix, np.array([index[w] for w in probes]), k=6)
show(pd.DataFrame({w: [vocabulary[j] for j in row] for w, row in zip(probes, top)}).T)

# %% [markdown]
# ## 6. Debiasing word vectors
#
# Word vectors learn what the corpus says, prejudice included: an occupation can sit closer to
# "he" than to "she". Bolukbasi et al. (2016) find a bias direction from definitional pairs
# (she - he, woman - man, ...), *neutralise* the words that should not lean along it (remove that
# component), and *equalise* the pairs that should differ only along it (make them symmetric, so
# every neutral word is equally far from both). `zoo.models.debiasing` does it on any vector table;
# here on the skip-gram vectors trained above. The picture shows each word's cosine with the
# direction before and after (a QUICK run's vectors are barely trained, so its leanings are noise).

# %%
from zoo.models import debiasing

DEFINITIONAL = [("she", "he"), ("woman", "man"), ("her", "his"), ("mrs.", "mr."), ("mother", "father")]
NEUTRAL = ["president", "chairman", "executive", "director", "analyst", "lawyer", "doctor", "engineer"]
NEUTRAL += ["secretary", "teacher", "nurse", "banker", "trader", "economist", "writer", "manager", "worker"]
EQUALISE = [("she", "he"), ("her", "his"), ("woman", "man"), ("mother", "father")]

direction = debiasing.bias_direction(matrix, index, DEFINITIONAL)
fair = debiasing.debias(matrix, index, direction, NEUTRAL, EQUALISE)
words = [w for w in NEUTRAL if w in index] + [w for pair in EQUALISE for w in pair if w in index]
before = debiasing.projection(matrix[[index[w] for w in words]], direction)
after = debiasing.projection(fair[[index[w] for w in words]], direction)

fig, ax = plt.subplots(figsize=(6, 0.28 * len(words) + 1))
y = np.arange(len(words))
ax.barh(y - 0.2, before, 0.4, label="before", color="tab:gray")
ax.barh(y + 0.2, after, 0.4, label="after", color="tab:blue")
ax.set_yticks(y, words)
ax.invert_yaxis()
ax.axvline(0, color="black", lw=0.8)
ax.set(xlabel="cosine with the she - he direction", title="neutralise (occupations) and equalise (pairs)")
ax.legend(loc="lower right")
fig.savefig(FIGURES / "debias.png", dpi=90, bbox_inches="tight")
plt.show()

unit = debiasing.normalize(matrix)
for word in [w for w in ("nurse", "engineer", "secretary", "president") if w in index]:
    she, he = (index[w] for w in ("she", "he"))
    print(
        f"{word}: cos(she) - cos(he) = {unit[index[word]] @ (unit[she] - unit[he]):+.3f} before, "
        f"{fair[index[word]] @ (fair[she] - fair[he]):+.3f} after"
    )
