"""Chapter 11: the self-attentive sentence embedding (Lin et al. 2017), its penalty and attention maps,
section 11.3's custom regularizers, losses and metric, served from raw strings, and the chapter's title
generator (an attention encoder-decoder from abstract to title, then a pointer-generator that copies).

The literate source of chapters/ch11.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch11_self_attentive.py --data-dir ../shared/data            # the author's settings
    python chapters/ch11_self_attentive.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch11_self_attentive.py --regularizer orthogonal --label-smoothing 0.1
    python chapters/ch11_self_attentive.py --vectors glove.6B.100d.txt --no-ablation
"""

# %% [markdown]
# # Chapter 11: a structured self-attentive sentence embedding
#
# A BiLSTM reads a sentence into hidden states H (n tokens x 2u). Instead of keeping the last state or
# the mean, Lin et al. (2017) let r *hops* each compute a distribution over the tokens,
#
# A = softmax(W_s2 tanh(W_s1 H^T))   (r x n, each row a softmax over the **tokens**),
#
# and represent the sentence by the matrix M = A H (r x 2u): r weighted sums, each free to read a
# different part of the sentence. A penalty P = ||A A^T - I||_F^2, added to the loss, keeps the hops
# from all attending to the same tokens. The attention rows are also a picture of what the model read.
#
# The book's code has three bugs the zoo fixes: its softmax runs over the hops (each token spreads one
# unit of weight over the r hops), its penalty is the unsquared norm without a coefficient (and the
# author's script never adds it), and its accuracy metric is not the one the model needs. Here the
# layer is `zoo.layers.self_attention.SelfAttention` and the model `zoo.models.self_attentive`.
#
# Section 11.3 of the book extends Keras with custom regularizers and losses; they are here too, the
# Keras 3 way, and the penalty itself is the `add_loss` example.
#
# The chapter ends with the course author's **title generator**: an attention encoder-decoder that
# reads a paper's abstract and writes its title (section 9), the book's model with its bug fixed (the
# attention context is fed back into the next decoder step), and then a decoder that can copy the
# abstract's words, a pointer-generator with coverage (section 10).

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch per model; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    PENALTY=1.0,  # the penalty coefficient (the author's code and Lin et al.: 1)
    REGULARIZER="none",  # section 11.3: none, l1_activity (a function) or orthogonal (a Regularizer subclass)
    LABEL_SMOOTHING=0.0,  # section 11.3: > 0 uses the label-smoothing Loss subclass
    VECTORS="",  # word2vec/GloVe text file of pre-trained vectors (optional)
    ABLATION=True,  # also train with the penalty off, to see what it does (Lin et al. section 4.4)
    TITLES=True,  # section 9: train the title generator too (the author's 100 epochs take hours on a CPU)
)
QUICK, DATA_DIR, OUT, PENALTY, REGULARIZER, LABEL_SMOOTHING, VECTORS, ABLATION, TITLES = chapter
print(chapter)

# %%
import csv

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import translation
from zoo.layers.self_attention import SelfAttention
from zoo.losses import SmoothedSparseCrossentropy, book_crossentropy, smoothed_sparse_crossentropy
from zoo.metrics.classification import MacroF1
from zoo.models.self_attentive import build_self_attentive_classifier
from zoo.notebooks import show, show_image
from zoo.regularizers import L2Regularizer, Orthogonality, book_l1_activity, l1_activity

# %% [markdown]
# ## 1. The layer on a toy batch
#
# Two texts of five tokens, the second with two padding tokens (its mask is 0 there), 2u = 8
# features, r = 3 hops and d_a = 4. Padding gets exactly zero weight and every hop still sums to 1.

# %%
h = keras.random.normal((2, 5, 8), seed=0)
mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
layer = SelfAttention(hops=3, attention_units=4, penalty=1.0)
m, a = layer(h, mask=mask)
show(
    pd.DataFrame(
        np.round(np.asarray(a[1]), 3), index=[f"hop {i}" for i in range(3)], columns=[f"token {t}" for t in range(5)]
    )
)
print("each hop sums to 1 over the tokens:", np.round(np.asarray(a).sum(-1), 4).tolist())
print(f"M has shape {tuple(m.shape)}; the penalty the layer added with add_loss: {float(layer.losses[0]):.4f}")

