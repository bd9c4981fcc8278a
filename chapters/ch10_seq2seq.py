"""Chapter 10: sequence to sequence on the book's English-Chinese Anki pairs, greedy vs beam search, BLEU.

The literate source of chapters/ch10.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch10_seq2seq.py --data-dir ../shared/data            # the book's settings (hours on a CPU)
    python chapters/ch10_seq2seq.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch10_seq2seq.py --attention general --beam-width 10
"""

# %% [markdown]
# # Chapter 10: sequence to sequence, with and without attention
#
# An encoder reads the English sentence; a decoder writes the Chinese one token by token, fed its
# own previous token (teacher forcing while training). The chapter builds:
#
# - **the book's character model**: an LSTM(256) encoder whose final states start an LSTM(256)
#   decoder, one-hot characters on both sides (the keras.io `lstm_seq2seq` recipe);
# - **a word-level encoder-decoder with attention**: a bidirectional GRU encoder, a GRU decoder that
#   looks at every encoder state at every step. The score can be Bahdanau's "additive", Luong's
#   "general"/"dot", or one whole Transformer head ("multi_head": scaled dot product of projected
#   queries and keys, projected values), the default, with which the recipe is a plain Keras model
#   of `GRU` and `MultiHeadAttention` layers (section 4); the additive score learned slower here.
#   Luong's unscaled "general" score grows until all the weight sits on the last source token, so its
#   heat maps show no alignment and it translates worse (BLEU 14.4 against 20.2 with beam search
#   after 30 epochs, measured with the tanh attentional layer of section 4).
#
# Decoding: greedy takes the likeliest token at each step; **beam search** keeps the B best
# prefixes, ranked by log P / T^0.7 (length normalisation) so short outputs are not favoured. The
# SavedModel takes English strings and returns Chinese strings, with the beam search inside.

# %% Settings
from zoo.layers.seq2seq_decoder import ATTENTIONS
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch per model; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    ATTENTION="multi_head",  # multi_head | additive | general | dot | scaled_dot | projected_dot | none
    BEAM_WIDTH=5,
    SKIP_CHAR=False,  # True: only the attention model (the book's char model takes 100 epochs)
    choices={"ATTENTION": list(ATTENTIONS)},
)
QUICK, DATA_DIR, OUT, ATTENTION, BEAM_WIDTH, SKIP_CHAR = chapter
print(chapter)

# %%
import csv
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import translation
from zoo.models.decoding import beam_search, greedy_search
from zoo.models.seq2seq import build_attention_seq2seq
from zoo.notebooks import plot_model, show, show_image
from zoo.visualize.seq2seq_attention import plot_attention

FIGURES = Path(OUT or "saved_models") / "ch10"  # the data pictures; each run's pictures go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)
# The book prints five translations, among them "See you." -> 再见！
SENTENCES = ["See you.", "I love you.", "Where is the station?", "Tom is tired.", "Thank you very much."]

# %% [markdown]
# ## 1. The data: English-Chinese sentence pairs
#
# manythings.org's Anki file: `english<TAB>chinese<TAB>attribution` per line, short sentences
# first. The book takes the first 10,000 pairs; the recipes hold out a seeded 1,000 as the test set.

