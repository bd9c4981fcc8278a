"""Attention heat maps of chapters 10-12's encoder-decoders: output tokens (rows) x source tokens (columns).

A recurrent decoder has one map per sentence; a Transformer has one per layer and head (its
cross-attention), drawn as a grid of panels: a row per layer, a column per head.

Only `matplotlib.figure.Figure` is used (no `pyplot`), so importing this module has no global side
effects and it works without a display. Chinese labels need a CJK font: an installed one is found
if there is one (`font_path=` names another).
"""

from __future__ import annotations

import re
import warnings

import keras
import numpy as np
import tensorflow as tf
from matplotlib import font_manager
from matplotlib.figure import Figure

from zoo.serving.translator import Translator

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Arial Unicode MS",
)


def _cjk_font():
    """An installed font that has Chinese glyphs, or None (labels then fall back to matplotlib's default)."""
    for family in _CJK_FONTS:
        try:
            return font_manager.FontProperties(fname=font_manager.findfont(family, fallback_to_default=False))
        except ValueError:
            continue
    return None


def attention_figure(
    source_tokens,
    output_tokens,
    weights,
    *,
    title: str = "",
    font_path: str | None = None,
    p_gen=None,
    copy_share=None,
):
    """A heat map of attention weights: output tokens (rows) x source tokens (columns).

    For a copying model (`p_gen`, `copy_share` given) each row label ends with the step's p_gen,
    and words written mostly by copying (copy share > 1/2) are marked `[copied]` and drawn in red.

    Args:
        source_tokens: source token strings (padding `""` is dropped with its columns).
        output_tokens: output token strings (trailing `""` dropped with their rows).
        weights: `(len(output_tokens), len(source_tokens))` array (padding rows/columns allowed), or
            `(layers, heads, len(output_tokens), len(source_tokens))` for a grid of panels.
        title: figure title.
        font_path: a font file with the glyphs of the labels (e.g. a Noto CJK font for Chinese);
            by default an installed CJK font is used if one is found.
        p_gen: per output token, the probability of generating rather than copying.
        copy_share: per output token, the share of its probability that came from copying.

    Returns:
        A `matplotlib.figure.Figure` (no pyplot state); save it with `fig.savefig(path)`.
    """

    def text(tokens):
        return [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in tokens]

    source, output = text(source_tokens), text(output_tokens)
    cols = [j for j, t in enumerate(source) if t]
    rows = [i for i, t in enumerate(output) if t]
    copied = set() if copy_share is None else {i for i in rows if copy_share[i] > 0.5 and output[i] != "</s>"}
    if p_gen is not None:
        output = [f"{t}{' [copied]' if i in copied else ''}  p_gen {p_gen[i]:.2f}" for i, t in enumerate(output)]
    weights = np.asarray(weights, dtype="float32")
    grid = weights.reshape((1, 1, *weights.shape)) if weights.ndim == 2 else weights
    n_layers, n_heads = grid.shape[:2]
    font = font_manager.FontProperties(fname=font_path) if font_path else _cjk_font()
    panel = (1.0 + 0.45 * max(len(cols), 4), 1.0 + 0.4 * max(len(rows), 4))
    fig = Figure(figsize=(panel[0] * n_heads, panel[1] * n_layers))
    with warnings.catch_warnings():  # without a CJK font, Chinese labels are boxes: said once below
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        axes = fig.subplots(n_layers, n_heads, squeeze=False)
        for layer in range(n_layers):
            for head in range(n_heads):
                matrix = grid[layer, head][np.ix_(rows, cols)] if rows and cols else np.zeros((1, 1))
                label = f"layer {layer + 1}, head {head + 1}" if weights.ndim == 4 else title
                ax = axes[layer, head]
                _draw(fig, ax, matrix, [source[j] for j in cols], [output[i] for i in rows], label, font)
                for tick, i in zip(ax.get_yticklabels(), rows):
                    if i in copied:
                        tick.set_color("red")
        if title and weights.ndim == 4:
            fig.suptitle(title, fontproperties=font)
        fig.tight_layout()
    if font is None and any(_HAN.search(t) for t in source + output):
        # short enough for the narrowest map (a 3-token sentence): a longer line was cut off
        fig.text(0.01, 0.01, "no CJK font: pass font_path= for Chinese", fontsize=7)
    return fig


_HAN = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\u3000-\u303f\uff00-\uffef]")


def _draw(fig, ax, matrix, columns, rows, title, font):
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontproperties=font)
    ax.set_yticks(range(len(rows)), rows, fontproperties=font)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, fontproperties=font)
    fig.colorbar(image, ax=ax, fraction=0.046)


def plot_attention(translator, sentence: str, path=None, **kwargs):
    """The attention heat map of one sentence, from a `Translator` or an exported SavedModel folder.

    Args:
        translator: a `Translator`, or the path of its SavedModel (`attention` endpoint, loaded
            with `keras.layers.TFSMLayer`; no zoo code needed at the other end).
        sentence: the source sentence.
        path: if given, the PNG is written there.
        **kwargs: passed to `attention_figure` (`font_path`, `title`).

    Returns:
        The `matplotlib.figure.Figure`.
    """
    out = _endpoint(translator, sentence)
    kwargs.setdefault("title", sentence[:100])
    extra = {k: out[k] for k in ("p_gen", "copy_share") if k in out}
    fig = attention_figure(out["source_tokens"], out["output_tokens"], out["weights"], **extra, **kwargs)
    return _save(fig, path)


def _save(fig, path):
    if path is not None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            fig.savefig(path, dpi=100)
    return fig


def _endpoint(translator, sentence: str) -> dict:
    if isinstance(translator, Translator):
        out = translator.attention(tf.constant([sentence]))
    else:
        out = keras.layers.TFSMLayer(str(translator), call_endpoint="attention")(tf.constant([sentence]))
    return {k: v.numpy()[0] for k, v in out.items()}


def p_gen_figure(output_tokens, p_gen, copy_share, *, title: str = ""):
    """Bars of a copying model's p_gen (generate, not copy) per output word; copied words in red.

    Args:
        output_tokens: output token strings (`""` padding dropped), ending with `"</s>"`.
        p_gen: per token, the probability of generating from the vocabulary.
        copy_share: per token, the share of its probability that came from copying (> 1/2: red).
        title: figure title.
    """
    tokens = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in output_tokens]
    keep = [i for i, t in enumerate(tokens) if t]
    fig = Figure(figsize=(1.0 + 0.45 * max(len(keep), 4), 3.2))
    ax = fig.subplots()
    colours = ["tab:red" if copy_share[i] > 0.5 and tokens[i] != "</s>" else "tab:blue" for i in keep]
    ax.bar(range(len(keep)), [float(p_gen[i]) for i in keep], color=colours)
    ax.set_xticks(range(len(keep)), [tokens[i] for i in keep], rotation=60, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("p_gen")
    ax.set_title(title or "p_gen per output word (red: copied)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_p_gen(translator, sentence: str, path=None):
    """`p_gen_figure` of one source sentence, from a copying `Translator` or its SavedModel folder."""
    out = _endpoint(translator, sentence)
    if "p_gen" not in out:
        raise ValueError("this model does not copy: its attention endpoint has no p_gen")
    return _save(p_gen_figure(out["output_tokens"], out["p_gen"], out["copy_share"]), path)
