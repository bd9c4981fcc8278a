"""What the sequence-to-sequence recipes of chapters 10 and 11 share: parameters, data, models, serving, report.

Not a chapter: it registers nothing. `anki_data(level)` and `title_data` are recipes' `data`
callables, `char_model` / `attention_model` their `model`, `serve_strings` their `serving` (a
`zoo.serving.translator.Translator`: strings in, strings out, beam search inside) and
`translation_report` / `title_report` / `char_report` their `report`.

Every run writes `split.json` (which pairs went where), `samples.tsv` (test sentences: source,
reference, greedy, beam), BLEU/chrF (sacrebleu; `zh` tokeniser for Chinese) and ROUGE-L F1
(rouge-score; Chinese by character) for greedy and beam decoding on the test split in `metrics.json`,
attention heat maps for attention models (title runs add the scores of two model-free baseline
titles, `baseline_lead_*` and `baseline_nearest_*`), and a SavedModel
whose `serve` endpoint turns source strings into output strings (beam search inside, width
`beam_width` fixed at export) and whose `attention` endpoint returns tokens and weights.
"""

from __future__ import annotations

import csv
import json

import numpy as np

from zoo.data import translation
from zoo.errors import UserError
from zoo.layers.seq2seq_decoder import ATTENTIONS, CELLS
from zoo.metrics import bleu, rouge
from zoo.models import seq2seq
from zoo.recipes.base import Data, HParams, Param, RunContext
from zoo.serving.translator import Translator
from zoo.visualize.seq2seq_attention import plot_attention

DECODING_PARAMS = {
    "beam_width": Param(5, "beam width of the exported model and of the beam-search scores (1 = greedy)"),
    "alpha": Param(0.7, "beam-search length normalisation: score = log P / T ** alpha"),
    "samples": Param(10, "test sentences written to samples.tsv"),
    "heatmaps": Param(3, "attention heat maps (PNG) of test sentences"),
}
ANKI_PARAMS = {
    "pairs": Param(
        "",
        "an Anki pair file (zip or txt: english<TAB>other[<TAB>attribution]); "
        "default: the book's anki/cmn-eng.zip in the data directory",
        type=str,
    ),
    "num_samples": Param(10000, "use the first N pairs of the file, as the book (0 = all)"),
    "test_size": Param(1000, "test pairs (a seeded sample); dev is 10% of the rest"),
    "max_source_length": Param(0, "source tokens kept (0 = the longest training sentence)"),
    "max_target_length": Param(0, "target tokens kept (0 = the longest training sentence)"),
}
ATTENTION_PARAMS = {
    "cell": Param("gru", "encoder and decoder cell", choices=CELLS),
    "attention": Param(
        "additive",
        "attention score (additive = Bahdanau), or none for the same model without attention",
        choices=ATTENTIONS,
    ),
    "input_feeding": Param(True, "feed the attentional vector into the next decoder step"),
    "embedding_dim": Param(128, "embedding size"),
    "units": Param(256, "decoder units = encoder output size (units // 2 per direction)"),
    "vocab_size": Param(0, "maximum vocabulary per side, special tokens included (0 = all)"),
    "dropout": Param(0.2, "dropout on the embeddings"),
    "learning_rate": Param(1e-3, "Adam learning rate"),
}


def check_params(hp: HParams) -> None:
    """Values the registry's types cannot rule out, refused before any data is read."""
    if hp.beam_width < 1:
        raise UserError(f"--set beam_width={hp.beam_width}: expected >= 1 (1 = greedy)")
    if hp.alpha < 0:
        raise UserError(f"--set alpha={hp.alpha}: expected >= 0")
    if hasattr(hp, "attention") and (hp.units < 2 or hp.units % 2):
        raise UserError(f"--set units={hp.units}: expected an even number >= 2 (units // 2 per encoder direction)")
    for key in ("num_samples", "test_size", "max_source_length", "max_target_length", "vocab_size"):
        if getattr(hp, key, 0) < 0:
            raise UserError(f"--set {key}={getattr(hp, key)}: expected >= 0")


def record_split(ctx: RunContext, splits, source: str) -> None:
    if ctx.is_chief:
        record = {
            "source": source,
            "indices": "0-based positions among the file's pairs (blank lines skipped)",
            **{name: split.indices for name, split in splits.items()},
        }
        (ctx.run_dir / "split.json").write_text(json.dumps(record))


def datasets(hp: HParams, info: translation.Seq2SeqInfo) -> Data:
    splits = info.splits
    make = translation.make_dataset
    return Data(
        train=make(info, splits["train"].pairs, batch_size=hp.batch_size, shuffle=True, seed=hp.seed),
        validation=make(info, splits["dev"].pairs, batch_size=hp.batch_size),
        test=make(info, splits["test"].pairs, batch_size=hp.batch_size),
        info=info,
    )


def anki_data(level: str, require_pairs: bool = False):
    def data(hp: HParams, ctx: RunContext) -> Data:
        check_params(hp)
        if require_pairs and not hp.pairs:
            raise UserError(
                "this recipe needs --set pairs=PATH (an Anki pair file such as fra-eng.zip; "
                "seq2seq_attention_cmn uses the book's English-Chinese file)"
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
            max_tokens=getattr(hp, "vocab_size", 0) or None,
        )
        return datasets(hp, info)

    return data


def title_data(hp: HParams, ctx: RunContext) -> Data:
    check_params(hp)
    pairs = translation.read_titles(translation.titles_path(ctx.data_dir))
    splits = translation.split_pairs(pairs, seed=hp.seed, test_size=hp.test_size, test_last=True)
    record_split(ctx, splits, str(translation.titles_path(ctx.data_dir)))
    info = translation.make_info(
        splits,
        level="word",
        max_source_length=hp.max_source_length,
        max_target_length=hp.max_target_length,
        max_tokens=hp.vocab_size or None,
        shared_vocabulary=True,
    )
    return datasets(hp, info)


