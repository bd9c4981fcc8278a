"""Chapter 12: the Transformer (Vaswani et al. 2017) piece by piece, then trained to translate and to classify.

The literate source of chapters/ch12a.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch12a_transformer.py --data-dir ../shared/data                # the recipes' settings (slow on CPUs)
    python chapters/ch12a_transformer.py --data-dir ../shared/data --quick        # tiny models, 2 batches x 1 epoch
    python chapters/ch12a_transformer.py --data-dir ../shared/data --compare-gru  # also chapter 10's GRU + attention
"""

# %% [markdown]
# # Chapter 12: the Transformer
#
# Chapter 10's encoder-decoder reads a sentence one token at a time. The Transformer (Vaswani et al.
# 2017, "Attention is all you need") has no recurrence: in every layer each position attends to all
# positions at once, so a layer is a handful of matrix products. This walk-through takes it apart,
# each piece from `zoo.layers.transformer` and checked against Keras, then trains it:
#
# 1. scaled dot-product attention by hand, and why the scores are divided by sqrt(d_k);
# 2. multi-head attention, the heads split out, against `keras.layers.MultiHeadAttention`;
# 3. the padding and look-ahead masks;
# 4. sinusoidal positional encodings;
# 5. the encoder and decoder blocks (Add & Norm, feed-forward) and the warm-up learning-rate schedule;
# 6. `transformer_cmn`: English -> Chinese on chapter 10's pairs, with the cross-attention of every head;
# 7. the comparison with chapter 10's GRU with attention;
# 8. `transformer_mr`: the encoder alone as a sentence classifier;
# 9. both SavedModels used from another Keras program.
#
# QUICK mode trains tiny models for two batches: their translations and heat maps are noise, but
# every cell runs and shows where to look. The chapter's other notebook, `ch12.ipynb`, fine-tunes
# BERT (a pre-trained Transformer encoder) for question answering.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (tiny models, 2 batches x 1 epoch each; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    BEAM_WIDTH=5,  # beam search of the exported translator and of the beam scores (1 = greedy)
    COMPARE_GRU=False,  # also train chapter 10's GRU + attention on the same split (slow on a CPU)
)
QUICK, DATA_DIR, OUT, BEAM_WIDTH, COMPARE_GRU = chapter
print(chapter)

# %%
import csv
import json
import math
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.layers.transformer import (
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    attention_mask,
    merge_heads,
    multi_head_attention_by_hand,
    scaled_dot_product_attention,
    sinusoidal_encoding,
    split_heads,
)
from zoo.models.transformer import TransformerSchedule, build_transformer_seq2seq
from zoo.notebooks import plot_model, show, show_image
from zoo.visualize.seq2seq_attention import plot_attention

FIGURES = Path(OUT or "saved_models") / "ch12a"  # the pictures of sections 1-5; each run's go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)
# The translation recipe's defaults (its sizes, warm-up, epochs ...): what the full run trains.
DEFAULTS = {key: getattr(p, "default", p) for key, p in zoo.recipes.get("transformer_cmn").hparams.items()}
TINY = dict(num_layers=1, model_dim=32, num_heads=2, ff_dim=64) if QUICK else {}  # QUICK's model sizes
SENTENCES = ["I love you.", "Where is the station?", "Tom is tired.", "See you."]

# %% [markdown]
# ## 1. Scaled dot-product attention
#
# Every key answers a query with a score; the output is the average of the values weighted by the
# softmax of the scores (Vaswani et al. 2017, section 3.2.1):
#
#     Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V
#
# Q is (queries x d_k), K (keys x d_k), V (keys x d_v), and each row of weights sums to 1. A toy:
# four tokens with 4-d keys and 2-d values, and three queries. The first points the way of the key
# of "love", the second of "green"; the third, (1, 1, 1, 1), is a mix.

# %%
tokens = ["I", "love", "green", "tea"]
K = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, -1]], "float32")
V = np.array([[1, 0], [0, 1], [1, 1], [-1, 1]], "float32")
Q = np.array([[0, 2, 0, 0], [0, 0, 2, 2], [1, 1, 1, 1]], "float32")

scores = Q @ K.T / math.sqrt(K.shape[1])  # (3 queries, 4 keys), d_k = 4
weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)  # softmax over the keys
show(pd.DataFrame(weights.round(3), index=["q1 (love)", "q2 (green)", "q3 (mixed)"], columns=tokens))
print("outputs = weights @ V:\n", (weights @ V).round(3))
outputs, _ = scaled_dot_product_attention(Q, K, V)
print("zoo.layers.transformer.scaled_dot_product_attention gives the same:", np.allclose(outputs, weights @ V))