# %% [markdown]
# ## 2. What the penalty measures
#
# P = ||A A^T - I||_F^2 is 0 when every hop puts all its weight on one token and no two hops share a
# token; it is r(r - 1) when all hops look at the same single token. A text shorter than r tokens can
# never reach 0: A A^T has rank at most n, so P >= r - n. With the author's r = 50 hops and
# rt-polarity's sentences of about 22 tokens the penalty stays in the tens, dwarfs the cross-entropy,
# and the model does not learn the labels (dev accuracy 0.54 in RESULTS.md). That is why the
# rt-polarity, R8 and IMDB recipes use r = 10 (on IMDB r = 50 made the model forget the labels too).
#
# Even with r = 10, the penalty's gradient flows through A into the BiLSTM and reshapes the states the
# classifier reads: on IMDB the training accuracy fell from 0.83 to 0.72 while the penalty fell. Those
# recipes therefore compute P on a stop-gradient copy of H (`penalty_gradient="attention"`): the same
# value, but it trains only W_s1 and W_s2. R8 went from 0.863 to 0.961 and IMDB from 0.742 to 0.846
# (RESULTS.md); `--set penalty_gradient=all` is Lin et al.'s version.

# %%
r, n = 4, 6
disjoint = np.eye(r, n, dtype="float32")[None]
same = np.zeros((1, r, n), "float32")
same[..., 0] = 1.0
uniform = np.full((1, r, n), 1.0 / n, "float32")
show(
    pd.DataFrame(
        {
            "attention": ["disjoint one-hot hops", "all hops on token 0", "every hop uniform"],
            "penalty": [float(SelfAttention.frobenius_penalty(x)) for x in (disjoint, same, uniform)],
        }
    )
)

# %% [markdown]
# ## 3. Section 11.3: custom regularizers, losses and a metric
#
# - a **regularizer as a function**: any `x -> scalar` (`zoo.regularizers.l1_activity`), registered so
#   a `.keras` file can name it;
# - a **`Regularizer` subclass** with `get_config` (`zoo.regularizers.Orthogonality`: the weight-space
#   twin of the attention penalty, `factor * ||W^T W - I||_F^2`), which round-trips through `.keras`;
# - a **loss factory** (a function returning a closure) and the same loss as a **`Loss` subclass**
#   (label-smoothed sparse cross-entropy; only the subclass can be restored from a file);
# - a **`Metric` subclass**, `MacroF1`, accumulating a confusion matrix over an epoch.
#
# In the recipes they are switches: `--set regularizer=l1_activity|orthogonal`,
# `--set label_smoothing=0.1`; `MacroF1` is logged for the multi-class datasets.
#
# The book's own examples are beside them (rows marked "book"): its regulariser function
# `0.01 * sum(|x|)` (`zoo.regularizers.book_l1_activity`; the zoo's `l1_activity` is the same with
# rate 1e-4), its `L2Regularizer` class (`l2 * sum(x^2)` with `get_config`: exactly Keras' own
# `keras.regularizers.L2`, as the table shows), and its cross-entropy factory
# (`zoo.losses.book_crossentropy()`: one-hot labels, the same value as Keras' `categorical_crossentropy`).
# Two things the book's listings need in Keras 3: a custom function or class must be registered
# (`@keras.saving.register_keras_serializable`) or a `.keras` file that uses it does not load, and a
# hand-written cross-entropy must clip the probabilities, or one 0 on a true class makes the loss
# infinite (last rows: a prediction of exactly 0 for the true class).

# %%
x = keras.random.normal((4, 3), seed=1)
y_true = np.array([0, 2, 1])
y_pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]], "float32")
one_hot = np.eye(3, dtype="float32")[y_true]
zero = np.array([[0.0, 0.5, 0.5]], "float32")  # no probability at all on the true class 0
with np.errstate(divide="ignore"):
    unclipped = float(-np.sum(one_hot[:1] * np.log(zero)))  # log(0) = -inf
