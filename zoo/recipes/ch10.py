"""Chapter 10 recipes: sequence to sequence with and without attention, English -> Chinese and any Anki pairs.

- `seq2seq_char_cmn`: the book's character-level LSTM encoder-decoder on the first 10,000 Anki
  English-Chinese pairs (keras.io `lstm_seq2seq` settings: LSTM(256), RMSprop, batch 64, 100 epochs).
- `seq2seq_attention_cmn`: word-level English (lower-cased words and punctuation) -> Chinese
  (single characters), BiGRU encoder (2 x 256), GRU decoder (256) attending with one whole
  Transformer head (`attention=multi_head`) over its outputs, `[c; h]` into the softmax, no dropout:
  the size and shape of a plain Keras model of the same idea, whose function it computes exactly
  (RESULTS.md, issue 23). The course's Bahdanau/Luong decoder is `--set attention=additive --set
  input_feeding=true --set combine_activation=linear` (cmn-eng, 10 epochs, three seeds: mean greedy
  BLEU 22.9, the default 23.3, the plain model 24.4); its attentional layer is linear, not Luong's tanh (see
  `zoo.layers.seq2seq_decoder.Seq2SeqDecoder`: under Adam the tanh stalled learning for epochs).
- `seq2seq_attention`: the same model on any Anki pair file (`--set pairs=PATH`, 2 or 3 columns).

Both attention recipes take `--set copy=true --set attention=additive` (coverage, on by default with
copying, enters the additive score; or `--set copy=true --set coverage=false` with any score): a
pointer-generator decoder (chapter 11's `title_pointer`, `zoo.layers.pointer_decoder`) that may
copy source words, so names and numbers outside the target vocabulary are written by their string
instead of `[UNK]`.

What a run writes is described in `zoo.recipes.seq2seq`, which chapter 11's title generation shares.
"""

from __future__ import annotations

from zoo.recipes.base import Param, Recipe, register
from zoo.recipes.seq2seq import (
    ANKI_PARAMS,
    ATTENTION_PARAMS,
    DECODING_PARAMS,
    TRANSLATION_DEFAULTS,
    anki_data,
    attention_model,
    attention_report,
    char_model,
    char_report,
    check_units,
    serve_strings,
)

register(
    Recipe(
        name="seq2seq_char_cmn",
        chapter=10,
        dataset="anki cmn-eng",
        summary="the book's character LSTM(256) encoder-decoder, English -> Chinese; BLEU greedy/beam, strings in and "
        "out",
        hparams={
            **ANKI_PARAMS,
            **DECODING_PARAMS,
            "units": Param(256, "LSTM units (the book: 256)", minimum=1),
            "learning_rate": Param(1e-3, "RMSprop learning rate (Keras' default, as the book)", minimum=0.0),
            "epochs": 100,
            "batch_size": 64,
        },
        data=anki_data("char"),
        model=char_model,
        serving=serve_strings,
        report=char_report,
    )
)
register(
    Recipe(
        name="seq2seq_attention_cmn",
        chapter=10,
        dataset="anki cmn-eng",
        summary="BiGRU encoder, GRU decoder with attention, English words -> Chinese characters",
        hparams={
            **ANKI_PARAMS,
            **ATTENTION_PARAMS,
            **TRANSLATION_DEFAULTS,
            **DECODING_PARAMS,
            "epochs": 30,
            "batch_size": 64,
        },
        data=anki_data("word", check=check_units, limit_vocabulary=True, copyable=True),
        model=attention_model,
        serving=serve_strings,
        report=attention_report,
    )
)
register(
    Recipe(
        name="seq2seq_attention",
        chapter=10,
        dataset="any Anki pair file",
        summary="attention encoder-decoder on --set pairs=PATH (fra-eng, spa-eng, deu-eng ...; 2 or 3 columns)",
        hparams={
            **ANKI_PARAMS,
            **ATTENTION_PARAMS,
            **TRANSLATION_DEFAULTS,
            **DECODING_PARAMS,
            "epochs": 30,
            "batch_size": 64,
        },
        data=anki_data("word", check=check_units, limit_vocabulary=True, require_pairs=True, copyable=True),
        model=attention_model,
        serving=serve_strings,
        report=attention_report,
    )
)
