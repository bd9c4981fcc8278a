"""Chapters 10-11 seq2seq benchmarks (for RESULTS.md): BLEU of the book's char model vs the word attention
model on the same cmn-eng test split (greedy and beam), attention vs `attention=none` at the same steps,
title generation, and the decoding speed of the SavedModel's in-graph beam search vs a Python loop.

    python benchmarks/seq2seq.py quality --data-dir ../shared/data --out /tmp/bench_seq2seq      # hours on CPU
    python benchmarks/seq2seq.py quality --only attention none --epochs 10 --out /tmp/bench_seq2seq
    python benchmarks/seq2seq.py titles --data-dir ../shared/data --out /tmp/bench_seq2seq
    python benchmarks/seq2seq.py plateau --data-dir ../shared/data --out /tmp/bench_seq2seq   # ~23 min
    python benchmarks/seq2seq.py speed --run /tmp/bench_seq2seq/attention --sentences 512   # beam width of the export
    python benchmarks/seq2seq.py quality --quick --out /tmp/bench_seq2seq_quick                   # smoke test

Every finished run is appended to `OUT/results.jsonl` and skipped when the command is repeated; an
interrupted run resumes from its last epoch (the driver's backup in `OUT/NAME.partial`).
All runs use the same seed, hence the same 10,000 pairs and the same 1,000-pair test split.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

import zoo
from zoo.layers.attention import EncoderDecoderAttention

QUALITY = {  # name -> (recipe, overrides)
    "char": ("seq2seq_char_cmn", {}),
    "attention": ("seq2seq_attention_cmn", {"attention": "general"}),
    "none": ("seq2seq_attention_cmn", {"attention": "none"}),
    "additive": ("seq2seq_attention_cmn", {"attention": "additive"}),
    "transformer": ("transformer_cmn", {}),  # chapter 12 (issue 24)
    "transformer_dropout0": ("transformer_cmn", {"dropout": 0.0}),  # issue 24: the deu-eng gap
}


def _done(out: Path) -> dict[str, dict]:
    path = out / "results.jsonl"
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row["name"]: row for row in rows}


def _run(name: str, recipe: str, overrides: dict, args) -> dict:
    out = Path(args.out)
    done = _done(out)
    if name in done:
        print(f"{name}: already in {out / 'results.jsonl'}", flush=True)
        return done[name]
    settings = dict(overrides)
    if args.epochs:
        settings["epochs"] = args.epochs
    extra = {"max_steps": 2} if args.quick else {}
    if args.quick:
        settings.update(epochs=1)
    start = time.time()
    result = zoo.fit(recipe, data_dir=args.data_dir, out=out / name, verbose=2, **extra, **settings)
    row = {
        "name": name,
        "recipe": recipe,
        "overrides": settings,
        "seconds": round(time.time() - start, 1),
        "run_dir": str(result.run_dir),
        "metrics": result.metrics,
    }
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)
    return row


def quality(args) -> None:
    rows = [_run(name, *QUALITY[name], args) for name in args.only]
    print("\n| model | epochs | test BLEU greedy | BLEU beam | chrF greedy | chrF beam | wall s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        m = r["metrics"]
        beam = next((k[:-5] for k in m if k.startswith("beam") and k.endswith("_bleu")), "beam")
        print(
            f"| {r['name']} ({r['recipe']}) | {m.get('epochs_trained')} | {m['greedy_bleu']:.2f} | "
            f"{m[f'{beam}_bleu']:.2f} | {m['greedy_chrf']:.2f} | {m[f'{beam}_chrf']:.2f} | {r['seconds']} |"
        )


def titles(args) -> None:
    row = _run("title_generation", "title_generation", {}, args)
    m = row["metrics"]
    print(
        f"title_generation: BLEU greedy {m['greedy_bleu']:.2f}, beam {m['beam_bleu']:.2f}; "
        f"ROUGE-L greedy {m['greedy_rougeL']:.2f}, beam {m['beam_rougeL']:.2f}"
    )
    for name in ("lead", "nearest"):  # model-free titles (`zoo.recipes.seq2seq.baseline_titles`)
        if f"baseline_{name}_bleu" in m:
            print(
                f"baseline {name}: BLEU {m[f'baseline_{name}_bleu']:.2f}, chrF {m[f'baseline_{name}_chrf']:.2f}, "
                f"ROUGE-L {m[f'baseline_{name}_rougeL']:.2f}"
            )
    print((Path(row["run_dir"]) / "samples.tsv").read_text())


PLATEAU = {  # name -> title_generation overrides (units 128, 6 epochs: where the decoder leaves the unigram stage)
    "general": {},
    "none": {"attention": "none"},
    "additive": {"attention": "additive"},
    "scaled_dot": {"attention": "scaled_dot"},
    "general_no_feeding": {"input_feeding": False},
    "general_lr3e-3": {"learning_rate": 3e-3},
    "general_lr3e-4": {"learning_rate": 3e-4},
    "general_no_dropout": {"dropout": 0.0},
    "general_source30": {"max_source_length": 30},
    "general_source30_zero_context": {"max_source_length": 30},
}


class _ZeroContext(EncoderDecoderAttention):
    """The ablation of `plateau`: same layers and weights, but the decoder gets a context of zeros."""

    def call(self, query, value, value_mask=None, keys=None):
        context, weights = super().call(query, value, value_mask, keys)
        return context * 0, weights


def plateau(args) -> None:
    """Why the title decoder stays at the unigram stage for epochs: train accuracy per epoch of variants.

    Plain `model.fit` on the recipe's own data and model functions (seed 1, units 128), so that only
    the named setting differs. The `zero_context` variant swaps in `_ZeroContext` while the model is
    built: the attention and `combine` layers stay, only the context they pass on is zero.
    """
    import keras

    from zoo import recipes
    from zoo.layers import seq2seq_decoder
    from zoo.recipes.base import HParams, RunContext
    from zoo.recipes.seq2seq import attention_model, title_data

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "plateau.jsonl"
    done = {json.loads(line)["name"] for line in path.read_text().splitlines()} if path.exists() else set()
    defaults = {key: p.default for key, p in recipes.get("title_generation").params().items()}
    for name, overrides in PLATEAU.items():
        if name in done:
            continue
        hp = HParams(**{**defaults, "units": 128, **overrides})
        keras.utils.set_random_seed(1)
        with tempfile.TemporaryDirectory() as tmp:
            data = title_data(hp, RunContext(data_dir=Path(args.data_dir), run_dir=Path(tmp)))
        zero = name.endswith("zero_context")
        seq2seq_decoder.EncoderDecoderAttention = _ZeroContext if zero else EncoderDecoderAttention
        try:
            model = attention_model(hp, data)
        finally:
            seq2seq_decoder.EncoderDecoderAttention = EncoderDecoderAttention
        start = time.time()
        history = model.fit(data.train, validation_data=data.validation, epochs=args.epochs or 6, verbose=2).history
        row = {
            "name": name,
            "overrides": {"units": 128, **overrides},
            "seconds": round(time.time() - start),
            **{key: [round(v, 4) for v in history[key]] for key in ("accuracy", "loss", "val_accuracy")},
        }
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    print("\n| variant | train accuracy by epoch | train loss, last epoch |\n|---|---|---|")
    for line in path.read_text().splitlines():
        row = json.loads(line)
        print(f"| {row['name']} | {' '.join(f'{a:.3f}' for a in row['accuracy'])} | {row['loss'][-1]:.3f} |")


def _python_loop_beam(inference, source_ids, *, beam_width: int, max_length: int, alpha: float):
    """The same beam search, driven from Python: one traced decoder step per call, NumPy bookkeeping."""
    from zoo.models.seq2seq import END_ID, START_ID

    step = tf.function(inference.step, reduce_retracing=True)
    cache = inference.encode(source_ids)
    batch, k = int(source_ids.shape[0]), beam_width
    cache = tf.nest.map_structure(lambda t: tf.repeat(t, k, axis=0), cache)
    log_probs = np.full((batch, k), -np.inf, np.float32)
    log_probs[:, 0] = 0
    lengths = np.zeros((batch, k), np.int32)
    finished = np.zeros((batch, k), bool)
    seqs = np.zeros((batch, k, max_length), np.int32)
    tokens = np.full(batch * k, START_ID, np.int32)
    for i in range(max_length):
        logits, cache = step(tf.constant(tokens), cache)
        lp = tf.nn.log_softmax(logits).numpy().reshape(batch, k, -1)
        vocab = lp.shape[-1]
        lp[..., 0] = -np.inf
        lp = np.where(finished[..., None], np.where(np.arange(vocab) == 0, 0.0, -np.inf), lp)
        total = log_probs[..., None] + lp
        new_len = np.where(finished, lengths, i + 1)
        norm = (total / (new_len.astype(np.float32) ** alpha)[..., None]).reshape(batch, -1)
        index = np.argsort(-norm, axis=1, kind="stable")[:, :k]
        parent, chosen = index // vocab, index % vocab
        log_probs = np.take_along_axis(total.reshape(batch, -1), index, 1)
        lengths = np.take_along_axis(new_len, parent, 1)
        finished = np.take_along_axis(finished, parent, 1) | (chosen == END_ID)
        seqs = np.take_along_axis(seqs, parent[..., None], 1)
        seqs[:, :, i] = chosen
        flat = (parent + np.arange(batch)[:, None] * k).reshape(-1)
        cache = tf.nest.map_structure(lambda t: tf.gather(t, flat), cache)
        tokens = chosen.reshape(-1).astype(np.int32)
        if finished.all():
            break
    return seqs[:, 0]


def speed(args) -> None:
    import keras

    from zoo import export, recipes
    from zoo.models.seq2seq import Seq2SeqInference
    from zoo.recipes.base import HParams, RunContext
    from zoo.serving.translator import Translator

    run = Path(args.run)
    config = json.loads((run / "config.json").read_text())
    hp = HParams(**config["hparams"])
    with tempfile.TemporaryDirectory() as tmp:  # the recipe's own data: same seed, same split, same vocabularies
        data = recipes.get(config["recipe"]).data(hp, RunContext(data_dir=Path(args.data_dir), run_dir=Path(tmp)))
    info = data.info
    sentences = [s for s, _ in info.splits["test"].pairs][: args.sentences]
    width, max_length = hp.beam_width, info.max_target_length + 1

    serve = keras.layers.TFSMLayer(str(run / "saved_model"), call_endpoint="serve")
    serve(tf.constant(sentences[:2]))  # warm-up
    start = time.time()
    graph_out = []
    for i in range(0, len(sentences), args.batch_size):
        graph_out.extend(serve(tf.constant(sentences[i : i + args.batch_size])).numpy())
    graph_rate = len(sentences) / (time.time() - start)

    model = export.load(run)
    inference = Seq2SeqInference(model)
    translator = Translator.from_info(model, info, beam_width=width, alpha=hp.alpha)
    batches = [
        translator.source_ids(tf.constant(sentences[i : i + args.batch_size]))
        for i in range(0, len(sentences), args.batch_size)
    ]
    _python_loop_beam(inference, batches[0][0][:2], beam_width=width, max_length=max_length, alpha=hp.alpha)
    start = time.time()
    loop_out = []
    for ids, n_source in batches:
        tokens = _python_loop_beam(inference, ids, beam_width=width, max_length=max_length, alpha=hp.alpha)
        tokens, lengths = _strip(tokens)
        lengths = np.where(n_source.numpy() > 0, lengths, 0)
        loop_out.extend(translator.detokenize(tf.constant(tokens), tf.constant(lengths, tf.int64)).numpy())
    loop_rate = len(sentences) / (time.time() - start)
    same = float(np.mean([a == b for a, b in zip(graph_out, loop_out)]))
    row = {
        "name": "speed",
        "run": str(run),
        "sentences": len(sentences),
        "batch_size": args.batch_size,
        "beam_width": width,
        "savedmodel_sentences_per_s": round(graph_rate, 1),
        "python_loop_sentences_per_s": round(loop_rate, 1),
        "ratio": round(graph_rate / loop_rate, 2),
        "same_output_fraction": same,
    }
    print(json.dumps(row), flush=True)


def _strip(tokens):
    """End token and what follows -> 0, and the lengths before the end (as the in-graph search returns)."""
    from zoo.models.seq2seq import END_ID

    seen = np.cumsum(tokens == END_ID, axis=1) > 0
    return np.where(seen, 0, tokens), (~seen).sum(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("quality", "titles", "plateau", "speed"))
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="/tmp/bench_seq2seq")
    parser.add_argument("--only", nargs="*", default=["char", "attention", "none"], choices=list(QUALITY))
    parser.add_argument(
        "--epochs", type=int, default=0, help="override every recipe's epochs (0 = defaults; plateau: 6)"
    )
    parser.add_argument("--quick", action="store_true", help="2 batches, 1 epoch: a smoke test of the script")
    parser.add_argument("--run", default="", help="speed: a finished run folder (saved_model/ and model.keras)")
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    {"quality": quality, "titles": titles, "plateau": plateau, "speed": speed}[args.what](args)


if __name__ == "__main__":
    main()