# %%
pairs = translation.read_pairs(translation.anki_path(DATA_DIR), num_samples=10_000)
show(pd.DataFrame(pairs[::2000], columns=["English", "Chinese"]))
english = np.array([len(e.split()) for e, _ in pairs])
chinese = np.array([len(c) for _, c in pairs])
fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(english, bins=range(1, 15), alpha=0.6, label="English words")
ax.hist(chinese, bins=range(1, 25), alpha=0.6, label="Chinese characters")
ax.set(xlabel="length", ylabel="pairs")
ax.legend()
fig.savefig(FIGURES / "lengths.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 2. Why beam search: a decoder whose best first token leads nowhere
#
# A hand-built decoder: after the start token, "A" (0.55) beats "B" (0.45), but after "A" nothing
# is sure, while "B" is followed by the end with 95%. Greedy commits to A; a beam of 2 keeps B too.

# %%
end, start, a, b = 1, 2, 3, 4  # 0 is padding
table = np.full((5, 5), 1e-6)
table[start, [a, b]] = [0.55, 0.45]
table[a, [a, b, end]] = [0.34, 0.33, 0.33]
table[b, [end, a]] = [0.95, 0.05]
logits = tf.constant(np.log(table / table.sum(1, keepdims=True)), tf.float32)


def step(tokens, cache):
    return tf.gather(logits, tokens), cache


names = {a: "A", b: "B"}
for label, out in (
    ("greedy", greedy_search(step, {}, tf.constant([start]), end_id=end, max_length=3)),
    ("beam 2", beam_search(step, {}, tf.constant([start]), end_id=end, max_length=3, beam_width=2, alpha=0.0)),
):
    tokens = [names[t] for t in out["tokens"].numpy()[0] if t]
    print(f"{label}: {' '.join(tokens) or '(empty)'}  log P = {float(out['log_probs'][0]):.3f}")

# %% [markdown]
# ## 3. The book's character encoder-decoder

# %%
runs = {}
if not SKIP_CHAR:
    runs["char"] = zoo.fit("seq2seq_char_cmn", **chapter.fit_settings("seq2seq_char_cmn"), beam_width=BEAM_WIDTH)
    runs["char"].model.summary()
    print(f"keras.io character accuracy: {runs['char'].metrics['test_char_accuracy']:.3f}")
    show_image(runs["char"].run_dir / "curves.png")

# %% [markdown]
# ## 4. The word-level encoder-decoder with attention
#
# `build_attention_seq2seq` from `zoo.models.seq2seq` is the builder the recipe calls, here with its
# sizes (embeddings of 128, a bidirectional GRU of 2 x 256, a GRU decoder of 256, no dropout) and
# example vocabularies of 3,000 English words and 2,500 Chinese characters (the recipe counts both on
# the training pairs). The decoder, attention included, is one layer: `Seq2SeqDecoder`.
#
# Two ways to use the attention context `c_t`. Luong et al. combine it with the decoder state into an
# attentional vector `a_t = tanh(W_c [c_t; h_t])`, which predicts the word and is fed into the next
# step (*input feeding*; the book's title model forgets it). The recipe's default is simpler: the
# GRU runs over the target words alone, one attention head reads the encoder outputs for all steps at
# once, and `[c_t; h_t]` goes straight into the softmax (`input_feeding=False,
# combine_activation="none"`), the shape of a forty-line Keras model built from `keras.layers.GRU`
# and `MultiHeadAttention`; given that model's weights it computes the same logits (a test checks
# it). On this chapter's data (RESULTS.md, "the translator's slow learning"), after 10 epochs, three
# seeds: greedy BLEU 22.9 / 21.6 / 25.3 for the recipe's decoder and 24.1 / 24.4 / 24.7 for the plain
# model, which differ only by the random draw of their starting weights; Bahdanau's additive score
# with Luong's input feeding (`--set attention=additive --set input_feeding=true --set
# combine_activation=linear` trains that model) 23.2 / 22.5 / 23.1, and the additive score costs the
# plain model itself about 3 points. Luong's tanh itself was worse still: trained with
# Adam it saturated within 20 steps (92% of its units at |a| > 0.99) and the decoder wrote only the
# most frequent words for epochs, so that layer is linear here when it is used.

# %%
model = build_attention_seq2seq(
    source_vocab_size=3_000,
    target_vocab_size=2_500,
    embedding_dim=128,
    units=256,
    encoder_units=256,
    cell="gru",
    attention=ATTENTION,
    input_feeding=False,
    combine_activation="none",
    dropout=0.0,
)
model.summary()
plot_model(model, FIGURES / "seq2seq_attention.png")

# %%
runs["attention"] = zoo.fit(
    "seq2seq_attention_cmn", **chapter.fit_settings("seq2seq_attention_cmn"), attention=ATTENTION, beam_width=BEAM_WIDTH
)
show_image(runs["attention"].run_dir / "curves.png")

# %% [markdown]
# ## 5. BLEU and chrF on the test pairs, greedy vs beam
#
# Corpus BLEU and chrF from sacrebleu (its `zh` tokeniser for Chinese); `samples.tsv` in the run
# folder holds ten test sentences with both decodings.

# %%
beam = f"beam {BEAM_WIDTH}"  # metrics.json: beam_bleu, beam_chrf ... and the width as beam_width
show(
    pd.DataFrame(
        {
            name: {
                "BLEU greedy": run.metrics["greedy_bleu"],
                f"BLEU {beam}": run.metrics["beam_bleu"],
                "chrF greedy": run.metrics["greedy_chrf"],
                f"chrF {beam}": run.metrics["beam_chrf"],
            }
            for name, run in runs.items()
        }
    ).T.round(2)
)
run_dir = runs["attention"].run_dir
with open(run_dir / "samples.tsv", encoding="utf-8") as f:
    rows = list(csv.reader(f, delimiter="\t"))
show(pd.DataFrame(rows[1:6], columns=rows[0]))

# %% [markdown]
# ## 6. The exported translator, as another program would use it
#
# `keras.layers.TFSMLayer` loads the SavedModel: English strings in, Chinese strings out (the beam
# search runs inside the graph). Its `attention` endpoint gives the weights of the heat map.

# %%
saved = str(run_dir / "saved_model")
translate = keras.layers.TFSMLayer(saved, call_endpoint="serve")
for sentence, output in zip(SENTENCES, translate(tf.constant(SENTENCES)).numpy()):
    print(f"{sentence:<28} -> {output.decode('utf-8')}")
if ATTENTION != "none":
    png = Path(run_dir) / "attention_see_you.png"
    plot_attention(saved, SENTENCES[0], png)
    show_image(png)