f1 = MacroF1(3)
f1.update_state(y_true, y_pred)
show(
    pd.DataFrame(
        {
            "what": [
                "l1_activity(x)",
                "book: book_l1_activity(x) = 0.01 * sum|x|",
                "Orthogonality(1e-3)(x)",
                "book: L2Regularizer(0.01)(x)",
                "keras.regularizers.L2(0.01)(x)",
                "smoothed_sparse_crossentropy(0.1) (factory)",
                "SmoothedSparseCrossentropy(0.1) (Loss subclass)",
                "SparseCategoricalCrossentropy()",
                "book: book_crossentropy() (factory, one-hot labels)",
                "book_crossentropy(), true class predicted 0",
                "the same formula without the clip",
                "MacroF1(3)",
            ],
            "value": [
                float(l1_activity(x)),
                float(book_l1_activity(x)),
                float(Orthogonality(1e-3)(x)),
                float(L2Regularizer(0.01)(x)),
                float(keras.regularizers.L2(0.01)(x)),
                float(np.mean(smoothed_sparse_crossentropy(0.1)(y_true, y_pred))),
                float(SmoothedSparseCrossentropy(0.1)(y_true, y_pred)),
                float(keras.losses.SparseCategoricalCrossentropy()(y_true, y_pred)),
                float(np.mean(book_crossentropy()(one_hot, y_pred))),
                float(book_crossentropy()(one_hot[:1], zero)[0]),
                unclipped,
                float(f1.result()),
            ],
        }
    )
)
print("Orthogonality's config, what a .keras file stores:", Orthogonality(1e-3).get_config())

# %% [markdown]
# ## 4. Training on sentence polarity
#
# rt-polarity with the book's split (the same dev set as `lstm_mr` and `textcnn_mr`), the author's
# settings (vocabulary 5,000, embedding 50, BiLSTM 200 per direction, d_a 30, an MLP of 128 on
# the flattened M, Adam) but r = 10 hops, as section 2 explains. `build_self_attentive_classifier`
# from `zoo.models.self_attentive` is the builder the recipe calls, here with those sizes and 56
# tokens per sentence: Embedding, BiLSTM, the `SelfAttention` layer of section 1, the MLP.

# %%
model = build_self_attentive_classifier(
    vocab_size=5_000,
    sequence_length=56,
    num_classes=2,
    embedding_dim=50,
    units=200,
    hops=10,
    attention_units=30,
    penalty=PENALTY,
    dense_units=128,
    dropout=0.5,
    regularizer=REGULARIZER,
    penalty_gradient="attention",
)
model.summary()

# %% [markdown]
# `zoo.fit` builds it on the training split's vocabulary and trains it. The penalty is logged as its
# own metric (`attention_penalty`) next to the loss, and the run writes attention maps of six dev
# sentences.

# %%
run = zoo.fit(
    "self_attentive_mr",
    **chapter.fit_settings("self_attentive_mr"),
    penalty=PENALTY,
    regularizer=REGULARIZER,
    label_smoothing=LABEL_SMOOTHING,
    vectors=VECTORS,
)
print(f"dev accuracy {run.metrics['val_accuracy']:.3f}; penalty per epoch {run.metrics['attention_penalty_per_epoch']}")
show_image(run.run_dir / "curves.png")

# %% [markdown]
# ## 5. Attention maps
#
# Each picture is one dev sentence: the r x n matrix A (one row per hop, 0 white to 1 dark red) and,
# below it, the weights summed over the hops (divided by r), as in Lin et al.'s figures. The run's
# `attention/attention.html` highlights every sentence's tokens by that sum, with the label and the
# predicted probability.

# %%
maps = sorted((run.run_dir / "attention").glob("*.png"))
for path in maps[:3]:
    show_image(path)
print("highlighted sentences:", run.run_dir / "attention" / "attention.html")

# %% [markdown]
# ## 6. What the penalty does
#
# The same model with the coefficient at 0 (the penalty is still measured, only not added to the loss).
# `attention_overlap` is the mean, over dev sentences and pairs of hops, of sum_t min(A_i,t, A_j,t):
# 1 when two hops attend identically, 0 when they read disjoint tokens. Without the penalty the hops
# tend to collapse onto the same distribution (Lin et al. section 4.4).

# %%
rows = [("penalty", PENALTY, run)]
if ABLATION:
    off = zoo.fit(
        "self_attentive_mr",
        **chapter.fit_settings("self_attentive_mr_penalty0"),
        penalty=0.0,
        regularizer=REGULARIZER,
        label_smoothing=LABEL_SMOOTHING,
        vectors=VECTORS,
    )
    rows.append(("no penalty", 0.0, off))
show(
    pd.DataFrame(
        [
            {
                "run": label,
                "coefficient": c,
                "dev accuracy": r.metrics["val_accuracy"],
                "dev penalty": r.metrics["val_attention_penalty"],
                "hop overlap": r.metrics["attention_overlap"],
            }
            for label, c, r in rows
        ]
    )
)
if ABLATION:
    show_image(sorted((off.run_dir / "attention").glob("*.png"))[0])

# %% [markdown]
# ## 7. New sentences, through the exported SavedModel
#
# The SavedModel takes raw strings and has two endpoints: `serve` gives the class probabilities and
# `attention` gives them with the tokens and the hop-summed attention weights, so any program can draw
# the same highlights (no zoo needed, only TensorFlow and Keras).

