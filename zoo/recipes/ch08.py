"""Chapter 8 recipes: the book's character RNN and word-level LSTM language models on Penn Treebank.

`ptb_lstm_small/medium/large` are Zaremba et al. (2014)'s three configurations (the paper's text
where TensorFlow's old `ptb_word_lm.py` differs), `ptb_lstm_book` the book's own (hidden 500,
30 steps, batch 20, Adam, clipping added). State is carried across the batches of an epoch
(`stateful=true`, reset at every epoch start and before every evaluation); `--set stateful=false`
trains on independent, shuffled windows. Every run reports validation and test perplexity over every
token exactly once, writes `samples.txt` (greedy, temperature, top-k and top-p continuations of
fixed prompts through `keras_hub.samplers`), and exports a SavedModel with `serve` (sentence ->
log-probability, token count, perplexity) and `generate` (prompts -> continuations).

`--set cell=gru|simple_rnn|peephole` swaps the word LMs' LSTM for another recurrent cell (same
sizes, initialisation and schedule). `nnlm_ptb` is Bengio et al. (2003)'s feed-forward model on the
same streams, scored and served the same way (its generation cache is the last `window` words).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from zoo.callbacks import ResetStates
from zoo.data import language_model as lmdata
from zoo.data.pipelines import Data
from zoo.errors import UserError
from zoo.models import language_model as lm
from zoo.models.rnn import CELLS
from zoo.recipes.base import HParams, Param, Recipe, RunContext, register
from zoo.serving.language_model import LanguageModelServing, make_sampler

WORD_PROMPTS = ("the company said", "in the first quarter", "mr. <unk> is", "the market")
CHAR_PROMPTS = ("the company said", " in the first", " mr. ")
SAMPLERS = (  # (label, sampler name, temperature, k, p)
    ("greedy", "greedy", 1.0, 0, 0.0),
    ("temperature 0.7", "random", 0.7, 0, 0.0),
    ("temperature 1.0", "random", 1.0, 0, 0.0),
    ("temperature 1.3", "random", 1.3, 0, 0.0),
    ("top-k 10", "top_k", 1.0, 10, 0.0),
    ("top-p 0.9", "top_p", 1.0, 0, 0.9),
)

_COMMON = {
    "stateful": Param(
        True,
        "carry the state across batches (reset each epoch and before evaluation); "
        "false trains on independent shuffled windows",
    ),
    "sampler": Param(
        "top_p", "the exported generate endpoint's sampler", choices=("greedy", "random", "top_k", "top_p")
    ),
    "temperature": Param(1.0, "the exported sampler's temperature"),
    "top_k": Param(10, "k of the top_k sampler"),
    "top_p": Param(0.9, "p of the top_p sampler"),
    "generate_length": Param(20, "tokens the generate endpoint adds to each prompt"),
    "jit_compile": Param(False, "XLA-compile the train step"),
}


def _word_params(config: lm.LanguageModelConfig, note: str) -> dict:
    return {
        **_COMMON,
        "epochs": config.epochs,
        "batch_size": Param(config.batch_size, "parallel streams per batch (global)"),
        "num_steps": Param(config.num_steps, "tokens per window (truncated BPTT)", minimum=1),
        "units": Param(config.units, f"embedding and LSTM size ({note})"),
        "layers": Param(config.layers, "stacked LSTM layers"),
        "dropout": Param(config.dropout, "dropout on the non-recurrent connections"),
        "init_scale": Param(config.init_scale, "weights start in U(-init_scale, init_scale)"),
        "optimizer": Param(config.optimizer, "sgd (Zaremba) or adam (the book)", choices=("sgd", "adam")),
        "learning_rate": Param(config.learning_rate, "initial rate (SGD: per window-summed loss, as Zaremba)"),
        "decay": Param(config.decay, "factor applied to the rate once per epoch after decay_after"),
        "decay_after": Param(config.decay_after, "epochs at the initial rate"),
        "clipnorm": Param(
            config.clipnorm,
            "global gradient-norm clip (on the window-summed loss for SGD)",
            minimum=0.0,
            exclusive_minimum=True,
        ),
        "unroll": Param(False, "unroll the LSTM time loop (faster on CPU for short windows)"),
        "cell": Param(
            "lstm", "recurrent cell: lstm (the book, Zaremba), gru, simple_rnn (tanh) or peephole", choices=CELLS
        ),
    }


def _config(hp: HParams) -> lm.LanguageModelConfig:
    return lm.LanguageModelConfig(
        units=hp.units,
        num_steps=hp.num_steps,
        batch_size=hp.batch_size,
        dropout=hp.dropout,
        epochs=hp.epochs,
        learning_rate=hp.learning_rate,
        decay=hp.decay,
        decay_after=hp.decay_after,
        clipnorm=hp.clipnorm,
        init_scale=hp.init_scale,
        optimizer=hp.optimizer,
        layers=hp.layers,
    )


def _check_strategy(hp: HParams, ctx: RunContext) -> None:
    replicas = ctx.strategy.num_replicas_in_sync if ctx.strategy is not None else 1
    if hp.stateful and replicas > 1:
        raise UserError(
            f"stateful training cannot run on {replicas} replicas (each would carry only its slice of "
            f"the streams' state, with batch_shape fixed for one device); set it to false or train on "
            f"one device (strategy one)",
            param="stateful",
        )


def _check_top_k(hp: HParams, info: lmdata.LanguageModelInfo) -> None:
    if hp.top_k > info.vocab_size:  # known now, not after training in the export's sampler
        unit = "characters" if info.level == "char" else "words"
        raise UserError(
            f"{info.source or 'the corpus'} has {info.vocab_size} distinct {unit} (with the unknown token), "
            f"fewer than top_k; lower top_k or use a larger corpus",
            param="top_k",
            value=hp.top_k,
        )


def _finish(hp: HParams, ctx: RunContext, streams: lmdata.Streams) -> Data[lmdata.LanguageModelInfo]:
    _check_strategy(hp, ctx)
    ds, info = lmdata.datasets(
        streams, hp.batch_size, hp.num_steps, shuffle=not hp.stateful, seed=hp.seed, max_steps=ctx.max_steps
    )
    _check_top_k(hp, info)
    return Data(train=ds["train"], validation=ds["validation"], test=ds["test"], info=info)


def _nnlm_data(hp: HParams, ctx: RunContext) -> Data[lmdata.LanguageModelInfo]:
    if not hp.hidden and not hp.direct:
        raise UserError(
            "no tanh layer and no direct connections leave nothing between the words and the output; "
            "set hidden >= 1 or direct=true",
            param="hidden",
            value=hp.hidden,
        )
    streams = lmdata.ptb_word_streams(ctx.data_dir)
    ds, info = lmdata.context_datasets(
        streams, hp.batch_size, hp.num_steps, hp.window - 1, seed=hp.seed, max_steps=ctx.max_steps
    )
    _check_top_k(hp, info)
    return Data(train=ds["train"], validation=ds["validation"], test=ds["test"], info=info)


def _word_data(hp: HParams, ctx: RunContext) -> Data[lmdata.LanguageModelInfo]:
    return _finish(hp, ctx, lmdata.ptb_word_streams(ctx.data_dir))


def _char_data(hp: HParams, ctx: RunContext) -> Data[lmdata.LanguageModelInfo]:
    if hp.corpus:
        text = lmdata.char_text(hp.corpus, hp.corpus_pattern or "*.txt")
        streams = lmdata.char_streams(text, source=hp.corpus)
    else:
        from zoo.data import ptb

        files = ptb.paths(ctx.data_dir)
        text = {split: lmdata.char_text(path) for split, path in files.items()}
        streams = lmdata.char_streams(
            text["train"], validation_text=text["validation"], test_text=text["test"], source="ptb"
        )
    return _finish(hp, ctx, streams)


def _word_model(hp: HParams, data: Data[lmdata.LanguageModelInfo]) -> keras.Model:
    info = data.info
    model = lm.build_word_lstm_lm(
        vocab_size=info.vocab_size,
        units=hp.units,
        layers=hp.layers,
        dropout=hp.dropout,
        init_scale=hp.init_scale,
        batch_size=hp.batch_size,
        num_steps=hp.num_steps,
        stateful=hp.stateful,
        unroll=hp.unroll,
        cell=hp.cell,
    )
    optimizer = lm.zaremba_optimizer(_config(hp), steps_per_epoch=info.steps["train"])
    return lm.compile_language_model(model, optimizer, jit_compile=hp.jit_compile)


def _char_model(hp: HParams, data: Data[lmdata.LanguageModelInfo]) -> keras.Model:
    info = data.info
    model = lm.build_char_rnn(
        vocab_size=info.vocab_size,
        hidden=hp.hidden,
        batch_size=hp.batch_size,
        num_steps=hp.num_steps,
        stateful=hp.stateful,
    )
    optimizer = keras.optimizers.Adam(hp.learning_rate, global_clipnorm=hp.clipnorm)
    return lm.compile_language_model(model, optimizer, jit_compile=hp.jit_compile)


def _nnlm_model(hp: HParams, data: Data[lmdata.LanguageModelInfo]) -> keras.Model:
    info = data.info
    model = lm.build_nnlm(
        vocab_size=info.vocab_size,
        window=hp.window,
        embedding_dim=hp.embedding_dim,
        hidden=hp.hidden,
        direct=hp.direct,
        dropout=hp.dropout,
        pad_id=info.vocabulary.index(info.boundary),
    )
    optimizer = keras.optimizers.Adam(hp.learning_rate, global_clipnorm=hp.clipnorm)
    return lm.compile_language_model(model, optimizer, jit_compile=hp.jit_compile)


def _callbacks(hp: HParams, data: Data[lmdata.LanguageModelInfo]) -> list:
    return [ResetStates()] if hp.stateful else []


def _serving(hp: HParams, data: Data[lmdata.LanguageModelInfo], model: keras.Model) -> keras.Model:
    info = data.info
    return LanguageModelServing(
        model,
        vocabulary=info.vocabulary,
        level=info.level,
        boundary=info.boundary,
        normalize="ptb" if info.level == "word" else "none",
        sampler=hp.sampler,
        temperature=hp.temperature,
        k=hp.top_k,
        p=hp.top_p,
        seed=hp.seed,
        length=hp.generate_length,
    )


def _report(hp: HParams, data: Data[lmdata.LanguageModelInfo], model: keras.Model, ctx: RunContext) -> dict:
    info = data.info
    lm.reset_rnn_states(model)
    valid = model.evaluate(data.validation, return_dict=True, verbose=0)
    lm.reset_rnn_states(model)
    metrics = {
        "val_perplexity": float(valid["perplexity"]),
        "vocabulary_size": info.vocab_size,
        "train_tokens_per_epoch": info.tokens["train"],
        "validation_tokens": info.tokens["validation"],
        "test_tokens": info.tokens["test"],
    }
    if ctx.is_chief:
        serving = _serving(hp, data, model)
        prompts = WORD_PROMPTS if info.level == "word" else CHAR_PROMPTS
        length = hp.generate_length
        lines = [
            f"# {info.level}-level samples, {length} tokens after each prompt (keras_hub.samplers, seed {hp.seed})",
            "",
        ]
        samplers = [
            make_sampler(name, temperature=temperature, k=min(k or 10, info.vocab_size), p=p or 0.9, seed=hp.seed)
            for _, name, temperature, k, p in SAMPLERS
        ]
        # One graph with every sampler's loop (one trace rather than one per sampler).
        every = tf.function(lambda x: [serving.generate_with(x, sampler, length) for sampler in samplers])
        for (label, *_), texts in zip(SAMPLERS, every(tf.constant(prompts))):
            lines.append(f"## {label}")
            for prompt, text in zip(prompts, texts.numpy()):
                lines.append(f"{prompt!r} -> {text.decode('utf-8')!r}")
            lines.append("")
        (Path(ctx.run_dir) / "samples.txt").write_text("\n".join(lines), encoding="utf-8")
    return metrics


# The monitor is val_loss: Keras cannot tell whether "perplexity" should rise or fall, and with the
# evaluation weights of `lmdata.eval_windows` val_loss is the mean NLL over the real validation
# tokens, log(val_perplexity), so it ranks epochs exactly as val_perplexity does.


def _word_recipe(name: str, config_name: str, summary: str, note: str) -> Recipe:
    return register(
        Recipe(
            name=name,
            chapter=8,
            dataset="ptb",
            summary=summary,
            hparams=_word_params(lm.CONFIGS[config_name], note),
            data=_word_data,
            model=_word_model,
            serving=_serving,
            report=_report,
            callbacks=_callbacks,
            monitor="val_loss",
        )
    )


_word_recipe(
    "ptb_lstm_small",
    "small",
    "Zaremba et al.'s small 2x200 LSTM LM on PTB (13 epochs, no dropout; test ppl 114.5)",
    "Zaremba small: 200",
)
_word_recipe(
    "ptb_lstm_medium",
    "medium",
    "Zaremba et al.'s medium 2x650 LSTM LM on PTB, dropout 0.5 (39 epochs; test ppl 82.7)",
    "Zaremba medium: 650",
)
_word_recipe(
    "ptb_lstm_large",
    "large",
    "Zaremba et al.'s large 2x1500 LSTM LM on PTB, dropout 0.65 (55 epochs; test ppl 78.4)",
    "Zaremba large: 1500",
)
_word_recipe(
    "ptb_lstm_book",
    "book",
    "the book's word LSTM LM on PTB: 2x500, 30 steps, dropout 0.5, Adam (clipping added)",
    "the book: 500",
)

register(
    Recipe(
        name="char_rnn",
        chapter=8,
        dataset="any text",
        summary="the book's char RNN (ReLU SimpleRNN, logits, clipped) on --set corpus=PATH; default PTB as characters",
        hparams={
            **_COMMON,
            "corpus": Param(
                "", "a text file, folder or archive (chapter 6 reader); empty = PTB's files as characters", type=str
            ),
            "corpus_pattern": Param("", "member files of a folder/archive to read (fnmatch; empty = *.txt)", type=str),
            "hidden": Param(
                1000, "units of the input projection and the ReLU recurrence (the book prints 500; its code: 1000)"
            ),
            "num_steps": Param(25, "characters per window (the book: 25)", minimum=1),
            "learning_rate": Param(
                1e-3,
                "Adam learning rate (the book prints 1e-1, its code 1e-3; the zoo keeps 1e-3: see RESULTS.md)",
            ),
            "clipnorm": Param(
                5.0,
                "global gradient-norm clip (the book has none; a ReLU RNN needs it)",
                minimum=0.0,
                exclusive_minimum=True,
            ),
            "generate_length": Param(100, "characters the generate endpoint (and samples.txt) adds to each prompt"),
            "epochs": 3,
            "batch_size": Param(32, "parallel streams per batch (global)"),
        },
        data=_char_data,
        model=_char_model,
        serving=_serving,
        report=_report,
        callbacks=_callbacks,
        monitor="val_loss",
    )
)

_NNLM_COMMON = {k: v for k, v in _COMMON.items() if k != "stateful"}  # no state: nothing to carry
register(
    Recipe(
        name="nnlm_ptb",
        chapter=8,
        dataset="ptb",
        summary="Bengio et al.'s feed-forward neural LM (5-gram window, shared embedding, tanh layer) on PTB",
        hparams={
            **_NNLM_COMMON,
            "window": Param(4, "words of context, n - 1 of the n-gram (Bengio: n = 5)", minimum=1, maximum=64),
            "embedding_dim": Param(
                100, "features per word, C(w), shared by every position (Bengio: 30-100)", minimum=1
            ),
            "hidden": Param(
                200,
                "units of the tanh layer (the output layer's hidden x vocabulary dominates the cost; 0 = none, "
                "with direct=true: the direct connections alone, a log-linear model)",
                minimum=0,
            ),
            "direct": Param(False, "add Bengio's direct connections from the features to the output"),
            "dropout": Param(0.2, "dropout on the features and the tanh layer (not in the paper)"),
            "num_steps": Param(64, "targets per training row (each row also reads window - 1 words before)", minimum=1),
            "learning_rate": Param(1e-3, "Adam learning rate", minimum=0.0, exclusive_minimum=True),
            "clipnorm": Param(5.0, "global gradient-norm clip", minimum=0.0, exclusive_minimum=True),
            "epochs": 10,
            "batch_size": Param(32, "rows per batch (global): batch_size x num_steps targets", minimum=1),
            "patience": Param(2, "early stopping patience on val_loss (best epoch restored); 0 = off", minimum=0),
        },
        data=_nnlm_data,
        model=_nnlm_model,
        serving=_serving,
        report=_report,
        monitor="val_loss",
    )
)
