"""Chapter 8: language models, a character RNN, a word-level LSTM and Bengio's feed-forward model on Penn Treebank.

The literate source of chapters/ch08.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch08_language_models.py --data-dir ../shared/data            # Zaremba's small LSTM, 13 epochs
    python chapters/ch08_language_models.py --data-dir ../shared/data --quick    # 20 batches, 1 epoch
    python chapters/ch08_language_models.py --recipe ptb_lstm_book               # the book's 2x500 LSTM
    python chapters/ch08_language_models.py --corpus my_novel.txt                # the char RNN on any text
    python chapters/ch08_language_models.py --cell gru                           # the word LM with GRU cells
"""

# %% [markdown]
# # Chapter 8: recurrent language models
#
# A language model gives every next token a probability. Its quality on held-out text is the
# perplexity, `exp` of the mean cross-entropy per token: the number of equally likely choices the
# model is as unsure as. Two models from the book: a character-level RNN, and a word-level LSTM on
# the Penn Treebank in the configurations of Zaremba et al. (2014): small (2x200, test perplexity
# 114.5), medium (2x650, 82.7), large (2x1500, 78.4), plus the book's own (2x500). Beside them, the
# model recurrent networks replaced: Bengio et al. (2003)'s feed-forward neural probabilistic
# language model, which reads a fixed window of previous words.
#
# *Book bugs fixed:* the output layers return logits and the loss uses `from_logits=True` (the
# book applies a softmax and then treats the probabilities as logits); the ReLU char RNN gets
# gradient clipping (it explodes without); `fit_generator` is gone in Keras 3; a stateful Keras 3
# RNN needs `keras.Input(batch_shape=...)`, has no `Model.reset_states()` (each RNN layer resets its
# own state) and fails on a partial last batch (the training stream is trimmed to whole batches).

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (20 batches x 1 epoch; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    steps=20,
    RECIPE="ptb_lstm_small",  # ptb_lstm_small, ptb_lstm_medium, ptb_lstm_large or ptb_lstm_book
    CORPUS="",  # the char RNN's text: a file, folder or .tar.gz/.zip; "" = PTB read as characters
    CHAR_HIDDEN=256,  # the char RNN's size (the book prints 500, its code 1000; 256 trains much faster on a CPU)
    CELL="lstm",  # the word LM's recurrent cell: lstm (the book), gru, simple_rnn or peephole
    choices={"CELL": ["lstm", "gru", "simple_rnn", "peephole"]},
)
QUICK, DATA_DIR, OUT, RECIPE, CORPUS, CHAR_HIDDEN, CELL = chapter
print(chapter)

# %%
import keras
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import language_model as lmdata
from zoo.models.language_model import CONFIGS, build_nnlm, build_word_lstm_lm
from zoo.notebooks import show, show_image

# %% [markdown]
# ## 1. One long stream, cut into parallel rows and windows
#
# PTB becomes one stream of word ids (`<eos>` at every line end, the files' 10,000-word vocabulary
# with `<unk>`). For truncated back-propagation through time the stream is cut into `batch_size`
# rows, and each row into windows of `num_steps` tokens: row `r` of batch `k + 1` continues row `r`
# of batch `k`, so an LSTM that keeps its state from one batch to the next (`stateful`) reads every
# row from start to end. The target of every token is the next one. Here on the ids 0..26, 3 rows,
# windows of 4:

