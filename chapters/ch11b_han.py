"""Chapter 11 (second notebook): the hierarchical attention network of Yang et al. (2016) on IMDB reviews,
sentences split from the raw text inside the graph, word-level then sentence-level attention.

The literate source of chapters/ch11b.ipynb (python -m zoo.notebooks 11b regenerates it); also a script:

    python chapters/ch11b_han.py --data-dir ../shared/data            # han_imdb's defaults (2 epochs)
    python chapters/ch11b_han.py --data-dir ../shared/data --quick    # 2 batches, 1 epoch
"""

# %% [markdown]
# # Chapter 11: a hierarchical attention network for documents
#
# Among the attention models chapter 11 surveys is Yang et al.'s *hierarchical attention network*
# (HAN, "Hierarchical attention networks for document classification", NAACL 2016). A document is
# sentences, a sentence is words, and the model reads it that way:
#
# - **word level**: a BiGRU reads each sentence on its own; an attention with a learned *word
#   context vector* u_w weighs its words, a_it = softmax_t(u_w^T tanh(W_w h_it + b_w)), and the
#   sentence vector is s_i = sum_t a_it h_it;
# - **sentence level**: a second BiGRU reads the sentence vectors; a *sentence context vector* u_s
#   weighs them the same way, and the document vector v = sum_i b_i h_i feeds the classifier.
#
# Both weights can be read off: which sentences mattered, and which words inside them. Yang et al.
# used 200-dimensional embeddings, GRUs of 50 per direction and context vectors of 100; so does the
# zoo's `han_imdb`. Their IMDB was a 10-class rating task (49.4% accuracy); ours is the zoo's binary
# IMDB (25,000 training and 25,000 test reviews), so the comparison is with the zoo's own IMDB models.
#
# The zoo splits the sentences **inside the TensorFlow graph** (`zoo.data.sentences`, a regular
# expression in `tf.strings`), so the exported model takes a raw review and does the rest itself.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folder's parent); a script's flags win.
chapter = chapter_settings(
    MAX_SENTENCES=16,  # sentences kept per review (the first ones)
    MAX_WORDS=32,  # words kept per sentence
)
QUICK, DATA_DIR, OUT, MAX_SENTENCES, MAX_WORDS = chapter
print(chapter)

# %%
import keras
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data.sentences import split_sentences
from zoo.layers.hierarchical_attention import HierarchicalAttention
from zoo.models.han import build_han_classifier
from zoo.notebooks import show, show_image

# %% [markdown]
# ## 1. Sentences, split in the graph
#
# A sentence ends after `.`, `!` or `?` followed by white space, and at IMDB's `<br />` line breaks;
# empty pieces are dropped and each review is padded (with "") or cut to `MAX_SENTENCES`. The split
# runs before the vectoriser lower-cases the text and strips the punctuation it relies on. Like any
# rule, it also splits after abbreviations ("Mr. Smith"): for a classifier that only shortens a sentence.

# %%
review = (
    "I expected a lot from Mr. Nolan. The first hour is superb!<br /><br />"
    "Then the plot falls apart... Why? Nobody knows. Still, see it."
)
show(pd.DataFrame({"sentence": [s.decode() for s in split_sentences(tf.constant([review]), 8).numpy()[0]]}))

# %% [markdown]
# ## 2. The two attention levels on a toy batch
#
# Two documents of three sentences of four words (features of size 5), some of them padding. Each
# real sentence's word weights sum to 1, each document's sentence weights sum to 1, and padding gets
# exactly 0 at both levels. Each level is Keras' own `AdditiveAttention` with a zero query, so its
# learned `scale` vector is the context vector u and the keys are W h + b.

# %%
x = keras.random.normal((2, 3, 4, 5), seed=0)
mask = np.zeros((2, 3, 4), bool)
mask[0, 0, :4], mask[0, 1, :2], mask[1, 0, :3] = True, True, True
document, word_weights, sentence_weights = HierarchicalAttention(units=3, attention_units=4)(x, mask=mask)
show(pd.DataFrame(np.round(np.asarray(word_weights[0]), 3), columns=[f"word {t}" for t in range(4)]))
print("sentence weights:", np.round(np.asarray(sentence_weights), 3).tolist())
print("document vectors:", tuple(document.shape))

# %% [markdown]
# ## 3. The model
#
# `build_han_classifier` is what the recipe trains: ids `(batch, S, W)` -> Embedding(200, padding
# masked) -> the two levels -> Dense(1, sigmoid). Its parameters are almost all in the embedding
# (20,000 x 200); the two BiGRUs and the attention add about 140,000.

# %%
model = build_han_classifier(vocab_size=20_000, max_sentences=MAX_SENTENCES, max_words=MAX_WORDS, num_classes=2)
model.summary()

# %% [markdown]
# ## 4. Training on IMDB
#
# `zoo.fit` splits and vectorises every review once (the vocabulary adapted on the training
# reviews), trains with Adam (Yang et al. used SGD with momentum) for two epochs, scores the test
# reviews and exports the SavedModel. 16 sentences of 32 words keep 77% of the training reviews'
# words. RESULTS.md compares it with the zoo's other IMDB models (`cnn1d_imdb`, `self_attentive_imdb`,
# `transformer_imdb`) and with a plain Keras BiGRU of the same size given the same training time
# (`benchmarks/han.py`).

# %%
run = zoo.fit("han_imdb", **chapter.fit_settings("han_imdb"), max_sentences=MAX_SENTENCES, max_words=MAX_WORDS)
print(f"test accuracy {run.metrics['test_accuracy']:.3f}")
show_image(run.run_dir / "curves.png")

# %% [markdown]
# ## 5. Both levels, highlighted
#
# One picture per test review (half of them from each class): a row per sentence, its weight in blue
# on the left, its words in red by their weight within the sentence (relative to the sentence's most
# attended word). `attention/attention.html` shows the same reviews as running text.

# %%
for path in sorted((run.run_dir / "attention").glob("*.png"))[:2]:
    show_image(path)
print("all reviews:", run.run_dir / "attention" / "attention.html")

# %% [markdown]
# ## 6. New reviews through the exported SavedModel
#
# Raw strings in, two endpoints: `serve` gives the probability of "positive"; `attention` gives it
# with the sentences, their words, and both levels of weights, so any program can draw the same
# highlights with TensorFlow alone.

# %%
REVIEWS = [
    "What a wonderful film. The acting is superb and the music is moving. I loved it!",
    "The first half is fine. Then it drags on and on. A boring, predictable mess.",
]
saved = str(run.run_dir / "saved_model")
probabilities = np.asarray(keras.layers.TFSMLayer(saved, call_endpoint="serve")(tf.constant(REVIEWS)))
out = keras.layers.TFSMLayer(saved, call_endpoint="attention")(tf.constant(REVIEWS))
for k, text in enumerate(REVIEWS):
    weights = np.asarray(out["sentence_weights"][k])
    top = int(np.argmax(weights))
    tokens = [t.decode() for t in np.asarray(out["tokens"][k, top]) if t]
    word = tokens[int(np.argmax(np.asarray(out["word_weights"][k, top])[: len(tokens)]))]
    sentence = np.asarray(out["sentences"][k, top]).item().decode()
    print(f"P(positive) = {probabilities[k][0]:.2f}; most attended sentence ({weights[top]:.2f}): {sentence!r}")
    print(f"    its most attended word: {word!r}")