def char_model(hp: HParams, data: Data):
    info = data.info
    model = seq2seq.build_char_seq2seq(
        source_vocab_size=info.source_vocab_size, target_vocab_size=info.target_vocab_size, units=hp.units
    )
    return seq2seq.compile_seq2seq(model, "rmsprop", learning_rate=hp.learning_rate)


def attention_model(hp: HParams, data: Data):
    info = data.info
    model = seq2seq.build_attention_seq2seq(
        source_vocab_size=info.source_vocab_size,
        target_vocab_size=info.target_vocab_size,
        embedding_dim=hp.embedding_dim,
        units=hp.units,
        cell=hp.cell,
        attention=hp.attention,
        input_feeding=hp.input_feeding,
        shared_embedding=info.source_vectorizer is info.target_vectorizer,
        dropout=hp.dropout,
    )
    return seq2seq.compile_seq2seq(model, "adam", learning_rate=hp.learning_rate)


def make_translator(hp: HParams, data: Data, model, beam_width: int) -> Translator:
    info = data.info
    return Translator(
        model,
        info.source_vectorizer,
        info.target_vocabulary,
        separator=info.separator,
        max_source_length=info.max_source_length,
        max_output_length=info.max_target_length + 1,
        beam_width=beam_width,
        alpha=hp.alpha,
    )


def serve_strings(hp: HParams, data: Data, model):
    return make_translator(hp, data, model, hp.beam_width)


def scored_pairs(hp: HParams, data: Data, ctx: RunContext) -> list[tuple[str, str]]:
    """The test pairs a report scores: all of them, or as many as a smoke run (`max_steps`) evaluates."""
    test = data.info.splits["test"].pairs
    return test if ctx.max_steps is None else test[: ctx.max_steps * hp.batch_size]


def text_scores(outputs: list[str], references: list[str], *, language: str, prefix: str) -> dict[str, float]:
    """`{prefix}bleu`, `{prefix}chrf` (sacrebleu) and `{prefix}rougeL` of outputs against one reference each."""
    return {
        **bleu.scores(outputs, references, language=language, prefix=prefix),
        f"{prefix}rougeL": rouge.rouge_l(outputs, references, language=language),
    }


def translation_report(hp: HParams, data: Data, model, ctx: RunContext) -> dict:
    info = data.info
    test = scored_pairs(hp, data, ctx)
    sources, references = [s for s, _ in test], [t for _, t in test]
    metrics: dict = {"test_sentences": len(test)}
    outputs = {}
    for name, width in (("greedy", 1), (f"beam{hp.beam_width}", hp.beam_width)):
        outputs[name] = make_translator(hp, data, model, width).translate(sources)
        metrics.update(text_scores(outputs[name], references, language=info.target_language, prefix=f"{name}_"))
    if not ctx.is_chief:
        return metrics
    with open(ctx.run_dir / "samples.tsv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["source", "reference", *outputs])
        for i in range(min(hp.samples, len(test))):
            writer.writerow([sources[i], references[i], *(o[i] for o in outputs.values())])
    if getattr(hp, "attention", "none") != "none" and hp.heatmaps:
        translator = make_translator(hp, data, model, hp.beam_width)
        for i, sentence in enumerate(sources[: hp.heatmaps]):
            plot_attention(translator, sentence, ctx.run_dir / f"attention_{i}.png")
    return metrics


def baseline_titles(train, abstracts) -> dict[str, list[str]]:
    """Titles written without a model, the bar a title generator has to clear.

    `lead`: the abstract's first N words, N = the median length in words of the training titles.
    `nearest`: the title of the training paper whose abstract is the most similar (TF-IDF cosine,
    scikit-learn, English stop words out). A generator that scores below these has learnt little
    from the abstract.

    Args:
        train: training `(abstract, title)` pairs.
        abstracts: the abstracts to title.

    Returns:
        `{"lead": [...], "nearest": [...]}`, one title per abstract.

    Example:

    >>> baseline_titles([("cats purr softly", "On Cats"), ("dogs bark loudly", "On Dogs")], ["loud dogs"])
    {'lead': ['loud dogs'], 'nearest': ['On Dogs']}
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = int(np.median([len(title.split()) for _, title in train]))
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    known = tfidf.fit_transform([abstract for abstract, _ in train])
    nearest = (tfidf.transform(list(abstracts)) @ known.T).toarray().argmax(axis=1)
    return {
        "lead": [" ".join(abstract.split()[:n]) for abstract in abstracts],
        "nearest": [train[i][1] for i in nearest],
    }


def title_report(hp: HParams, data: Data, model, ctx: RunContext) -> dict:
    """`translation_report`, plus the BLEU, chrF and ROUGE-L of `baseline_titles` on the same papers."""
    metrics = translation_report(hp, data, model, ctx)
    test = scored_pairs(hp, data, ctx)
    references = [title for _, title in test]
    for name, titles in baseline_titles(data.info.splits["train"].pairs, [a for a, _ in test]).items():
        metrics.update(text_scores(titles, references, language=data.info.target_language, prefix=f"baseline_{name}_"))
    return metrics


def char_report(hp: HParams, data: Data, model, ctx: RunContext) -> dict:
    metrics = translation_report(hp, data, model, ctx)
    # keras.io's "character accuracy": teacher-forced next-character accuracy (here over real
    # characters only, padding excluded; keras.io also counts its space padding).
    scores = model.evaluate(data.test, return_dict=True, verbose=0)
    metrics["test_char_accuracy"] = float(scores["accuracy"])
    return metrics