# %%
inputs, targets = lmdata.train_windows(np.arange(27), batch_size=3, num_steps=4)
show(
    pd.DataFrame(
        [
            {"batch": i // 3, "row": i % 3, "inputs": x.tolist(), "targets": y.tolist()}
            for i, (x, y) in enumerate(zip(inputs, targets))
        ]
    ).set_index(["batch", "row"])
)

# %% [markdown]
# Evaluation must count every token once: instead of trimming, the validation and test streams are
# padded to whole batches and each target carries a weight (0 for padding), which
# `keras_hub.metrics.Perplexity` honours, so `val_perplexity` and `test_perplexity` are exact.

# %% [markdown]
# ## 2. The book's character RNN
#
# One-hot characters -> Dense(hidden) -> SimpleRNN(ReLU) -> Dense(vocabulary) logits, windows of 25
# characters. Its perplexity is per character.
#
# *Where the zoo departs from the book:* the book prints hidden 500 and Adam with a learning rate of
# 1e-1; its author's code uses hidden 1000 and 1e-3. The zoo takes the code's 1e-3 (and clips the
# gradient norm at 5): at the printed 1e-1 the ReLU recurrence diverges, with hidden 500 the loss
# was NaN within the first 300 batches of PTB's characters, where 1e-3 reached a validation
# perplexity of 6.0 (RESULTS.md).

# %%
char = zoo.fit("char_rnn", **chapter.fit_settings("char_rnn"), corpus=CORPUS, hidden=CHAR_HIDDEN)
print(
    f"char RNN: validation perplexity {char.metrics['val_perplexity']:.2f}, "
    f"test {char.metrics['test_perplexity']:.2f} (per character, {char.metrics['vocabulary_size']} symbols)"
)
show_image(char.run_dir / "curves.png")

# %% [markdown]
# ## 3. The word-level LSTM
#
# Embedding -> LSTM x 2 -> Dropout -> Dense(10,000) logits, the state carried across the batches of
# an epoch and reset at every epoch start and before every evaluation. Zaremba's small model: plain
# SGD with learning rate 1 for 4 epochs, then halved every epoch; gradients clipped at norm 5.
#
# `build_word_lstm_lm` from `zoo.models.language_model` is the builder the recipes call; here with
# the sizes of `RECIPE` (`CONFIGS`) and PTB's 10,000 words. The fixed batch size is what lets
# a `stateful` LSTM keep one state per row. `CELL` swaps the LSTM for a GRU, a plain tanh RNN
# (`simple_rnn`) or chapter 9's peephole LSTM, the rest unchanged (`--set cell=...` on any word LM
# recipe; RESULTS.md compares them).

# %%
config = CONFIGS[RECIPE.removeprefix("ptb_lstm_")]
model = build_word_lstm_lm(
    vocab_size=10_000,
    units=config.units,
    layers=config.layers,
    dropout=config.dropout,
    batch_size=config.batch_size,
    num_steps=config.num_steps,
    cell=CELL,
)
model.summary()

# %%
word = zoo.fit(RECIPE, **chapter.fit_settings(f"{RECIPE}_{CELL}"), cell=CELL)
show_image(word.run_dir / "curves.png")
print(
    f"{RECIPE} ({CELL}): validation perplexity {word.metrics['val_perplexity']:.1f}, "
    f"test {word.metrics['test_perplexity']:.1f}"
    f" (Zaremba et al.: small 120.7 / 114.5, medium 86.2 / 82.7, large 82.2 / 78.4)"
)

# %% [markdown]
# ## 4. Samples
#
# `samples.txt` continues fixed prompts with `keras_hub.samplers`: greedy, three temperatures (0.7
# is repetitive, 1.3 inventive and ungrammatical), top-k and top-p. The sampler's loop runs one LSTM
# step per token, the LSTM states being the sampler's cache.

# %%
print((word.run_dir / "samples.txt").read_text(encoding="utf-8"))

# %% [markdown]
# ## 5. The SavedModel: scoring and generating raw strings, without the zoo
#
# `serve` takes sentences and returns each one's total log-probability, its token count (words +
# the closing `<eos>`) and its perplexity; a sentence should score better than its words shuffled.
# `generate` continues a batch of prompts (its sampler, temperature, length and seed were fixed at
# export).

# %%
sentences = ["the company said it expects higher sales next year", "year next sales higher expects it said company the"]
serve = keras.layers.TFSMLayer(str(word.run_dir / "saved_model"), call_endpoint="serve")
scores = serve(tf.constant(sentences))
for sentence, log_prob, tokens, ppl in zip(
    sentences, scores["log_prob"].numpy(), scores["tokens"].numpy(), scores["perplexity"].numpy()
):
    print(f"log p = {log_prob:8.2f} over {tokens} tokens, perplexity {ppl:8.1f}: {sentence!r}")

generate = keras.layers.TFSMLayer(str(word.run_dir / "saved_model"), call_endpoint="generate")
prompts = ["the company said", "in the first quarter"]
for prompt, text in zip(prompts, generate(tf.constant(prompts)).numpy()):
    print(f"{prompt} | {text.decode()}")

# %% [markdown]
# ## 6. Before recurrent networks: Bengio's neural probabilistic language model
#
# Bengio et al. (2003) predict a word from the `n - 1` words before it, as an n-gram model does,
# but through learned word features: every word `w` has a vector `C(w)` (one table shared by all
# positions), the window's vectors are concatenated into `x`, and
#
#     logits = b + W x + U tanh(d + H x)          (W x: optional direct connections)
#
# followed by a softmax over the vocabulary. Similar words get similar features, so a 5-gram never
# seen in training still gets a sensible probability: the generalisation counts cannot give.
#
# Applied at every position of a text, `H x` is a one-dimensional convolution of width `n - 1`
# over the embedded words (its kernel is `H` cut into one slice per position of the window), so
# `build_nnlm` is `Embedding -> Conv1D(tanh) -> Dense`, with the window's missing words before the
# first token filled by `<eos>` (`ContextPad`). It maps a window of ids to logits at every position
# like the LSTM, so the same perplexity metric, SavedModel and samplers serve it; but nothing
# outside its window reaches a prediction. Training rows carry the `window - 1` words before their
# targets, so every token of validation and test is predicted once from a full window.

# %%
nnlm_model = build_nnlm(vocab_size=10_000, window=4, embedding_dim=100, hidden=200)
nnlm_model.summary()

# %%
nnlm = zoo.fit("nnlm_ptb", **chapter.fit_settings("nnlm_ptb"))
show_image(nnlm.run_dir / "curves.png")
show(
    pd.DataFrame(
        [
            {
                "model": "nnlm_ptb (5-gram window)",
                **{k: nnlm.metrics[k] for k in ("val_perplexity", "test_perplexity")},
            },
            {"model": f"{RECIPE} ({CELL})", **{k: word.metrics[k] for k in ("val_perplexity", "test_perplexity")}},
        ]
    ).round(1)
)
print(
    "references: a feed-forward NNLM about 140 test perplexity on PTB (Mikolov's thesis; Kneser-Ney 5-gram 141), "
    "Zaremba's small LSTM 114.5"
)

# %% [markdown]
# The same two endpoints as the LSTM's: the sentence and its shuffle scored, and continuations
# sampled one word at a time (the sampler's cache is the window of the last four words).

# %%
scores = keras.layers.TFSMLayer(str(nnlm.run_dir / "saved_model"), call_endpoint="serve")(tf.constant(sentences))
for sentence, ppl in zip(sentences, scores["perplexity"].numpy()):
    print(f"perplexity {ppl:8.1f}: {sentence!r}")
generate = keras.layers.TFSMLayer(str(nnlm.run_dir / "saved_model"), call_endpoint="generate")
for prompt, text in zip(prompts, generate(tf.constant(prompts)).numpy()):
    print(f"{prompt} | {text.decode()}")
