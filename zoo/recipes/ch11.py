"""Chapter 11 recipes: the self-attentive sentence embedding (Lin et al. 2017), the chapter's custom
regularizers, losses and metric (section 11.3), and title generation.

`title_generation` (the course author's title_generate): abstract -> title on the course's 1,630
papers, BiGRU encoder, GRU decoder with the "general" score and input feeding, shared embeddings,
the last 100 papers as test; it shares its pieces with chapter 10 through `zoo.recipes.seq2seq` (its data and report:
`zoo.recipes.titles`).
`title_pointer` (issue 26) is the same task with a pointer-generator decoder and coverage (See et
al. 2017: it copies abstract words, out-of-vocabulary ones by their string), early stopping and a
clipped gradient; `--set copy=false` is the same model without copying.

Four recipes share one model (`zoo.models.self_attentive`): `self_attentive_mr` (rt-polarity, the
book's split, like `lstm_mr`), `self_attentive_r8`, `self_attentive_imdb` and
`self_attentive_profiling` (the book's PAN 2013 age-group task, `zoo.data.pan_profiling`).
Defaults follow the author's code: d_a 30, r 50, embedding 50, BiLSTM 200 per direction,
vocabulary 5,000, penalty coefficient 1, MLP 128, except the hops of the three public-data recipes:
the author's r = 50 is for 1,000-token author profiles, and `self_attentive_mr` (sentences of 22
tokens on average), `self_attentive_r8` (median 45 tokens) and `self_attentive_imdb` use r = 10.
The squared penalty starts near r (uniform attention) against a cross-entropy of 0.69, and with more
hops than tokens its target A A^T = I cannot be reached (r one-hot rows over n < r tokens must share
tokens): with r = 50 the model never learns rt-polarity's labels (dev accuracy 0.536; 0.521 with
r = 30, 0.753 with r = 10) and forgets IMDB's after one epoch (0.50 training accuracy; 0.742 test
accuracy with r = 10). `--set hops=50` restores the author's value.

The same three recipes also stop the penalty's gradient at the attention weights
(`penalty_gradient=attention`: the penalty trains W_s1 and W_s2, not the BiLSTM; its value is the
same). With Lin et al.'s full gradient the penalty reshapes the encoder's states to make each hop
one-hot, and the classifier loses the labels while the penalty falls: IMDB training accuracy 0.83 ->
0.72, test 0.742, R8 test 0.863 (macro F1 0.50). With the penalty on the attention only: IMDB 0.846,
R8 0.961 (macro F1 0.89), rt-polarity 0.765 (0.753), and the hops still attend to different tokens
(overlap 0.24 on rt-polarity, 0.98 without the penalty). `--set penalty_gradient=all` is the paper's.
RESULTS.md, chapter 11, has the runs.

Section 11.3 switches: `--set regularizer=l1_activity` (a regulariser *function*) or
`--set regularizer=orthogonal` (a `Regularizer` subclass) on the classifier's hidden layer, and
`--set label_smoothing=0.1` (the `Loss` subclass `zoo.losses.SmoothedSparseCrossentropy`); the
custom metric `zoo.metrics.classification.MacroF1` is logged for the multi-class sets, and the
attention penalty is the `add_loss` example (`--set penalty=0` turns it off; it is still measured).

A run also writes `attention/` (a PNG per test sentence and `attention.html`) and records
`attention_overlap` (Lin et al. section 4.4: how much the hops attend to the same tokens) and the
penalty of every epoch in `metrics.json`.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.data import pan_profiling
from zoo.data.pipelines import Data
from zoo.data.text import TextInfo, classification_data
from zoo.layers.self_attention import SelfAttention
from zoo.layers.seq2seq_decoder import ATTENTIONS
from zoo.models.self_attentive import (
    attend,
    build_self_attentive_classifier,
    compile_self_attentive,
    mean_pairwise_overlap,
)
from zoo.recipes.base import HParams, Param, Recipe, RunContext, register
from zoo.recipes.han import HAN_PARAMS, han_imdb_data, han_model, han_report, han_serving
from zoo.recipes.seq2seq import ATTENTION_PARAMS, DECODING_PARAMS, attention_model, serve_strings
from zoo.recipes.text_classification import (
    MR_SPLIT_PARAMS,
    TEXT_PARAMS,
    VECTORS_PARAM,
    imdb_data,
    mr_data,
    r8_data,
    using_vectors,
    vectors_report,
    with_vectors,
)
from zoo.recipes.titles import title_data, title_report
from zoo.regularizers import REGULARIZERS
from zoo.serving.self_attentive import SelfAttentiveServing
from zoo.visualize.attention_maps import write_attention_maps

OVERLAP_SAMPLE = 500  # evaluation texts whose attention rows are compared (attention_overlap)

_PARAMS = {
    **TEXT_PARAMS,
    "vocab_size": Param(5000, "vocabulary size incl. padding and OOV (the author's code: 5000)"),
    "embedding_dim": Param(
        50, "embedding size (the author's code: 50; taken from the vectors file when given, e.g. 100 for GloVe 100d)"
    ),
    "vectors": VECTORS_PARAM,
    "freeze_vectors": Param(False, "keep the pre-trained vectors fixed (default: fine-tune them)"),
    "units": Param(200, "LSTM units per direction (H has 2u features)"),
    "hops": Param(50, "r, attention hops (the author's code: 50; Lin et al.: 30)", minimum=1),
    "attention_units": Param(30, "d_a, hidden size of the attention MLP", minimum=1),
    "penalty": Param(1.0, "coefficient of the penalty ||AA^T - I||_F^2 (0 = off; it is still measured)", minimum=0.0),
    "penalty_gradient": Param(
        "all",
        "what the penalty trains: all (Lin et al.: the encoder too) or attention (only W_s1, W_s2)",
        choices=SelfAttention.PENALTY_GRADIENTS,
    ),
    "optimizer": Param(
        "adam",
        "adam (the author's code) or sgd (Lin et al., with --set learning_rate=0.06 clipnorm=0.5)",
        choices=("adam", "sgd"),
    ),
    "clipnorm": Param(0.0, "global gradient-norm clip, 0 = none (Lin et al.: 0.5)", minimum=0.0),
    "dense_units": Param(128, "hidden units of the classifier MLP on the flattened M"),
    "dropout": Param(0.5, "dropout before the output layer (Lin et al.: 0.5)"),
    "regularizer": Param(
        "none",
        "chapter 11.3: l1_activity (a function) or orthogonal (a Regularizer subclass) on the hidden layer",
        choices=REGULARIZERS,
    ),
    "label_smoothing": Param(
        0.0,
        "chapter 11.3: label smoothing of the cross-entropy (a Loss subclass)",
        minimum=0.0,
        maximum=1.0,
        exclusive_maximum=True,
    ),
    "maps": Param(6, "test sentences drawn as attention maps (PNG each, plus attention.html)"),
    "epochs": 10,
    "batch_size": 32,
}


def _profiling_data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
    """PAN 2013 authors, the author's split (seed-10 permutation, the last `dev_size` as dev)."""
    texts, labels, names = pan_profiling.load(ctx.data_dir, hp.corpus, hp.target)
    train, dev = pan_profiling.book_split(len(texts), hp.dev_size)
    pick = lambda idx: ([texts[i] for i in idx], labels[idx])  # noqa: E731
    data = classification_data(
        pick(train),
        validation=pick(dev),
        class_names=names,
        vocab_size=hp.vocab_size,
        sequence_length=hp.sequence_length,
        batch_size=hp.batch_size,
        seed=hp.seed,
    )
    return with_vectors(data, hp.vectors, seed=hp.seed)