# %% [markdown]
# **Why divide by sqrt(d_k).** If the components of q and k are independent with mean 0 and variance
# 1, q.k is a sum of d_k such products: its variance is d_k, so the scores spread as sqrt(d_k). The
# softmax of widely spread scores puts nearly all the weight on the largest; the weights then hardly
# move when a score moves (the softmax's derivatives, p_i(1 - p_i) and -p_i p_j, vanish) and learning
# stalls. Dividing by sqrt(d_k) brings the scores back to variance 1 whatever d_k. Random queries and
# ten random keys, 1,000 draws per size; "sensitivity" is the sum of p_i(1 - p_i) (0 when one key
# takes everything, 0.9 when ten keys share equally):

# %%
rng = np.random.default_rng(0)
rows = []
for d in (4, 16, 64, 256, 1024):
    q = rng.standard_normal((1000, 1, d))
    k = rng.standard_normal((1000, 10, d))
    raw = (q @ k.transpose(0, 2, 1))[:, 0]  # (draws, keys)
    row = {"d_k": d, "std of q.k": raw.std()}
    for name, s in (("unscaled", raw), ("/ sqrt(d_k)", raw / math.sqrt(d))):
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        row[f"largest weight, {name}"] = p.max(axis=1).mean()
        row[f"sensitivity, {name}"] = (p * (1 - p)).sum(axis=1).mean()
    rows.append(row)
show(pd.DataFrame(rows).set_index("d_k").round(3))

# %% [markdown]
# ## 2. Multi-head attention
#
# One attention gives one weighted average per position. Multi-head attention runs h attentions side
# by side, each on its own learned projections of size d_k = d_model / h, and concatenates them:
#
#     MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,   head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)
#
# The h matrices W_Q^1 ... W_Q^h side by side are one d_model x (h d_k) matrix, so one product projects
# every head; `split_heads` then cuts the features into h slices, (B, T, h d_k) -> (B, h, T, d_k), and
# `merge_heads` is the Concat. Eight numbered features, two heads:

# %%
x = np.arange(2 * 8, dtype="float32").reshape(1, 2, 8)  # 1 sequence, 2 positions, 8 features
heads = split_heads(x, num_heads=2)
print(f"x {x.shape} -> heads {tuple(heads.shape)}")
for h in range(2):
    print(f"head {h + 1} gets, per position:", np.asarray(heads[0, h]).astype(int).tolist())
print("merge_heads(split_heads(x)) == x:", np.array_equal(merge_heads(heads), x))

# %% [markdown]
# `keras.layers.MultiHeadAttention` stores W_Q as a kernel of shape (d_model, h, d_k).
# `multi_head_attention_by_hand` reshapes each kernel to (d_model, h d_k), projects, splits the heads,
# runs section 1's `scaled_dot_product_attention` on all heads in one batched call, merges them and
# applies W_O. From the Keras layer's own weights it gives the layer's outputs and weights: two
# sequences of five positions, the second with two padding positions (masked as keys, section 3).

# %%
mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
x = keras.random.normal((2, 5, 8), seed=1)
real = np.array([[True] * 5, [True] * 3 + [False] * 2])  # True = a real token
mask = attention_mask(x, real)  # (2, 5, 5): may query i read key j?
keras_out, keras_weights = mha(x, x, attention_mask=mask, return_attention_scores=True)
hand_out, hand_weights = multi_head_attention_by_hand(mha, x, x, mask)
print("kernels: W_Q", tuple(mha.query_dense.kernel.shape), " W_O", tuple(mha.output_dense.kernel.shape))
print("weights:", tuple(hand_weights.shape), "(batch, heads, queries, keys)")
diff_out = np.abs(keras.ops.convert_to_numpy(keras_out - hand_out)).max()
diff_weights = np.abs(keras.ops.convert_to_numpy(keras_weights - hand_weights)).max()
print(f"max |Keras - by hand|: outputs {diff_out:.1e}, weights {diff_weights:.1e}")
print("largest weight on a padding key:", float(keras.ops.max(hand_weights[1, :, :, 3:])))