# %%
SENTENCES = [
    "a great film , moving and funny",
    "dull , predictable and far too long",
    "the acting is superb but the plot is a mess",
]
saved = str(run.run_dir / "saved_model")
probabilities = np.asarray(keras.layers.TFSMLayer(saved, call_endpoint="serve")(tf.constant(SENTENCES)))
explained = keras.layers.TFSMLayer(saved, call_endpoint="attention")(tf.constant(SENTENCES))
for k, sentence in enumerate(SENTENCES):
    tokens = [t.decode() for t in np.asarray(explained["tokens"][k]) if t]
    weights = np.asarray(explained["weights"][k])[: len(tokens)]
    top = ", ".join(f"{tokens[i]} {weights[i]:.2f}" for i in np.argsort(-weights)[:3])
    print(f"P(positive) = {probabilities[k][1]:.2f}  {sentence!r}  most attended: {top}")

# %% [markdown]
# ## 8. The other datasets
#
# The same model on Reuters R8 (8 classes, macro F1 logged), IMDB reviews, and the book's own task,
# PAN 2013 author profiling (age group from an author's posts). The PAN corpus is not redistributable:
# request it from the PAN organisers, write one JSON line per author
# (`{"conversation": ..., "gender": ..., "age_group": ...}`) and pass it with `--set corpus=PATH`.
#
#     python -m zoo.run self_attentive_r8 --data-dir ../shared/data
#     python -m zoo.run self_attentive_imdb --data-dir ../shared/data
#     python -m zoo.run self_attentive_profiling --set corpus=author-profile.json

# %% [markdown]
# ## 9. Title generation: from an abstract to a title
#
# The course author's data: 1,630 papers, each a title and an abstract whose line-end hyphenation
# ("es-\ntimate") is repaired on reading. The model is chapter 10's attention encoder-decoder with the
# author's sizes: a BiGRU over the first 150 abstract tokens, a GRU(500) decoder of at most 20 title
# tokens with Luong's "general" score a(s, h) = s^T W h, one embedding (vocabulary 5,000, size 100)
# shared by both sides; the last 100 papers are the test set, as in the author's code. The author's
# decoder never sees the attention context of its previous step; here it is fed back (input feeding).
# Titles are scored with BLEU and ROUGE-L F1 (the summarisation measure) for greedy and beam decoding,
# next to two titles written without a model: the abstract's first words, and the title of the most
# similar training abstract (TF-IDF). A generator below them has learnt little from the abstract.

# %%
if TITLES:
    papers = translation.read_titles(translation.titles_path(DATA_DIR))
    abstract, title = papers[0]
    print(f"{len(papers)} papers; the first:\n  title: {title}\n  abstract: {abstract[:300]} ...")
    show(
        pd.DataFrame(
            {"abstract words": [len(a.split()) for a, _ in papers], "title words": [len(t.split()) for _, t in papers]}
        )
        .describe()
        .round(1)
    )

