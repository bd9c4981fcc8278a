"""Chapter 14: representations of text blocks: averaged word vectors, paragraph vectors, skip-thought, autoencoders.

The literate source of chapters/ch14.ipynb (python -m zoo.notebooks 14 regenerates it); also a script:

    python chapters/ch14_text_blocks.py --data-dir ../shared/data            # full settings (long on a CPU)
    python chapters/ch14_text_blocks.py --data-dir ../shared/data --quick    # 2 batches, 1 epoch per model
"""

# %% [markdown]
# # Chapter 14: representing a block of text
#
# Information retrieval compares documents, so a document (a review, a paragraph, a sentence) needs
# one vector. The chapter goes from the plainest idea to learned ones; it gives the equations but
# no code, so everything here is the zoo's, measured against gensim (RESULTS.md, chapter 14).
#
# 1. **Averaged word vectors** (bottom-up): the mean of a text's word vectors (chapter 6). Word order
#    is lost, and frequent words dominate, but it is a strong baseline.
# 2. **Paragraph vectors** (Le & Mikolov 2014). Each document i gets a vector $d_i$ in a table,
#    trained like word2vec with negative sampling:
#    - **PV-DM** (distributed memory): $d_i$ and the vectors of a window of words, averaged or
#      concatenated, predict the word in the middle:
#      $\log\sigma(u_w^\top h) + \sum_k \log\sigma(-u_{n_k}^\top h)$ with $h = \mathrm{mean}(d_i, v_{w-c..w+c})$;
#    - **PV-DBOW** (distributed bag of words): $d_i$ alone predicts each word of document i, with
#      $h = d_i$: skip-gram with the document in the place of the centre word.
#
#    A new document has no row in the table: its vector is *inferred* by gradient steps on a fresh
#    $d$ against the frozen word and output vectors (gensim's `infer_vector`).
# 3. **Skip-thought vectors** (Kiros et al. 2015): a GRU encoder reads a sentence; two GRU decoders,
#    started from its final state and reading it at every step, regenerate the previous and the next
#    sentence (sharing the vocabulary matrix). The encoder's state is the sentence's vector. The zoo's
#    GRUs are layer-normalised (Ba et al. 2016, as TensorFlow's skip-thoughts code): with plain GRUs
#    the encoder collapsed within one epoch, every sentence the same saturated vector
#    (`--set layer_norm=false` shows it; `mean_cosine_between_sentences` near 1 in the report).
# 4. **Sequence autoencoders** (Dai & Le 2015) reconstruct the text itself: an LSTM encoder reads a
#    sentence, an LSTM decoder started from its final state regenerates the same sentence. The
#    encoder's state is again the sentence's vector, and its weights can start a classifier.
#
# *What the zoo does differently from gensim:* examples are processed in batches of 4,096 words
# whose gradients are summed (gensim updates word by word). That needs two precautions (see
# `zoo.data.documents.document_dataset` and `ParagraphVectors`): batches mix words from about a
# million words of text, so a document has about one word per batch, and PV-DM's window words
# receive their share of the mean's gradient. Without either, training diverges to NaN on IMDB.
# And PV-DBOW reads its words in groups of 4 words of one document, which share the document's
# vector and one draw of negatives: a word costs 1 + 5/4 dot products instead of 1 + 5 (section 1).

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch per model; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    MODE="dbow",  # dbow (the default and the best in gensim's tutorial), dm or both
    choices={"MODE": ["dbow", "dm", "both"]},
)
QUICK, DATA_DIR, OUT, MODE = chapter
print(chapter)

# %%
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import imdb
from zoo.data.corpus import tokenize
from zoo.data.documents import encode_documents, tokenize_strings
from zoo.notebooks import show, show_image

FIGURES = Path(OUT or "saved_models") / "ch14"
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The corpus: 50,000 IMDB reviews, each a document
#
# As in gensim's IMDB tutorial, vectors are learned for all 50,000 labelled reviews with the labels
# unused; a logistic regression then learns sentiment from the training half's vectors and is scored
# on the test half. Words seen once are dropped (`min_count=2`). The serving model tokenises raw
# strings inside TensorFlow exactly as training did:

# %%
reviews = imdb.load(DATA_DIR)
sample = reviews["test"][0][0]
print(sample[:300], "...")
print(tokenize_strings(tf.constant([sample])).to_list()[0][:20])
assert [w.decode() for w in tokenize_strings(tf.constant([sample])).to_list()[0]] == tokenize(sample)
vocabulary, ids, doc_ids, dropped = encode_documents([tokenize(t) for t in reviews["train"][0][:2000]], min_count=2,
                                                     max_vocab=1 << 20)  # fmt: skip