# %% [markdown]
# ## 3. Masks: padding and look-ahead
#
# A mask says which keys each query may read; a masked score becomes -1e9 before the softmax, so its
# weight is 0.
#
# - **Padding mask**: no query reads a padding key (every row alike).
# - **Look-ahead (causal) mask**: in the decoder's self-attention position t reads positions <= t
#   only. Training feeds the whole target at once (teacher forcing); the mask keeps each position from
#   reading the token it must predict.
# - The decoder's self-attention uses **both** (AND). Padding *queries* are not masked: their rows
#   read the real keys, but no real position reads them and the loss ignores them.
#
# The decoder input for 我爱你。 padded to seven tokens (pinyin labels, so the figure needs no Chinese
# font); green: may attend.

# %%
labels = ["<s>", "wǒ", "ài", "nǐ", ".", "<pad>", "<pad>"]
real = np.array([[True] * 5 + [False] * 2])
queries = np.zeros((1, len(labels), 1))  # only the shape matters
masks = {
    "padding mask": attention_mask(queries, real),
    "look-ahead mask": attention_mask(queries, causal=True),
    "decoder self-attention: both": attention_mask(queries, real, causal=True),
}
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, (title, m) in zip(axes, masks.items()):
    ax.imshow(np.asarray(m[0]), cmap="Greens", vmin=0, vmax=1.5)
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(title=title, xlabel="key (is read)", ylabel="query (reads)")
fig.tight_layout()
fig.savefig(FIGURES / "masks.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 4. Where a token is: sinusoidal positional encodings
#
# Attention ignores order: shuffle the keys and values together and every output stays the same. The
# order enters with the input: each token's embedding, scaled by sqrt(d_model), gets its position's
# vector added (section 3.5 of the paper):
#
#     PE(p, 2i) = sin(p / 10000^(2i / d_model)),   PE(p, 2i + 1) = cos(p / 10000^(2i / d_model))
#
# Each pair of dimensions is a clock of its own frequency, wavelengths from 2 pi (dimensions 0-1) to
# nearly 10000 * 2 pi (the last pair). For a fixed offset k, PE(p + k) is a fixed rotation of PE(p)
# in each pair, which the paper expected to make relative positions easy to attend to. There are no
# weights and no maximum length (`PositionalEmbedding` adds them in the zoo's models).

# %%
order = [2, 0, 3, 1]
shuffled, _ = scaled_dot_product_attention(Q, K[order], V[order])
print("section 1's outputs with keys and values shuffled are unchanged:", np.allclose(shuffled, outputs))

pe = np.asarray(sinusoidal_encoding(60, 64))  # 60 positions x d_model = 64
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
image = left.imshow(pe, cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
left.set(xlabel="dimension", ylabel="position", title="PE: 60 positions x 64 dimensions")
fig.colorbar(image, ax=left)
for dim in (2, 8, 16, 24):
    wavelength = 2 * math.pi * 10000 ** (dim / pe.shape[1])
    right.plot(pe[:, dim], label=f"dimension {dim} (sin): wavelength {wavelength:.0f}")
right.set(xlabel="position", ylabel="PE", title="a few dimensions: the higher, the slower")
right.legend(loc="lower left", fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "positional_encoding.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 5. The blocks
#
# An **encoder block** is self-attention, then a feed-forward layer. A **decoder block** is causal
# self-attention, then cross-attention (queries from the decoder; keys and values the encoder's
# outputs: chapter 10's attention, with heads), then a feed-forward layer. Around each sublayer:
#
# - **Add & Norm**, LayerNorm(x + Dropout(Sublayer(x))): the residual sum carries each position's
#   vector past the sublayer, and layer normalisation rescales each position's vector to mean 0 and
#   variance 1 (then a learned gain and bias).
# - **Feed-forward**, max(0, x W_1 + b_1) W_2 + b_2: the same two Dense layers on every position
#   separately (d_model -> ff_dim -> d_model).
#
# The parameters of one block of each kind at the translation recipe's sizes:

# %%
D, HEADS, FF = DEFAULTS["model_dim"], DEFAULTS["num_heads"], DEFAULTS["ff_dim"]
encoder_block = TransformerEncoderBlock(D, HEADS, FF, name="encoder_0")
decoder_block = TransformerDecoderBlock(D, HEADS, FF, name="decoder_0")
source, target = np.zeros((1, 7, D), "float32"), np.zeros((1, 5, D), "float32")
encoder_block(source)
decoder_block(target, source)


def parameters_by_sublayer(block):
    counts = {}
    for weight in block.weights:  # paths like encoder_0/self_attention/query/kernel
        sublayer = weight.path.split("/")[1]
        counts[sublayer] = counts.get(sublayer, 0) + int(np.prod(weight.shape))
    return counts


sublayers = ["self_attention", "attention_norm", "self_attention_norm", "cross_attention", "cross_attention_norm"]
table = pd.DataFrame(
    {"encoder block": parameters_by_sublayer(encoder_block), "decoder block": parameters_by_sublayer(decoder_block)}
)
table = table.reindex(sublayers + ["ff_inner", "ff_outer", "ff_norm"]).fillna(0).astype(int)
table.loc["total"] = table.sum()
show(table)
print(f"d_model={D}, heads={HEADS}, ff_dim={FF}; the self-attention's kernels:")
print({w.path.split("/", 2)[2]: tuple(w.shape) for w in encoder_block.self_attention.weights if "kernel" in w.path})

# %% [markdown]
# The whole encoder-decoder at the recipe's sizes, with example vocabularies of 3,000 English words
# and 2,500 Chinese characters (the recipe counts both on the training pairs):

# %%
model = build_transformer_seq2seq(
    source_vocab_size=3_000,
    target_vocab_size=2_500,
    num_layers=DEFAULTS["num_layers"],
    model_dim=D,
    num_heads=HEADS,
    ff_dim=FF,
    dropout=DEFAULTS["dropout"],
)
model.summary()
plot_model(model, FIGURES / "transformer.png")

# %% [markdown]
# **The learning rate.** The paper trains with Adam (beta_2 = 0.98, epsilon = 1e-9) and a rate that
# rises linearly for `warmup_steps`, then decays as 1/sqrt(step):
#
#     lr = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)
#
# Without the warm-up a post-norm Transformer (Add & Norm as above) trains badly or diverges: its
# gradients near the output are large at initialisation (Xiong et al. 2020). The paper warms up for 4,000 of
# 100,000 steps at d_model 512; the recipe, with 10,000 short pairs, trains about 3,800 steps and
# warms up for 1,000 (`zoo/recipes/transformer.py` explains its departures from the paper).

# %%
train_pairs = (DEFAULTS["num_samples"] - DEFAULTS["test_size"]) * 9 // 10  # validation: 10% of the rest
total_steps = DEFAULTS["epochs"] * math.ceil(train_pairs / DEFAULTS["batch_size"])
steps = np.arange(total_steps)
fig, ax = plt.subplots(figsize=(7, 3))
for dim, warmup, who in ((D, DEFAULTS["warmup_steps"], "the recipe"), (512, 4000, "the paper")):
    ax.plot(
        steps + 1, np.asarray(TransformerSchedule(dim, warmup)(steps)), label=f"{who}: d_model {dim}, warm-up {warmup}"
    )
ax.set(xlabel="step", ylabel="learning rate", title=f"TransformerSchedule over the recipe's {total_steps} steps")
ax.legend(loc="upper right")
fig.savefig(FIGURES / "schedule.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 6. English -> Chinese: `transformer_cmn`
#
# The recipe reuses chapter 10's pipeline unchanged: the first 10,000 pairs of the Anki cmn-eng file,
# the same seeded 1,000 test pairs, English words and Chinese characters as tokens, greedy and beam
# search, BLEU and chrF (sacrebleu, its `zh` tokeniser). Only the model and its training differ:
# the blocks above, label smoothing 0.1 and the schedule. At inference `TransformerInference`
# re-runs the decoder over the prefix at every step (no key/value cache: O(T^2) decoder positions,
# fine for short sentences). The run folder holds `metrics.json`, `samples.tsv` (test sentences,
# both decodings) and the heat maps.

# %%
runs = {}
runs["Transformer"] = zoo.fit(
    "transformer_cmn", **chapter.fit_settings("transformer_cmn"), beam_width=BEAM_WIDTH, **TINY
)
run_dir = runs["Transformer"].run_dir
show_image(run_dir / "curves.png")
metrics = json.loads((run_dir / "metrics.json").read_text())
show(pd.Series({k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}, name="metrics.json"))
with open(run_dir / "samples.tsv", encoding="utf-8") as f:
    rows = list(csv.reader(f, delimiter="\t"))
show(pd.DataFrame(rows[1:6], columns=rows[0]))

# %% [markdown]
# **Where each head looks.** The cross-attention weights of every decoder layer and head, one panel
# each (rows: output tokens, the end token last; columns: source tokens). `attention_0.png` in the
# run folder is the first test sentence; `plot_attention` draws the same for any sentence from the
# SavedModel's `attention` endpoint. In a trained model the heads can differ: some follow the
# alignment, others spread over the sentence. Chinese labels need a CJK font (Colab or Debian:
# `apt-get install fonts-noto-cjk`); without one the figure says so.

# %%
show_image(run_dir / "attention_0.png")
saved = str(run_dir / "saved_model")
png = run_dir / "attention_i_love_you.png"
plot_attention(saved, SENTENCES[0], png)
show_image(png)

# %% [markdown]
# ## 7. Against chapter 10's GRU with attention
#
# `seq2seq_attention_cmn` (a bidirectional GRU encoder, a GRU decoder with additive attention and
# input feeding) and `transformer_cmn` train on the same pairs and are scored on the same 1,000 test
# pairs with the same decoding, so their BLEU and chrF compare row for row. The measured comparison
# at the recipes' settings is in RESULTS.md, chapter 12. `COMPARE_GRU=True` (`--compare-gru`) also
# trains the GRU model here too (slow on a CPU: RESULTS.md has its time).

# %%
if COMPARE_GRU:
    runs["GRU + attention (ch10)"] = zoo.fit(
        "seq2seq_attention_cmn", **chapter.fit_settings("seq2seq_attention_cmn"), beam_width=BEAM_WIDTH
    )
beam = f"beam {BEAM_WIDTH}"
comparison = pd.DataFrame(
    {
        name: {
            "parameters": run.model.count_params(),
            "BLEU greedy": run.metrics["greedy_bleu"],
            f"BLEU {beam}": run.metrics["beam_bleu"],
            "chrF greedy": run.metrics["greedy_chrf"],
            f"chrF {beam}": run.metrics["beam_chrf"],
        }
        for name, run in runs.items()
    }
).T
show(comparison.round(2).astype({"parameters": int}))
if not COMPARE_GRU:
    print("COMPARE_GRU=False: the GRU model's scores at the same settings are in RESULTS.md, chapter 12")

# %% [markdown]
# ## 8. The encoder alone: a sentence classifier, `transformer_mr`
#
# Drop the decoder: encoder blocks over the token ids, their outputs averaged over the real tokens
# (masked mean pooling), one sigmoid unit. The data are rt-polarity with the book split, as for
# chapter 7's TextCNN and chapter 9's LSTM; the recipe's encoder is smaller than the translator's:

# %%
mr = {key: getattr(p, "default", p) for key, p in zoo.recipes.get("transformer_mr").hparams.items()}
print({key: mr[key] for key in ("num_layers", "model_dim", "num_heads", "ff_dim", "epochs")})
classifier = zoo.fit("transformer_mr", **chapter.fit_settings("transformer_mr"), **TINY)
print(f"dev accuracy: {classifier.metrics['val_accuracy']:.3f} (TextCNN and LSTM: RESULTS.md)")
show_image(classifier.run_dir / "curves.png")

# %% [markdown]
# ## 9. The SavedModels from another Keras program
#
# Neither needs the zoo: `keras.layers.TFSMLayer` loads a SavedModel endpoint as a layer. The
# translator's `serve` takes English strings and returns Chinese strings (tokenisation and beam search
# in the graph); its `attention` endpoint returns the tokens and the cross-attention weights
# (batch, layers, heads, output tokens + end, source tokens). The classifier's `serve` takes raw
# sentences and returns P(positive).

# %%
translate = keras.layers.TFSMLayer(saved, call_endpoint="serve")
for sentence, output in zip(SENTENCES, translate(tf.constant(SENTENCES)).numpy()):
    print(f"{sentence:<24} -> {output.decode('utf-8')}")

attention = keras.layers.TFSMLayer(saved, call_endpoint="attention")(tf.constant(SENTENCES[:1]))
print({key: tuple(value.shape) for key, value in attention.items()})
source = [t.decode("utf-8") for t in attention["source_tokens"].numpy()[0] if t]
output = [t.decode("utf-8") for t in attention["output_tokens"].numpy()[0] if t]
last_layer = attention["weights"].numpy()[0, -1].mean(axis=0)  # (output, source), heads averaged
print(f"{SENTENCES[0]!r}: the source token each output token reads most (last layer, heads averaged)")
for i, token in enumerate(output[:8]):
    print(f"  {token} <- {source[last_layer[i, : len(source)].argmax()]}")

classify = keras.layers.TFSMLayer(str(classifier.run_dir / "saved_model"), call_endpoint="serve")
reviews = ["a gorgeous, witty and moving film", "a dull, lifeless mess that never finds its footing"]
for review, p in zip(reviews, classify(tf.constant(reviews)).numpy()[:, 0]):
    print(f"P(positive) = {p:.3f}  {review}")
