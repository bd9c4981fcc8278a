"""Chapter 10: the zoo's attention translator against a plain Keras model of the same size (issue 23),
and chapter 12's Transformer against both (issue 24).

Both train with plain `model.fit` on the recipe's own pipeline (`zoo.data.translation`: the same
seeded split, vocabularies and batches), and both are scored the same way: greedy decoding of the
test sources, lower-cased sacrebleu BLEU against every reference the pair file has for a source.
`curves` records the per-epoch training accuracy, validation loss, BLEU and seconds per step of
each model; the variants ablate one difference at a time.

    python benchmarks/seq2seq_plain.py curves --pairs ../shared/data/anki/deu-eng.zip --num-samples 20000 \
        --max-source-words 8 --epochs 10 --out /work/bench/plain_deu --only plain zoo
    python benchmarks/seq2seq_plain.py curves --pairs ../shared/data/anki/cmn-eng.zip --num-samples 10000 \
        --epochs 10 --out /work/bench/plain_cmn
    python benchmarks/seq2seq_plain.py speed --pairs ../shared/data/anki/deu-eng.zip --max-source-words 8 \
        --only plain zoo                                                       # training steps/s
    python benchmarks/seq2seq_plain.py saturation --pairs ../shared/data/anki/deu-eng.zip --max-source-words 8 \
        --only plain_combine zoo_tanh zoo                                      # Luong's tanh layer saturating
    python benchmarks/seq2seq_plain.py curves --pairs ../shared/data/anki/cmn-eng.zip --num-samples 10000 \
        --epochs 30 --bleu-every 5 --out /work/bench/transformer_cmn --only zoo_enc256_no_dropout transformer
    python benchmarks/seq2seq_plain.py curves --quick --out /tmp/plain_quick     # smoke test

Every finished variant is appended to `OUT/curves.jsonl` and skipped when the command is repeated.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.data import translation
from zoo.layers.attention import EncoderDecoderAttention
from zoo.metrics import bleu
from zoo.models import seq2seq, transformer
from zoo.serving.translator import Translator


def plain_model(
    *,
    source_vocab_size: int,
    target_vocab_size: int,
    embedding_dim: int = 128,
    units: int = 256,
    encoder_units: int = 256,
    attention: str = "mha",
    combine: str = "",
):
    """The issue's plain Keras model: BiGRU(units per direction) encoder, GRU(units) decoder started from a
    tanh Dense of both final encoder states, one-head dot attention (`MultiHeadAttention`, key_dim =
    units) over the encoder outputs *after* the decoder, context concatenated before the softmax Dense.

    The other arguments move it one step toward the zoo's model: `encoder_units` per direction,
    `attention="additive"` (the zoo's `EncoderDecoderAttention`), `combine` (Luong's attentional
    layer tanh(W_c [c; h]) before the softmax Dense)."""
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    x = keras.layers.Embedding(source_vocab_size, embedding_dim, mask_zero=True, name="source_embedding")(source)
    outputs, forward, backward = keras.layers.Bidirectional(
        keras.layers.GRU(encoder_units, return_sequences=True, return_state=True)
    )(x)
    state = keras.layers.Dense(units, activation="tanh")(keras.layers.Concatenate()([forward, backward]))
    y = keras.layers.Embedding(target_vocab_size, embedding_dim, mask_zero=True, name="target_embedding")(target_in)
    decoded = keras.layers.GRU(units, return_sequences=True)(y, initial_state=state)
    if attention == "mha":
        context = keras.layers.MultiHeadAttention(num_heads=1, key_dim=units)(decoded, outputs)
    else:
        context, _ = EncoderDecoderAttention(score=attention)(decoded, outputs, value_mask=source != 0)
    features = keras.layers.Concatenate()([decoded, context])
    if combine:  # "tanh" (Luong: no bias), "tanh_bias", "linear"
        activation = None if combine == "linear" else "tanh"
        features = keras.layers.Dense(units, activation=activation, use_bias=combine == "tanh_bias")(features)
    logits = keras.layers.Dense(target_vocab_size)(features)
    return keras.Model({"source": source, "target_in": target_in}, logits, name="plain")


def copy_plain_weights(plain: keras.Model, model: keras.Model) -> None:
    """Give `model` (`build_attention_seq2seq` with the translation recipes' decoder: `multi_head`, no input
    feeding, `combine_activation="none"`, the same sizes) the weights of `plain` (`plain_model()`), so that
    both compute the same function (`tests/test_seq2seq.py` checks it)."""
    layers = {type(layer).__name__: layer for layer in plain.layers}  # one of each, but the embeddings and Dense
    for name in ("source_embedding", "target_embedding"):
        model.get_layer(name).set_weights(plain.get_layer(name).get_weights())
    model.get_layer("encoder").set_weights(layers["Bidirectional"].get_weights())
    decoder = model.get_layer("decoder")
    decoder.cell.set_weights(layers["GRU"].get_weights())
    bridge, output = (layer for layer in plain.layers if isinstance(layer, keras.layers.Dense))
    decoder.bridges[0].set_weights(bridge.get_weights())
    head = {"/".join(w.path.split("/")[-2:]): w.numpy() for w in layers["MultiHeadAttention"].weights}
    attention = decoder.attention
    for name, dense in (
        ("query", attention.query_dense),
        ("key", attention.key_dense),
        ("value", attention.value_dense),
    ):
        dense.set_weights([head[f"{name}/kernel"][:, 0], head[f"{name}/bias"][0]])
    attention.output_dense.set_weights([head["attention_output/kernel"][0], head["attention_output/bias"]])
    kernel, bias = output.get_weights()  # the plain model concatenates [h; c], the decoder [c; h]
    units = decoder.units
    decoder.output_dense.set_weights([np.concatenate([kernel[units:], kernel[:units]]), bias])


PLAIN = {  # name -> plain_model overrides
    "plain": {},
    "plain_combine": {"combine": "tanh"},
    "plain_combine_bias": {"combine": "tanh_bias"},
    "plain_combine_linear": {"combine": "linear"},
    "plain_narrow": {"encoder_units": 128},
    "plain_additive": {"attention": "additive"},
    "plain_projected": {
        "attention": "projected_dot"
    },  # MultiHeadAttention's score without its value/output projections
}
VARIANTS = {  # name -> build_attention_seq2seq overrides
    "zoo": {},  # the recipe's defaults
    "zoo_no_dropout": {"dropout": 0.0},
    "zoo_no_feeding": {"input_feeding": False},
    "zoo_dot": {"attention": "scaled_dot"},
    "zoo_wide": {"units": 512},  # encoder 256 per direction, as the plain model (decoder 512)
    "zoo_tanh": {"combine_activation": "tanh", "dropout": 0.0},  # Luong's attentional layer
    "zoo_plainlike": {"dropout": 0.0, "input_feeding": False, "attention": "scaled_dot", "units": 512},
    "zoo_enc256": {"encoder_units": 256},  # the plain model's encoder
    "zoo_enc256_no_dropout": {"encoder_units": 256, "dropout": 0.0},
    "zoo_enc256_no_dropout_no_feeding": {"encoder_units": 256, "dropout": 0.0, "input_feeding": False},
    "zoo_enc256_no_dropout_units512": {"encoder_units": 256, "dropout": 0.0, "units": 512},
    # issue 23, the cmn-eng gap: the recipe's decoder moved toward the plain model one piece at a time
    "zoo_combine_none": {"encoder_units": 256, "dropout": 0.0, "combine_activation": "none"},
    "zoo_combine_none_no_feeding": {
        "encoder_units": 256,
        "dropout": 0.0,
        "combine_activation": "none",
        "input_feeding": False,
    },  # the plain model's structure with the additive score
    "zoo_combine_none_no_feeding_general": {
        "encoder_units": 256,
        "dropout": 0.0,
        "combine_activation": "none",
        "input_feeding": False,
        "attention": "general",
    },  # the plain model's structure with Luong's general score (the plain model: a projected dot product)
    "zoo_combine_none_no_feeding_projected": {
        "encoder_units": 256,
        "dropout": 0.0,
        "combine_activation": "none",
        "input_feeding": False,
        "attention": "projected_dot",
    },  # the plain model's structure and score (without MultiHeadAttention's value and output projections)
    "zoo_projected": {
        "encoder_units": 256,
        "dropout": 0.0,
        "attention": "projected_dot",
    },  # the recipe, the plain score
    "zoo_multi_head": {
        "encoder_units": 256,
        "dropout": 0.0,
        "attention": "multi_head",
    },  # the recipe, the plain attention
    "zoo_combine_none_no_feeding_multi_head": {
        "encoder_units": 256,
        "dropout": 0.0,
        "combine_activation": "none",
        "input_feeding": False,
        "attention": "multi_head",
    },  # the plain model's structure and attention (its output projection back to 512 values)
}


def bahdanau_init(model: keras.Model, seed: int) -> None:
    """Bahdanau et al. 2015 (appendix B.1): W_a, U_a ~ N(0, 0.001^2) and v_a = 0, so that every source
    word gets the same weight at the start."""
    attention = model.get_layer("decoder").attention
    rng = np.random.default_rng(seed)
    for dense in (attention.query_dense, attention.key_dense):
        dense.kernel.assign(rng.normal(0.0, 0.001, dense.kernel.shape).astype("float32"))
    attention.attention.scale.assign(np.zeros(attention.attention.scale.shape, "float32"))


INITS = {  # variant -> (the variant it re-initialises, how); issue 23: the additive attention's starting point
    "zoo_bahdanau_init": ("zoo_enc256_no_dropout", bahdanau_init),
    "zoo_combine_none_no_feeding_bahdanau_init": ("zoo_combine_none_no_feeding", bahdanau_init),
}
VARIANTS.update({name: VARIANTS[base] for name, (base, _) in INITS.items()})
# the recipe's decoder now, started from the plain model's own initial weights (drawn with the same seed)
VARIANTS["zoo_plain_start"] = VARIANTS["zoo_combine_none_no_feeding_multi_head"]

TRANSFORMERS = {  # name -> (build_transformer_seq2seq overrides, compile_transformer overrides); issue 24
    "transformer": ({"model_dim": 128, "ff_dim": 512}, {"warmup_steps": 1000}),  # the transformer recipes' defaults
    "transformer_d256": ({}, {"warmup_steps": 1000}),  # the builder's defaults: d_model 256, feed-forward 1024
    "transformer_d256_dropout0.3": ({"dropout": 0.3}, {"warmup_steps": 1000}),
    "transformer_dropout0.3": ({"model_dim": 128, "ff_dim": 512, "dropout": 0.3}, {"warmup_steps": 1000}),
    "transformer_warmup300": ({"model_dim": 128, "ff_dim": 512}, {"warmup_steps": 300}),
    "transformer_warmup4000": ({"model_dim": 128, "ff_dim": 512}, {"warmup_steps": 4000}),  # the paper's warm-up
    "transformer_1layer": ({"num_layers": 1, "model_dim": 128, "ff_dim": 512}, {"warmup_steps": 1000}),
    # issue 24, the deu-eng gap at 10 epochs: one change to the recipe's defaults at a time
    "transformer_dropout0": ({"model_dim": 128, "ff_dim": 512, "dropout": 0.0}, {"warmup_steps": 1000}),
    "transformer_no_smoothing": ({"model_dim": 128, "ff_dim": 512}, {"warmup_steps": 1000, "label_smoothing": 0.0}),
    "transformer_lr1e-3": ({"model_dim": 128, "ff_dim": 512}, {"learning_rate": 1e-3}),
    "transformer_lr5e-4": ({"model_dim": 128, "ff_dim": 512}, {"learning_rate": 5e-4}),
    "transformer_3layers": ({"num_layers": 3, "model_dim": 128, "ff_dim": 512}, {"warmup_steps": 1000}),
    "transformer_base": ({"num_layers": 6, "model_dim": 512, "num_heads": 8, "ff_dim": 2048}, {}),  # the paper's
}


def load(args):
    pairs = translation.read_pairs(args.pairs)
    if args.max_source_words:
        pairs = [p for p in pairs if len(p[0].split()) <= args.max_source_words]
    pairs = pairs[: args.num_samples]
    splits = translation.split_pairs(pairs, seed=args.seed, test_size=args.test_size)
    info = translation.make_info(splits, level="word", max_source_length=0, max_target_length=0)
    references = collections.defaultdict(list)
    for source, target in pairs:
        references[source].append(target)
    return info, references


def greedy_plain(model, info, sources, batch_size=256):
    """Greedy decoding of the plain model: the whole decoder is rerun on the growing prefix (short outputs)."""
    vocab = np.array(info.target_vocabulary, dtype=object)
    outputs = []
    step = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    for i in range(0, len(sources), batch_size):
        src = info.source_vectorizer(sources[i : i + batch_size])[:, : info.max_source_length].to_tensor(0).numpy()
        tokens = np.full((src.shape[0], 1), translation.START_ID, "int32")
        for _ in range(info.max_target_length + 1):
            logits = step({"source": src.astype("int32"), "target_in": tokens})
            tokens = np.concatenate([tokens, np.argmax(logits[:, -1], -1)[:, None].astype("int32")], axis=1)
        for row in tokens[:, 1:]:
            end = np.flatnonzero(row == translation.END_ID)
            row = row[: end[0]] if len(end) else row
            outputs.append(info.separator.join(vocab[row]))
    if info.separator == " ":  # the zoo's Translator joins punctuation the same way
        outputs = [t.decode("utf-8") for t in translation.detokenize_words(tf.constant(outputs)).numpy()]
    return outputs


def score(outputs, sources, references, language):
    refs = [references[s] for s in sources]
    width = max(len(r) for r in refs)
    padded = [r + [r[0]] * (width - len(r)) for r in refs]  # sacrebleu wants as many references per line
    return {
        "bleu": bleu.corpus_bleu(
            [o.lower() for o in outputs], [[t.lower() for t in r] for r in padded], language=language
        )
    }


class EpochBleu(keras.callbacks.Callback):
    def __init__(self, decode, sources, references, language, every):
        super().__init__()
        self.decode, self.sources, self.references, self.language, self.every = (
            decode,
            sources,
            references,
            language,
            every,
        )
        self.bleu, self.seconds, self._start = {}, [], 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)  # before the decoding below
        if (epoch + 1) % self.every == 0:
            self.bleu[epoch + 1] = score(self.decode(), self.sources, self.references, self.language)["bleu"]
            print(f"epoch {epoch + 1}: greedy BLEU {self.bleu[epoch + 1]:.2f}", flush=True)


def build(name: str, info, seed: int):
    """A variant by name, compiled as the recipe compiles its model (`seed`: the run's, already set)."""
    sizes = dict(source_vocab_size=info.source_vocab_size, target_vocab_size=info.target_vocab_size)
    if name in TRANSFORMERS:
        overrides, settings = TRANSFORMERS[name]
        return transformer.compile_transformer(transformer.build_transformer_seq2seq(**sizes, **overrides), **settings)
    if name in PLAIN:
        model = plain_model(**sizes, **PLAIN[name])
    else:
        model = seq2seq.build_attention_seq2seq(**sizes, **{"dropout": 0.2, **VARIANTS[name]})
        if name in INITS:
            INITS[name][1](model, seed=int(keras.random.randint((), 0, 2**31 - 1)))
        if name == "zoo_plain_start":  # the very weights "plain" starts from with this seed
            keras.utils.set_random_seed(seed)
            copy_plain_weights(plain_model(**sizes), model)
    return seq2seq.compile_seq2seq(model, "adam", learning_rate=1e-3)


def speed(args) -> None:
    """Training steps per second of each variant on the same batches: `--rounds` rounds of `--steps` steps,
    the variants taking turns (so that a change in the machine's load touches all of them), after a
    warm-up that traces the train function."""
    info, _ = load(args)
    train = translation.make_dataset(info, info.splits["train"].pairs, batch_size=args.batch_size).cache()
    models = {}
    for name in args.only:
        keras.utils.set_random_seed(args.seed)
        models[name] = build(name, info, args.seed)
        models[name].fit(train.take(5), verbose=0)
    rates = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(train.take(args.steps), verbose=0)
            rates[name].append(args.steps / (time.perf_counter() - start))
    base = float(np.median(rates[args.only[0]]))
    # Words per step: the real (non-padding) source and target tokens of the batches timed.
    words = np.mean(
        [
            int(tf.reduce_sum(tf.cast(weights > 0, tf.int32))) + int(tf.math.count_nonzero(x["source"]))
            for x, _, weights in train.take(args.steps)
        ]
    )
    print(f"\n| model | params | steps/s (median of {args.rounds} x {args.steps}) | words/s | vs {args.only[0]} |")
    print("|---|---|---|---|---|")
    for name, r in rates.items():
        rate = np.median(r)
        print(f"| {name} | {models[name].count_params():,} | {rate:.2f} | {rate * words:,.0f} | {rate / base:.2f} |")


def attentional_vectors(name: str, model, inputs) -> np.ndarray:
    """The attentional layer's output at every target position of a batch: `(B, T, units)`."""
    if name in PLAIN:
        layer = [x for x in model.layers if isinstance(x, keras.layers.Dense)][-2]  # the one before the softmax
        return keras.Model(model.inputs, layer.output)(inputs).numpy()
    inference, feeds = seq2seq.Seq2SeqInference(model), []
    cache = inference.encode(inputs["source"])
    for t in range(inputs["target_in"].shape[1]):  # the fed vector a_t after each teacher-forced step
        _, cache = inference.step(inputs["target_in"][:, t], cache)
        feeds.append(cache["feed"].numpy())
    return np.stack(feeds, axis=1)


def saturation(args) -> None:
    """How fast the attentional layer saturates: share of its outputs at |a| > 0.99 on one batch after
    0, 20, 50, 100 and 200 Adam steps, and their spread over positions (0 = the same vector everywhere)."""
    info, _ = load(args)
    train = translation.make_dataset(info, info.splits["train"].pairs, batch_size=args.batch_size, shuffle=True)
    inputs, _, weights = next(iter(train))
    real = weights.numpy() > 0
    print("| model | Adam steps | share of outputs at abs > 0.99 | spread over positions | mean abs W_c |")
    print("|---|---|---|---|---|")
    for name in args.only:
        keras.utils.set_random_seed(args.seed)
        model, done = build(name, info, args.seed), 0
        combine = model.get_layer("decoder").combine if name in VARIANTS else None
        for steps in (0, 20, 50, 100, 200):
            if steps > done:
                model.fit(train.take(steps - done), verbose=0)
                done = steps
            a = attentional_vectors(name, model, inputs)[real]
            kernel = (combine or [x for x in model.layers if isinstance(x, keras.layers.Dense)][-2]).kernel
            print(
                f"| {name} | {steps} | {(np.abs(a) > 0.99).mean():.3f} | {a.std(axis=0).mean():.4f} | "
                f"{np.abs(kernel.numpy()).mean():.4f} |",
                flush=True,
            )


def curves(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "curves.jsonl"
    done = {json.loads(line)["name"] for line in path.read_text().splitlines()} if path.exists() else set()
    info, references = load(args)
    test_sources = [s for s, _ in info.splits["test"].pairs][: args.test_sentences]
    for name in args.only:
        if name in done:
            print(f"{name}: already in {path}")
            continue
        keras.utils.set_random_seed(args.seed)
        train = translation.make_dataset(
            info, info.splits["train"].pairs, batch_size=args.batch_size, shuffle=True, seed=args.seed
        )
        dev = translation.make_dataset(info, info.splits["validation"].pairs, batch_size=args.batch_size)
        if args.quick:
            train, dev = train.take(3), dev.take(2)
        model = build(name, info, args.seed)
        if name in PLAIN:

            def decode(model=model):
                return greedy_plain(model, info, test_sources)
        else:
            translator = Translator.from_info(model, info, beam_width=1)

            def decode(translator=translator):
                return translator.translate(test_sources)

        steps = int(train.cardinality())
        monitor = EpochBleu(decode, test_sources, references, info.target_language, args.bleu_every)
        history = model.fit(train, validation_data=dev, epochs=args.epochs, callbacks=[monitor], verbose=2).history
        row = {
            "name": name,
            "overrides": PLAIN.get(name, VARIANTS.get(name)),
            "params": model.count_params(),
            "steps_per_epoch": steps,
            "seconds_per_step": [round(s / steps, 4) for s in monitor.seconds],
            "bleu": monitor.bleu,
            # The same model decoded as the plain model is (the whole decoder rerun on the growing prefix):
            # a check that the Translator's in-graph greedy search loses nothing.
            "bleu_rerun": None
            if name in PLAIN or name in TRANSFORMERS
            else score(greedy_plain(model, info, test_sources), test_sources, references, info.target_language)["bleu"],
            **{k: [round(v, 4) for v in history[k]] for k in ("accuracy", "loss", "val_loss")},
        }
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    print("\n| model | params | s/step (median) | train accuracy by epoch | val loss, last | greedy BLEU by epoch |")
    print("|---|---|---|---|---|---|")
    for line in path.read_text().splitlines():
        r = json.loads(line)
        print(
            f"| {r['name']} | {r['params']:,} | {np.median(r['seconds_per_step']):.3f} | "
            f"{' '.join(f'{a:.3f}' for a in r['accuracy'])} | {r['val_loss'][-1]:.3f} | "
            f"{' '.join(f'{e}:{b:.1f}' for e, b in r['bleu'].items())} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("curves", "speed", "saturation"))
    parser.add_argument("--pairs", default="../shared/data/anki/deu-eng.zip")
    parser.add_argument("--num-samples", type=int, default=20000)
    parser.add_argument("--max-source-words", type=int, default=0, help="keep pairs whose English has at most N words")
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--test-sentences", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--bleu-every", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100, help="speed: steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="speed: rounds")
    every = [*PLAIN, *VARIANTS, *TRANSFORMERS]
    parser.add_argument("--only", nargs="*", default=[*PLAIN, *VARIANTS], choices=every)
    parser.add_argument("--out", default="/tmp/bench_seq2seq_plain")
    parser.add_argument("--quick", action="store_true", help="3 batches, 1 epoch: a smoke test of the script")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.num_samples, args.test_size, args.test_sentences, args.bleu_every = 1, 600, 50, 20, 1
    {"curves": curves, "speed": speed, "saturation": saturation}[args.what](args)


if __name__ == "__main__":
    main()