print(f"first 2,000 reviews: {len(ids):,} words kept, {dropped:,} rare ones dropped, vocabulary {len(vocabulary):,}")

# %% [markdown]
# PV-DBOW's batches are groups of a document's words (`document_groups`, 4 per group by default; the
# last group of a document is padded with weight 0). The group's document vector is read once and
# scored once against the group's 5 negatives, then against each of its words. The first review's
# first groups:

# %%
from zoo.data.documents import document_groups

groups = document_groups(tf.constant(ids[:14]), tf.constant(doc_ids[:14]), group_size=4)
show(pd.DataFrame({"document": groups["docs"].numpy(),
                   "words": [[vocabulary.words[w] if w else "-" for w in row] for row in groups["words"].numpy()],
                   "weights": groups["weights"].numpy().tolist()}))  # fmt: skip

# %% [markdown]
# ## 2. The baseline: averaged skip-gram vectors
#
# Chapter 6's `skipgram_corpus` learns word vectors on the reviews, one per line in a text file (QUICK
# mode: the first 2,000 reviews, 2 batches; otherwise all 50,000). Its `vectors.txt` becomes the
# `word_vectors` setting of every run below, which adds the baseline row to each report: a text's
# vector is the mean of its words' vectors, scored by the same classifier as the learned vectors.
# (A run without `word_vectors` records in its metrics that the baseline was skipped, and prints
# how to get it.) The skip-thought and autoencoder runs train on this file too.

# %%
stories = FIGURES / "reviews.txt"
texts = reviews["train"][0][:2000] if QUICK else reviews["train"][0] + reviews["test"][0]
stories.write_text("\n".join(t.replace("\n", " ") for t in texts), encoding="utf-8")
sg = zoo.fit("skipgram_corpus", **chapter.fit_settings("skipgram_corpus", corpus=str(stories)))
word_vectors = str(sg.run_dir / "vectors.txt")
print(f"{word_vectors}: {sg.metrics['vocabulary_size']:,} words of {sg.metrics['corpus_tokens']:,}")

# %% [markdown]
# ## 3. Paragraph vectors on IMDB
#
# `paragraph_vectors_imdb` trains the chosen mode (gensim's tutorial settings: 100 dimensions,
# negative 5, min_count 2, no sub-sampling, 20 epochs), then reports the test error of the
# classifier on the trained vectors, on vectors *inferred* for test reviews by the exported
# model, which saw those reviews only as raw strings, and on the averaged skip-gram vectors.

# %%
pv = zoo.fit("paragraph_vectors_imdb", **chapter.fit_settings("paragraph_vectors_imdb", mode=MODE,
                                                               word_vectors=word_vectors))  # fmt: skip
m = pv.metrics
show(pd.Series({k: m[k] for k in ("documents", "vocabulary_size", "words_per_epoch", "test_error",
                                   "test_error_inferred", "inferred_trained_cosine",
                                   "averaged_word_vectors_test_error")}))  # fmt: skip
show_image(pv.run_dir / "errors.png")
show_image(pv.run_dir / "pca.png")

# %% [markdown]
# ## 4. Embedding new text from any Keras code: the `infer` endpoint
#
# The SavedModel takes raw strings. Each string is tokenised, its unknown words ignored, and a fresh
# vector is trained for it inside the graph. An empty string (or one of unknown words only) gets the
# zero vector. Below: two new reviews, and the training reviews nearest to the first.

# %%
infer = keras.layers.TFSMLayer(pv.run_dir / "saved_model", call_endpoint="infer")
new = ["A wonderful film: moving, funny and beautifully acted.", "Dull, far too long, and the plot makes no sense.", ""]
vectors = np.asarray(infer(tf.constant(new)))
print("vectors:", vectors.shape, "| empty string -> zeros:", not vectors[2].any())
trained = pv.model.document_vectors()[: len(reviews["train"][0])]
unit = trained / np.linalg.norm(trained, axis=1, keepdims=True)
nearest = np.argsort(-(unit @ vectors[0]))[:3]
show(pd.DataFrame({"training review": [reviews["train"][0][i][:150] for i in nearest],
                   "label": ["pos" if reviews["train"][1][i] else "neg" for i in nearest]}))  # fmt: skip

