"""What the title recipes of chapter 11 share (`title_generation`, `title_pointer`): the course's
abstract -> title data with the author's split, the titles written without a model, and the report.

Not a chapter: it registers nothing. The model, serving and decoding are chapter 10's
(`zoo.recipes.seq2seq`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.data import translation
from zoo.data.pipelines import Data
from zoo.data.translation import Seq2SeqInfo
from zoo.metrics import rouge
from zoo.recipes.base import HParams, RunContext
from zoo.recipes.seq2seq import (
    check_units,
    datasets,
    decoded_report,
    make_translator,
    record_split,
    scored_pairs,
    text_scores,
    write_heatmaps,
)
from zoo.visualize.seq2seq_attention import plot_p_gen


def title_data(hp: HParams, ctx: RunContext) -> Data[Seq2SeqInfo]:
    check_units(hp)
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
    return datasets(hp, info, ctx, copy=hp.copy)


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


def title_scores(titles: list[str], references: list[str], *, prefix: str) -> dict:
    """ROUGE-1 and ROUGE-2 F1 (`zoo.metrics.rouge`, as ROUGE-L) and how many of the titles are distinct,
    `{prefix}rouge1`, `{prefix}rouge2`, `{prefix}distinct`."""
    scores = rouge.rouge_scores(titles, references, kinds=("rouge1", "rouge2"))
    return {
        **{f"{prefix}{k}": v for k, v in scores.items()},
        f"{prefix}distinct": len({t.strip().lower() for t in titles}),
    }


def copy_report(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext) -> dict:
    """How a copying model wrote its greedy test titles, from the `attention` endpoint's `p_gen` and `copy_share`.

    `greedy_mean_p_gen`: the mean generation probability over the output words (end tokens
    included); `greedy_copied_share`: the share of output words whose probability came mostly
    (> 1/2) from copying; `greedy_oov_words`: output words outside the vocabulary (only copying can
    write them). Draws `p_gen_{i}.png` for the first `heatmaps` test abstracts.
    """
    translator = make_translator(hp, data, model, 1)
    test = scored_pairs(hp, data, ctx)
    vocabulary = set(data.info.target_vocabulary)
    p_gen, copied, oov, words = [], 0, 0, 0
    for i in range(0, len(test), 50):
        out = translator.attention(tf.constant([a for a, _ in test[i : i + 50]]))
        for tokens, gen, share in zip(*(out[k].numpy() for k in ("output_tokens", "p_gen", "copy_share"))):
            real = [j for j, t in enumerate(tokens) if t]
            p_gen.extend(gen[real].tolist())
            written = [j for j in real if tokens[j] != b"</s>"]
            words += len(written)
            copied += int(np.sum(share[written] > 0.5))
            oov += sum(tokens[j].decode("utf-8") not in vocabulary for j in written)
    if ctx.is_chief:
        for i, (abstract, _) in enumerate(test[: hp.heatmaps]):
            plot_p_gen(translator, abstract, ctx.run_dir / f"p_gen_{i}.png")
    return {
        "greedy_mean_p_gen": float(np.mean(p_gen)) if p_gen else float("nan"),
        "greedy_copied_share": copied / max(words, 1),
        "greedy_oov_words": oov,
    }


def title_report(hp: HParams, data: Data[Seq2SeqInfo], model, ctx: RunContext) -> dict:
    """`attention_report`, plus the BLEU, chrF and ROUGE-L of `baseline_titles` on the same papers.

    Also ROUGE-1/2 and the number of distinct titles (`title_scores`) of the model's and the
    baselines' titles, and `copy_report` for a copying model.
    """
    metrics, outputs = decoded_report(hp, data, model, ctx)
    if hp.attention != "none":
        write_heatmaps(hp, data, model, ctx)
    test = scored_pairs(hp, data, ctx)
    references = [title for _, title in test]
    for name, titles in outputs.items():
        metrics.update(title_scores(titles, references, prefix=f"{name}_"))
    for name, titles in baseline_titles(data.info.splits["train"].pairs, [a for a, _ in test]).items():
        metrics.update(text_scores(titles, references, info=data.info, prefix=f"baseline_{name}_"))
        metrics.update(title_scores(titles, references, prefix=f"baseline_{name}_"))
    if hp.copy:
        metrics.update(copy_report(hp, data, model, ctx))
    return metrics