def _model(hp: HParams, data: Data[TextInfo]) -> keras.Model:
    info = data.info
    model = build_self_attentive_classifier(
        vocab_size=info.vocab_size,
        sequence_length=info.sequence_length,
        num_classes=info.num_classes,
        embedding_dim=hp.embedding_dim,
        vectors=info.vectors,
        freeze_vectors=hp.freeze_vectors,
        units=hp.units,
        hops=hp.hops,
        attention_units=hp.attention_units,
        penalty=hp.penalty,
        dense_units=hp.dense_units,
        dropout=hp.dropout,
        regularizer=hp.regularizer,
        penalty_gradient=hp.penalty_gradient,
    )
    return compile_self_attentive(
        model,
        num_classes=info.num_classes,
        learning_rate=hp.learning_rate,
        label_smoothing=hp.label_smoothing,
        optimizer=hp.optimizer,
        clipnorm=hp.clipnorm,
    )


def _serving(hp: HParams, data: Data[TextInfo], model: keras.Model) -> keras.Model:
    """Raw strings in: `serve` -> probabilities, `attention` -> probabilities, tokens, hop-summed weights."""
    return SelfAttentiveServing(data.info.vectorizer, model)


def _evaluation(data: Data[TextInfo]) -> tuple[list[str], np.ndarray]:
    """Raw texts and labels of the test split (else validation), in order."""
    split, ds = ("test", data.test) if data.test is not None else ("validation", data.validation)
    texts = list(data.info.texts.get(split) or [])
    if ds is None or not texts:
        return [], np.zeros(0, "int32")
    labels = np.concatenate([np.asarray(y).reshape(-1) for _, y in ds])
    return texts[: len(labels)], labels  # a --max-steps run evaluates fewer batches


