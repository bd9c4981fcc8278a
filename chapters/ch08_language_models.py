"""Chapter 8: recurrent language models, a character RNN and a word-level LSTM on Penn Treebank.

The literate source of chapters/ch08.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch08_language_models.py --data-dir ../shared/data            # Zaremba's small LSTM, 13 epochs
    python chapters/ch08_language_models.py --data-dir ../shared/data --quick    # 20 batches, 1 epoch
    python chapters/ch08_language_models.py --recipe ptb_lstm_book               # the book's 2x500 LSTM
    python chapters/ch08_language_models.py --corpus my_novel.txt                # the char RNN on any text
"""

# %% [markdown]
# # Chapter 8: recurrent language models
#
# A language model gives every next token a probability. Its quality on held-out text is the
# perplexity, `exp` of the mean cross-entropy per token: the number of equally likely choices the
# model is as unsure as. Two models from the book: a character-level RNN, and a word-level LSTM on
# the Penn Treebank in the configurations of Zaremba et al. (2014): small (2x200, test perplexity
# 114.5), medium (2x650, 82.7), large (2x1500, 78.4), plus the book's own (2x500).
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
    CHAR_HIDDEN=256,  # the char RNN's size (the book's code: 1000; 256 trains much faster on a CPU)
)
QUICK, DATA_DIR, OUT, RECIPE, CORPUS, CHAR_HIDDEN = chapter
print(chapter)

# %%
import keras
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import language_model as lmdata
from zoo.models.language_model import CONFIGS, build_word_lstm_lm
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
# characters, Adam 1e-3, gradient norm clipped at 5. Its perplexity is per character.

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
# a `stateful` LSTM keep one state per row.

# %%
config = CONFIGS[RECIPE.removeprefix("ptb_lstm_")]
model = build_word_lstm_lm(
    vocab_size=10_000,
    units=config.units,
    layers=config.layers,
    dropout=config.dropout,
    batch_size=config.batch_size,
    num_steps=config.num_steps,
)
model.summary()

# %%
word = zoo.fit(RECIPE, **chapter.fit_settings(RECIPE))
show_image(word.run_dir / "curves.png")
print(
    f"{RECIPE}: validation perplexity {word.metrics['val_perplexity']:.1f}, test {word.metrics['test_perplexity']:.1f}"
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
