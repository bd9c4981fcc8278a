"""What the sequence-to-sequence recipes of chapters 10 and 11 share: parameters, data, models, serving, report.

Not a chapter: it registers nothing. `anki_data(level)` and `title_data` are recipes' `data`
callables, `char_model` / `attention_model` their `model`, `serve_strings` their `serving` (a
`zoo.serving.translator.Translator`: strings in, strings out, beam search inside) and
`translation_report` / `attention_report` / `char_report` their `report` (the title recipes' data and
report are in `zoo.recipes.titles`).

Every run writes `split.json` (which pairs went where), `samples.tsv` (test sentences: source,
reference, greedy, beam), BLEU/chrF (sacrebleu; `zh` tokeniser for Chinese) and ROUGE-L F1
(rouge-score; Chinese by character) for greedy and beam decoding on the test split in `metrics.json`
(`greedy_bleu`, `beam_bleu` ..., with `beam_width`), attention heat maps for attention models
(title runs add the scores of two model-free baseline titles, `baseline_lead_*` and
`baseline_nearest_*`), and a SavedModel whose `serve` endpoint turns source strings into output
strings (beam search inside, width `beam_width` fixed at export) and whose `attention` endpoint
returns tokens and weights. With `--set copy=true` (the attention recipes) the model is a
pointer-generator (`zoo.models.pointer.build_pointer_seq2seq`): the pipelines add the extended-vocabulary
source ids, the served model copies out-of-vocabulary source words by their string, its `attention`
endpoint adds `p_gen` and `copy_share`, and title runs record `zoo.recipes.titles.copy_report`'s
numbers and `p_gen_*.png`.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable

import keras
import tensorflow as tf

from zoo.data import translation
from zoo.data.pipelines import Data
from zoo.data.translation import Seq2SeqInfo
from zoo.errors import UserError
from zoo.json_files import write_json
from zoo.layers.seq2seq_decoder import ATTENTIONS, CELLS, COMBINE_ACTIVATIONS
from zoo.metrics import bleu, rouge
from zoo.models import pointer, seq2seq
from zoo.recipes.base import HParams, Param, RunContext
from zoo.serving.translator import Translator
from zoo.visualize.seq2seq_attention import plot_attention

DECODING_PARAMS = {
    "beam_width": Param(5, "beam width of the exported model and of the beam-search scores (1 = greedy)", minimum=1),
    "alpha": Param(0.7, "beam-search length normalisation: score = log P / T ** alpha", minimum=0.0),
    "samples": Param(10, "test sentences written to samples.tsv", minimum=0),
}
ANKI_PARAMS = {
    "pairs": Param(
        "",
        "an Anki pair file (zip or txt: english<TAB>other[<TAB>attribution]); "
        "default: the book's anki/cmn-eng.zip in the data directory",
        type=str,
    ),
    "num_samples": Param(10000, "use the first N pairs of the file, as the book (0 = all)", minimum=0),
    "test_size": Param(1000, "test pairs (a seeded sample); validation is 10% of the rest", minimum=0),
    "max_source_length": Param(0, "source tokens kept (0 = the longest training sentence)", minimum=0),
    "max_target_length": Param(0, "target tokens kept (0 = the longest training sentence)", minimum=0),
}
ATTENTION_PARAMS = {
    "cell": Param("gru", "encoder and decoder cell", choices=CELLS),
    "attention": Param(
        "additive",
        "attention score (additive = Bahdanau; multi_head = one whole Transformer head), or none for the same "
        "model without attention",
        choices=ATTENTIONS,
    ),
    "input_feeding": Param(True, "feed the attentional vector into the next decoder step"),
    "combine_activation": Param(
        "linear",
        "activation of the attentional layer W_c [c; h] (tanh is Luong et al.'s: under Adam it saturates and "
        "stalls learning, RESULTS.md); none drops the layer and uses [c; h] itself",
        choices=COMBINE_ACTIVATIONS,
    ),
    "embedding_dim": Param(128, "embedding size", minimum=1),
    "units": Param(256, "decoder units", minimum=2),
    "encoder_units": Param(0, "encoder units per direction (0 = units // 2; then units must be even)", minimum=0),
    "vocab_size": Param(0, "maximum vocabulary per side, special tokens included (0 = all)", minimum=0),
    "dropout": Param(0.2, "dropout on the embeddings", minimum=0.0, maximum=1.0, exclusive_maximum=True),
    "learning_rate": Param(1e-3, "Adam learning rate", minimum=0.0),
    "heatmaps": Param(3, "attention heat maps (PNG) of test sentences", minimum=0),
    "copy": Param(
        False,
        "pointer-generator decoder (See et al. 2017): it may copy source words, out-of-vocabulary ones by "
        "their string (word level)",
    ),
    "coverage": Param(True, "with copy: coverage in the attention scores and the coverage loss (additive only)"),
    "coverage_weight": Param(1.0, "with copy and coverage: weight of the coverage loss (See et al.: 1)", minimum=0.0),
    "clipnorm": Param(0.0, "clip the gradient's global norm to this (0 = off)", minimum=0.0),
}

# The translation recipes' defaults (issue 23): the sizes and the decoder of a plain Keras model of the
# same idea (BiGRU 2 x 256, GRU 256, no dropout; one whole attention head over the decoder's outputs,
# `[c; h]` into the softmax, no input feeding), whose function these recipes compute exactly
# (RESULTS.md, chapter 10; in the plain model itself Bahdanau's additive score cost about 3 BLEU on
# cmn-eng; `--set attention=additive --set input_feeding=true --set combine_activation=linear` is
# the Bahdanau/Luong decoder). The title generator keeps the author's settings.
TRANSLATION_DEFAULTS = {
    "encoder_units": dataclasses.replace(ATTENTION_PARAMS["encoder_units"], default=256),
    "dropout": dataclasses.replace(ATTENTION_PARAMS["dropout"], default=0.0),
    "attention": dataclasses.replace(ATTENTION_PARAMS["attention"], default="multi_head"),
    "input_feeding": dataclasses.replace(ATTENTION_PARAMS["input_feeding"], default=False),
    "combine_activation": dataclasses.replace(ATTENTION_PARAMS["combine_activation"], default="none"),
}


def check_units(hp: HParams) -> None:
    """What `Param` cannot say of the attention recipes' `units`, refused before any data is read."""
    if not hp.encoder_units and hp.units % 2:
        raise UserError(
            "expected an even number (units // 2 per encoder direction when encoder_units is 0)",
            param="units",
            value=hp.units,
        )
    if hp.copy and hp.attention == "none":
        raise UserError("a copying decoder copies through its attention: choose a score", param="attention")
    if hp.copy and hp.coverage and hp.attention != "additive":
        raise UserError(
            f"coverage enters the additive score only; got attention={hp.attention} "
            "(--set attention=additive, or --set coverage=false)",
            params={"attention": hp.attention, "coverage": hp.coverage},
        )
    encoder_output = 2 * (hp.encoder_units or hp.units // 2)
    if hp.attention in ("dot", "scaled_dot") and encoder_output != hp.units:
        raise UserError(
            f"the {hp.attention} score compares the decoder state with the encoder outputs: needs "
            f"units == 2 * encoder_units (got {hp.units} and {encoder_output})",
            params={"attention": hp.attention, "units": hp.units, "encoder_units": hp.encoder_units},
        )


def record_split(ctx: RunContext, splits: dict[str, translation.Split], source: str) -> None:
    if ctx.is_chief:
        record = {
            "source": source,
            "indices": "0-based positions among the file's pairs (blank lines skipped)",
            **{name: split.indices for name, split in splits.items()},
        }
        write_json(ctx.run_dir / "split.json", record, sort_keys=False, indent=None)


def datasets(hp: HParams, info: Seq2SeqInfo, ctx: RunContext, *, copy: bool = False) -> Data[Seq2SeqInfo]:
    """Teacher-forcing pipelines; TPUs get batches of one fixed shape, other devices the batch's own length.

    `copy`: the inputs also hold the extended-vocabulary source ids of a copying decoder.
    """
    splits = info.splits
    fixed = isinstance(ctx.strategy, tf.distribute.TPUStrategy)

    def make(split: str, **kwargs) -> tf.data.Dataset:
        return translation.make_dataset(
            info, splits[split].pairs, batch_size=hp.batch_size, fixed_shape=fixed, copy=copy, **kwargs
        )

    return Data(
        train=make("train", shuffle=True, seed=hp.seed, drop_remainder=fixed),
        validation=make("validation"),
        test=make("test"),
        info=info,
    )


def anki_data(
    level: str,
    *,
    check: Callable[[HParams], None] | None = None,
    limit_vocabulary: bool = False,
    require_pairs: bool = False,
    copyable: bool = False,
):
    """The `data` of a recipe on Anki pairs.

    Args:
        level: `"word"` or `"char"` tokens (see `zoo.data.translation.make_info`).
        check: refuses a recipe's inconsistent parameters (a `UserError`) before any data is read.
        limit_vocabulary: the recipe declares `vocab_size` (the maximum vocabulary per side).
        require_pairs: the recipe has no default pair file (`--set pairs=PATH` is required).
        copyable: the recipe declares `copy` (a pointer-generator decoder; word level).
    """

    def data(hp: HParams, ctx: RunContext) -> Data[Seq2SeqInfo]:
        if check is not None:
            check(hp)
        if require_pairs and not hp.pairs:
            raise UserError(
                "this recipe needs an Anki pair file such as fra-eng.zip (the *_cmn recipes use the book's "
                "English-Chinese file)",
                param="pairs",
            )
        path = translation.anki_path(ctx.data_dir, hp.pairs)
        pairs = translation.read_pairs(path, hp.num_samples or None)
        splits = translation.split_pairs(pairs, seed=hp.seed, test_size=hp.test_size or None)
        record_split(ctx, splits, str(path))
        info = translation.make_info(
            splits,
            level=level,
            max_source_length=hp.max_source_length,
            max_target_length=hp.max_target_length,
            max_tokens=(hp.vocab_size or None) if limit_vocabulary else None,
        )
        return datasets(hp, info, ctx, copy=copyable and hp.copy)

    return data


def char_model(hp: HParams, data: Data[Seq2SeqInfo]) -> keras.Model:
    info = data.info
    model = seq2seq.build_char_seq2seq(
        source_vocab_size=info.source_vocab_size, target_vocab_size=info.target_vocab_size, units=hp.units
    )
    return seq2seq.compile_seq2seq(model, "rmsprop", learning_rate=hp.learning_rate)


def attention_model(hp: HParams, data: Data[Seq2SeqInfo]) -> keras.Model:
    """`build_attention_seq2seq`, or `build_pointer_seq2seq` with `--set copy=true`."""
    info = data.info
    sizes = dict(
        source_vocab_size=info.source_vocab_size,
        target_vocab_size=info.target_vocab_size,
        embedding_dim=hp.embedding_dim,
        units=hp.units,
        encoder_units=hp.encoder_units or None,
        cell=hp.cell,
        attention=hp.attention,
        input_feeding=hp.input_feeding,
        combine_activation=hp.combine_activation,
        shared_embedding=info.source_vectorizer is info.target_vectorizer,
        dropout=hp.dropout,
    )
    if hp.copy:
        model = pointer.build_pointer_seq2seq(
            **sizes,
            max_source_length=info.max_source_length,
            coverage=hp.coverage,
            coverage_weight=hp.coverage_weight,
        )
    else:
        model = seq2seq.build_attention_seq2seq(**sizes)
    return seq2seq.compile_seq2seq(model, "adam", learning_rate=hp.learning_rate, clipnorm=hp.clipnorm or None)


def make_translator(hp: HParams, data: Data[Seq2SeqInfo], model: keras.Model, beam_width: int) -> Translator:
    return Translator.from_info(model, data.info, beam_width=beam_width, alpha=hp.alpha)


def serve_strings(hp: HParams, data: Data[Seq2SeqInfo], model: keras.Model) -> Translator:
    return make_translator(hp, data, model, hp.beam_width)


def scored_pairs(hp: HParams, data: Data[Seq2SeqInfo], ctx: RunContext) -> list[tuple[str, str]]:
    """The test pairs a report scores: all of them, or as many as a smoke run (`max_steps`) evaluates."""
    test = data.info.splits["test"].pairs
    return test if ctx.max_steps is None else test[: ctx.max_steps * hp.batch_size]


def text_scores(outputs: list[str], references: list[str], *, info: Seq2SeqInfo, prefix: str) -> dict[str, float]:
    """`{prefix}bleu`, `{prefix}chrf` (sacrebleu) and `{prefix}rougeL` of outputs against one reference each."""
    language = info.target_language
    return {
        **bleu.scores(outputs, references, language=language, prefix=prefix, lowercase=info.lowercase),
        f"{prefix}rougeL": rouge.rouge_l(outputs, references, language=language),
    }


def translation_report(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext) -> dict:
    """Greedy and beam-search outputs of the test sources, scored, and `samples.tsv`.

    Metrics: `greedy_bleu`, `greedy_chrf`, `greedy_rougeL`, the same with `beam_` for beam search,
    `beam_width` and `test_sentences`. Word-level outputs are lower-cased by the tokeniser, so they
    are scored case-insensitively (`Seq2SeqInfo.lowercase`).
    """
    return decoded_report(hp, data, model, ctx)[0]


def decoded_report(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext):
    """`translation_report`'s metrics and the decoded test outputs, `{"greedy": [...], "beam": [...]}`."""
    info = data.info
    test = scored_pairs(hp, data, ctx)
    sources, references = [s for s, _ in test], [t for _, t in test]
    metrics: dict = {"test_sentences": len(test), "beam_width": hp.beam_width}
    outputs = {}
    for name, width in (("greedy", 1), ("beam", hp.beam_width)):
        outputs[name] = make_translator(hp, data, model, width).translate(sources)
        metrics.update(text_scores(outputs[name], references, info=info, prefix=f"{name}_"))
    if ctx.is_chief:
        with open(ctx.run_dir / "samples.tsv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter="\t", lineterminator="\n")
            writer.writerow(["source", "reference", *outputs])
            for i in range(min(hp.samples, len(test))):
                writer.writerow([sources[i], references[i], *(o[i] for o in outputs.values())])
    return metrics, outputs


def write_heatmaps(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext) -> None:
    """`hp.heatmaps` attention heat maps (`attention_0.png` ...) of the first test sources (chief only)."""
    if ctx.is_chief and hp.heatmaps:
        translator = make_translator(hp, data, model, hp.beam_width)
        for i, (sentence, _) in enumerate(scored_pairs(hp, data, ctx)[: hp.heatmaps]):
            plot_attention(translator, sentence, ctx.run_dir / f"attention_{i}.png")


def attention_report(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext) -> dict:
    """`translation_report`, plus `write_heatmaps` when the model has attention."""
    metrics = translation_report(hp, data, model, ctx)
    if hp.attention != "none":
        write_heatmaps(hp, data, model, ctx)
    return metrics


def char_report(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext) -> dict:
    metrics = translation_report(hp, data, model, ctx)
    # keras.io's "character accuracy": teacher-forced next-character accuracy (here over real
    # characters only, padding excluded; keras.io also counts its space padding).
    scores = model.evaluate(data.test, return_dict=True, verbose=0)
    metrics["test_char_accuracy"] = float(scores["accuracy"])
    return metrics