def _report(hp: HParams, data: Data[TextInfo], model: keras.Model, ctx: RunContext) -> dict:
    """Attention maps, the hops' overlap on evaluation texts, the penalty per epoch, vector coverage."""
    report = vectors_report(hp, data, model, ctx)
    texts, labels = _evaluation(data)
    if texts:
        sample = attend(model, data.info.vectorizer, texts[:OVERLAP_SAMPLE])
        report["attention_overlap"] = mean_pairwise_overlap(sample["attention"], sample["mask"])
        report["attention_overlap_texts"] = len(sample["attention"])
        count = min(hp.maps, len(texts))
        if ctx.is_chief and count:
            maps = write_attention_maps(
                ctx.run_dir / "attention",
                texts[:count],
                sample["tokens"][:count],
                sample["attention"][:count],
                sample["probabilities"][:count],
                labels[:count].tolist(),
                data.info.class_names,
            )
            report["attention_maps"] = [str(p.relative_to(ctx.run_dir)) for p in [*maps["pngs"], maps["html"]]]
    if ctx.history is not None:  # None with --evaluate-only
        for column in ("attention_penalty", "val_attention_penalty"):
            if column in ctx.history:
                report[f"{column}_per_epoch"] = [round(float(v), 6) for v in ctx.history[column]]
    return report


# Few hops, so that the penalty can reach 0 and does not swamp the cross-entropy (module docstring).
_FEW_HOPS = Param(
    10,
    "r, attention hops (the author's code: 50, for 1000-token texts; with 50 the penalty swamps the loss here)",
    minimum=1,
)
# The penalty's gradient into the BiLSTM makes the model forget the labels (module docstring).
_PENALTY_ON_ATTENTION = Param(
    "attention",
    "what the penalty trains: attention (only W_s1, W_s2; default here) or all (Lin et al.: the encoder too)",
    choices=SelfAttention.PENALTY_GRADIENTS,
)
_PUBLIC = {"hops": _FEW_HOPS, "penalty_gradient": _PENALTY_ON_ATTENTION}
_MR = {**_PARAMS, **MR_SPLIT_PARAMS, **_PUBLIC}
_R8 = {**_PARAMS, "sequence_length": Param(300, "tokens per document"), **_PUBLIC}
_IMDB = {
    **_PARAMS,
    **_PUBLIC,
    "vocab_size": Param(20000, "vocabulary size (IMDB needs more than 5000)"),
    "sequence_length": Param(400, "tokens per review"),
    "epochs": 4,
    "batch_size": 64,
}
_PROFILING = {
    **_PARAMS,
    "sequence_length": Param(1000, "tokens per author (the author's code: 1000)"),
    "corpus": Param("", "the JSON-lines file (default DATA_DIR/pan13/author-profile.json)", type=str),
    "target": Param("age_group", "what to predict", choices=pan_profiling.TARGETS),
    "dev_size": Param(
        pan_profiling.BOOK_DEV_SIZE,
        "authors held out as dev (the author's code: the last 1000 of a seed-10 permutation)",
        minimum=1,
    ),
    "epochs": 20,
}

