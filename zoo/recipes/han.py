"""The hierarchical attention network's recipe pieces (Yang et al. 2016; chapter 11 registers `han_imdb`).

Not a chapter: it registers nothing. `HAN_PARAMS` are the hyper-parameters, `han_imdb_data` the
data (the zoo's 25k/25k IMDB split, as `cnn1d_imdb`, `lstm_imdb` and `self_attentive_imdb`, but
each review cut into sentences: `zoo.data.sentences`), `han_model`, `han_serving` (raw strings in,
both levels of attention out) and `han_report` (a picture per test review with both levels
highlighted, and one HTML page).

R8 is not offered: the zoo's R8 files are Cardoso-Cachopo's "no-stop" version, lower-cased with the
punctuation removed, so a document has no sentence boundary left to split on.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.data import imdb
from zoo.data.pipelines import Data
from zoo.data.sentences import SentenceInfo, hierarchical_data
from zoo.data.text import strip_html_lower_punct
from zoo.models.classifier import compile_classifier
from zoo.models.han import build_han_classifier, class_probabilities
from zoo.recipes.base import HParams, Param, RunContext
from zoo.serving.han import HanServing, explain
from zoo.visualize.hierarchical_attention import save_review_png, write_html

HAN_PARAMS = {
    "vocab_size": Param(20000, "vocabulary size incl. padding and OOV (adapted on the training reviews)"),
    "max_sentences": Param(16, "sentences kept per review, the first (IMDB: median 10, 75% have <= 15)", minimum=1),
    "max_words": Param(32, "words kept per sentence, the first (IMDB: median 16, 90% have <= 34)", minimum=1),
    "embedding_dim": Param(200, "word embedding size (Yang et al.: 200)"),
    "units": Param(50, "GRU units per direction, word and sentence level (Yang et al.: 50)"),
    "attention_units": Param(100, "size of the word and sentence context vectors (Yang et al.: 100)"),
    "dropout": Param(0.0, "dropout on the document vector (Yang et al.: none)"),
    "learning_rate": Param(1e-3, "Adam learning rate (Yang et al.: SGD with momentum 0.9)"),
    "maps": Param(6, "test reviews drawn with both levels of attention (PNG each, plus attention.html)"),
    "epochs": 2,
    "batch_size": 64,
}
"""`han_imdb`'s hyper-parameters: Yang et al.'s sizes, the zoo's Adam, IMDB's sentence budget.

16 x 32 keeps 77% of the training reviews' words (20 x 40 keeps 85% at 2.8x the time per step on
this CPU; 12 x 30, 67%). Two epochs, as the zoo's other IMDB recipes (keras.io's settings).
"""


def han_imdb_data(hp: HParams, ctx: RunContext) -> Data[SentenceInfo]:
    """IMDB train (the vocabulary adapted on it) and test, each review as `(max_sentences, max_words)` ids."""
    splits = imdb.load(ctx.data_dir)
    return hierarchical_data(
        splits["train"],
        test=splits["test"],
        vocab_size=hp.vocab_size,
        max_sentences=hp.max_sentences,
        max_words=hp.max_words,
        batch_size=hp.batch_size,
        seed=hp.seed,
        standardize=strip_html_lower_punct,
    )


def han_model(hp: HParams, data: Data[SentenceInfo]) -> keras.Model:
    info = data.info
    model = build_han_classifier(
        vocab_size=info.vocab_size,
        max_sentences=info.max_sentences,
        max_words=info.max_words,
        num_classes=info.num_classes,
        embedding_dim=hp.embedding_dim,
        units=hp.units,
        attention_units=hp.attention_units,
        dropout=hp.dropout,
    )
    return compile_classifier(model, num_classes=info.num_classes, learning_rate=hp.learning_rate)


def han_serving(hp: HParams, data: Data[SentenceInfo], model: keras.Model) -> keras.Model:
    """Raw strings in: `serve` -> probabilities; `attention` -> both levels of weights and their strings."""
    return HanServing(data.info.vectorizer, data.info.max_sentences, model)


def han_report(hp: HParams, data: Data[SentenceInfo], model: keras.Model, ctx: RunContext) -> dict:
    """`attention/NN.png` for the first `maps` test reviews (both levels highlighted) and `attention.html`."""
    all_texts = list(data.info.texts.get("test") or [])
    if not all_texts or not hp.maps or not ctx.is_chief:
        return {}
    all_labels = np.concatenate([np.asarray(y).reshape(-1) for y in data.test.map(lambda x, y: y)])
    all_texts = all_texts[: len(all_labels)]  # a --max-steps run has fewer test batches
    # IMDB's test split is sorted by label: take reviews from both ends, so both classes are drawn.
    ends = sorted({*range(min(hp.maps // 2, len(all_texts))), *range(len(all_texts))[-(hp.maps - hp.maps // 2) :]})
    texts, labels = [all_texts[i] for i in ends], all_labels[ends]
    rows = explain(HanServing(data.info.vectorizer, data.info.max_sentences, model).attention, texts)
    names = data.info.class_names
    out = ctx.run_dir / "attention"
    out.mkdir(parents=True, exist_ok=True)
    predicted, pngs = [], []
    for k, row in enumerate(rows):
        guess = int(np.argmax(class_probabilities(np.asarray([row["probabilities"]]))[0]))
        predicted.append(names[guess])
        title = f"review {k}: label {names[labels[k]]}, predicted {names[guess]} (p = {max(row['probabilities']):.2f})"
        if row["sentences"]:
            pngs.append(save_review_png(out / f"{k:02d}.png", row, title))
    page = write_html(out / "attention.html", rows, [names[y] for y in labels], predicted)
    return {"attention_maps": [str(p.relative_to(ctx.run_dir)) for p in [*pngs, page]]}