# %% [markdown]
# ## 5. Skip-thought vectors, and the paper's evaluation
#
# `skip_thought` cuts texts into sentences and trains on every (previous, current, next) triple
# inside a text. The paper's test freezes the encoder and fits a logistic regression on the vectors
# of the rt-polarity snippets (MR), 10-fold cross-validated; the report puts the averaged skip-gram
# vectors and the paragraph-vector model above (through its `infer` endpoint; its run folder will
# do) beside it. It trains on the reviews file of section 2.

# %%
baselines = {"word_vectors": word_vectors, "paragraph_vectors": str(pv.run_dir)}
st = zoo.fit("skip_thought", **chapter.fit_settings("skip_thought", corpus=str(stories), **baselines))
show(pd.Series(st.metrics["rt_polarity_cv_error"], name="10-fold CV error on rt-polarity"))
show_image(st.run_dir / "rt_polarity.png")
encode = keras.layers.TFSMLayer(st.run_dir / "saved_model", call_endpoint="encode")
print("skip-thought vectors:", tuple(encode(tf.constant(["The cast was superb.", "I want my money back."])).shape))

# %% [markdown]
# ## 6. The sequence autoencoder, frozen and fine-tuned
#
# `sequence_autoencoder` trains on the same sentences with a simpler task than skip-thought's: no
# neighbours, the sentence itself. The decoder reads the start id and then the sentence shifted
# right (teacher forcing) and predicts each word; padding is left out of the loss. Its report is
# skip-thought's (the frozen vectors, 10-fold CV on rt-polarity, beside the same baselines), so its
# row sits under skip-thought's in RESULTS.md. Its run folder keeps what a classifier needs to start
# from it: `model.keras` and the vocabulary its vectoriser had (`vocab.txt`). The command line:
# `python -m zoo.run sequence_autoencoder --data-dir DIR --out RUN_DIR`.

# %%
sa = zoo.fit("sequence_autoencoder", **chapter.fit_settings("sequence_autoencoder", corpus=str(stories), **baselines))
show(pd.Series(sa.metrics["rt_polarity_cv_error"], name="10-fold CV error on rt-polarity"))
encode = keras.layers.TFSMLayer(sa.run_dir / "saved_model", call_endpoint="encode")
print("autoencoder vectors:", tuple(encode(tf.constant(["The cast was superb.", ""])).shape))
print("vocab.txt:", (sa.run_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")[:8])

# %% [markdown]
# Dai & Le's own experiment is a second recipe, trained by the driver like any classifier:
# `sa_lstm_mr`, their LSTM classifier (embedding, LSTM, dropout 0.5 on its final state, one sigmoid
# unit) on rt-polarity's book split (chapter 9's `lstm_mr` split: the last 1,000 snippets of a seed-10
# permutation held out). `--set autoencoder=RUN_DIR` starts it from the autoencoder run: its
# vectoriser gets the run's vocabulary, its embedding and LSTM the run's weights, and their sizes
# come from the run (SA-LSTM); everything is then fine-tuned, the output layer from scratch.
# `--set autoencoder=none` is the same network from random weights with a vocabulary learned on the
# training snippets (the paper's LSTM baseline). A folder that is not a finished
# `sequence_autoencoder` run is refused in one line before any training. Both serve raw strings.
# The command line:
# `python -m zoo.run sa_lstm_mr --data-dir DIR --set autoencoder=RUN_DIR` (or `autoencoder=none`).

# %%
classifiers = {
    "SA-LSTM (from the autoencoder)": zoo.fit(
        "sa_lstm_mr", **chapter.fit_settings("sa_lstm_mr", autoencoder=str(sa.run_dir))
    ),
    "LSTM (random weights)": zoo.fit("sa_lstm_mr", **chapter.fit_settings("lstm_random", autoencoder="none")),
}
show(pd.DataFrame.from_dict({name: {k: r.metrics[k] for k in ("val_accuracy", "vocabulary_size", "unknown_word_rate")}
                             for name, r in classifiers.items()}, orient="index"))  # fmt: skip
serve = keras.layers.TFSMLayer(classifiers["SA-LSTM (from the autoencoder)"].run_dir / "saved_model",
                               call_endpoint="serve")  # fmt: skip
print("P(positive):", np.asarray(serve(tf.constant(["A gripping, beautifully acted film.", "A dull mess."]))).ravel())

# %% [markdown]
# ## 7. What was measured
#
# RESULTS.md (chapter 14) compares the zoo with gensim's `Doc2Vec` on these reviews with the same
# settings: test error, training time and peak memory
# (`python benchmarks/doc2vec_vs_gensim.py pair --mode dbow --epochs 5 --out /work/bench/pv`).