register(
    Recipe(
        name="self_attentive_mr",
        chapter=11,
        dataset="rt-polarity",
        summary="self-attentive sentence embedding (BiLSTM + r-hop attention, penalty) on sentence polarity",
        hparams=_MR,
        data=using_vectors(mr_data),
        model=_model,
        serving=_serving,
        report=_report,
        monitor="val_accuracy",
    )
)
register(
    Recipe(
        name="self_attentive_r8",
        chapter=11,
        dataset="r8",
        summary="self-attentive sentence embedding on Reuters R8 (8 classes, macro F1)",
        hparams=_R8,
        data=using_vectors(r8_data),
        model=_model,
        serving=_serving,
        report=_report,
    )
)
register(
    Recipe(
        name="self_attentive_imdb",
        chapter=11,
        dataset="imdb",
        summary="self-attentive sentence embedding on the 25k/25k IMDB reviews, raw text in",
        hparams=_IMDB,
        data=using_vectors(imdb_data),
        model=_model,
        serving=_serving,
        report=_report,
    )
)
register(
    Recipe(
        name="self_attentive_profiling",
        chapter=11,
        dataset="PAN 2013 author profiling",
        summary="self-attentive embedding predicting an author's age group (the book's PAN 2013 task; bring the "
        "corpus)",
        hparams=_PROFILING,
        data=_profiling_data,
        model=_model,
        serving=_serving,
        report=_report,
        monitor="val_accuracy",
    )
)


# --- title generation (the course author's title_generate): abstract -> title --------------------

register(
    Recipe(
        name="title_generation",
        chapter=11,
        dataset="titles (course)",
        summary="abstract -> title: BiGRU encoder, GRU decoder, general attention, shared embeddings; last 100 as test",
        hparams={
            **ATTENTION_PARAMS,
            **DECODING_PARAMS,
            "attention": Param(
                "general", "attention score (the author's code: Luong's general), or none", choices=ATTENTIONS
            ),
            "vocab_size": Param(5000, "shared vocabulary size (the author's code: 5000)"),
            "embedding_dim": Param(100, "shared embedding size (the author's code: 100)"),
            "units": Param(500, "decoder units = encoder output size (the author's code: hidden 500)"),
            "max_source_length": Param(150, "abstract tokens kept (the author's code: 150)"),
            "max_target_length": Param(20, "title tokens (the author's code: 20)"),
            "test_size": Param(100, "the last N papers are the test set (the author's code: 100)", minimum=1),
            "samples": Param(5, "test titles written to samples.tsv"),
            "epochs": 100,
            "batch_size": 32,
        },
        data=title_data,
        model=attention_model,
        serving=serve_strings,
        report=title_report,
    )
)


# --- title_pointer (issue 26): the title generator with a pointer-generator decoder and coverage ----

register(
    Recipe(
        name="title_pointer",
        chapter=11,
        dataset="titles (course)",
        summary="abstract -> title with a copying (pointer-generator) decoder and coverage; title_generation's split",
        hparams={
            **ATTENTION_PARAMS,
            **DECODING_PARAMS,
            "copy": Param(True, "pointer-generator decoder (false: title_generation's decoder at these sizes)"),
            "vocab_size": Param(
                5000, "shared vocabulary size (as title_generation); other words can only be copied", minimum=5
            ),
            "embedding_dim": Param(128, "shared embedding size", minimum=1),
            "units": Param(256, "decoder units (the encoder: units // 2 per direction)", minimum=2),
            "max_source_length": Param(150, "abstract tokens kept (the author's code: 150)", minimum=1),
            "max_target_length": Param(20, "title tokens (the author's code: 20)", minimum=1),
            "test_size": Param(100, "the last N papers are the test set (as title_generation)", minimum=1),
            "clipnorm": Param(2.0, "clip the gradient's global norm (title_generation diverged without)", minimum=0.0),
            "samples": Param(5, "test titles written to samples.tsv", minimum=0),
            "epochs": 30,
            "patience": 3,
            "batch_size": 32,
        },
        data=title_data,
        model=attention_model,
        serving=serve_strings,
        report=title_report,
    )
)


# --- the hierarchical attention network (Yang et al. 2016), among the chapter's attention models ----

register(
    Recipe(
        name="han_imdb",
        chapter=11,
        dataset="imdb",
        summary="hierarchical attention network (word then sentence BiGRU + attention) on IMDB, sentences split "
        "from raw text in the graph",
        hparams=HAN_PARAMS,
        data=han_imdb_data,
        model=han_model,
        serving=han_serving,
        report=han_report,
    )
)