# %%
if TITLES:
    titles = zoo.fit("title_generation", **chapter.fit_settings("title_generation"))
    m = titles.metrics
    scored = {
        "greedy": "greedy",
        f"beam search (width {m['beam_width']})": "beam",
        "first words of the abstract": "baseline_lead",
        "title of the nearest training abstract": "baseline_nearest",
    }
    show(
        pd.DataFrame(
            {
                "BLEU": [m[f"{k}_bleu"] for k in scored.values()],
                "ROUGE-L F1": [m[f"{k}_rougeL"] for k in scored.values()],
            },
            index=list(scored),
        ).round(2)
    )
    with open(titles.run_dir / "samples.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    show(pd.DataFrame([r[1:] for r in rows[1:]], columns=rows[0][1:]))  # reference and generated titles
    show_image(titles.run_dir / "attention_0.png")  # which abstract words each title word read

# %% [markdown]
# The exported model takes an abstract as a raw string and returns a title, beam search inside:

# %%
if TITLES:
    generate = keras.layers.TFSMLayer(str(titles.run_dir / "saved_model"), call_endpoint="serve")
    new_abstract = (
        "We propose a neural network that learns word embeddings from a large text corpus and use "
        "them to classify the sentiment of short movie reviews, improving accuracy over bag of words."
    )
    print(generate(tf.constant([new_abstract])).numpy()[0].decode("utf-8"))

# %% [markdown]
# ## 10. Letting the decoder copy: a pointer-generator with coverage
#
# Why does the author's model fail? A title reuses the abstract's own words: method names, acronyms,
# domain terms (copying the abstract's first 8 words already scores ROUGE-L 17). Many of them are
# outside a 5,000-word vocabulary, so the model sees and can only write `[UNK]`, and 1,377 papers are
# too few to learn to read a word through the attention context and write it again from the
# vocabulary. See et al. (2017) let the decoder *copy* instead: the attention weights a_t over the
# abstract double as a distribution over its words, and a generation probability p_gen mixes the two:
#
# P(w) = p_gen P_vocab(w) + (1 - p_gen) sum_{j: x_j = w} a_t,j,   p_gen = sigmoid(w [c_t; s_t; e_t] + b)
#
# over an *extended vocabulary*: each abstract word outside the vocabulary gets an id of its own for
# that abstract, so a copied word is written by its string, never as `[UNK]`. *Coverage*, the sum of
# the past attention, enters the attention score, and a coverage loss sum_j min(a_t,j, cov_t,j)
# penalises reading the same words twice (the "the the the" of a decoder that keeps attending to one
# place). The layer is `zoo.layers.pointer_decoder.PointerDecoder`; `title_pointer` trains it on the
# same split as `title_generation`, with a smaller decoder (256), early stopping and a clipped
# gradient. (`--set copy=false` trains the same model without copying, and `seq2seq_attention
# --set copy=true --set attention=additive` lets a translator copy names and numbers.)

# %%
if TITLES:
    pointer = zoo.fit("title_pointer", **chapter.fit_settings("title_pointer"))
    p = pointer.metrics
    rows = {
        "pointer-generator + coverage, greedy": (p, "greedy"),
        f"pointer-generator + coverage, beam {p['beam_width']}": (p, "beam"),
        "the author's model (section 9), beam": (m, "beam"),
        "first words of the abstract": (p, "baseline_lead"),
        "title of the nearest training abstract": (p, "baseline_nearest"),
    }
    show(
        pd.DataFrame(
            {
                "ROUGE-1": [r.get(f"{k}_rouge1", float("nan")) for r, k in rows.values()],
                "ROUGE-2": [r.get(f"{k}_rouge2", float("nan")) for r, k in rows.values()],
                "ROUGE-L": [r[f"{k}_rougeL"] for r, k in rows.values()],
                "BLEU": [r[f"{k}_bleu"] for r, k in rows.values()],
                f"distinct of {p['test_sentences']}": [r.get(f"{k}_distinct", float("nan")) for r, k in rows.values()],
            },
            index=list(rows),
        ).round(2)
    )
    with open(pointer.run_dir / "samples.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    show(pd.DataFrame([r[1:] for r in rows[1:]], columns=rows[0][1:]))

# %% [markdown]
# How was a title written? The `attention` endpoint of the exported model returns, for every output
# word, p_gen and the share of its probability that came from copying. Words written mostly by copying
# are marked; in the heat map they are red, with p_gen beside each word.

# %%
if TITLES:
    explain = keras.layers.TFSMLayer(str(pointer.run_dir / "saved_model"), call_endpoint="attention")
    test_abstract = translation.read_titles(translation.titles_path(DATA_DIR))[-100][0]
    out = {k: np.asarray(v)[0] for k, v in explain(tf.constant([test_abstract])).items()}
    words = [(t.decode(), g, s) for t, g, s in zip(out["output_tokens"], out["p_gen"], out["copy_share"]) if t]
    show(
        pd.DataFrame(
            {
                "word": [w for w, _, _ in words],
                "p_gen": [round(float(g), 3) for _, g, _ in words],
                "copied": ["yes" if s > 0.5 and w != "</s>" else "" for w, _, s in words],
            }
        ).T
    )
    show_image(pointer.run_dir / "p_gen_0.png")  # p_gen per word of the first test title, copied words red
    show_image(pointer.run_dir / "attention_0.png")  # which abstract words each title word read

# %% [markdown]
# A word the vocabulary has never seen is copied by its string: the served model writes it.

# %%
if TITLES:
    generate = keras.layers.TFSMLayer(str(pointer.run_dir / "saved_model"), call_endpoint="serve")
    new_abstract = (
        "We present Zorblax, a graph neural network for recommending scholarly papers. Zorblax learns "
        "from citation graphs and user trails, and improves recommendation accuracy on two datasets."
    )
    print(generate(tf.constant([new_abstract])).numpy()[0].decode("utf-8"))
