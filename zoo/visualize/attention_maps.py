"""Attention maps of the chapter 11 self-attentive classifier, as in Lin et al. (2017), figures 2 and 3.

For each sentence a PNG with two panels: the hops x tokens matrix A (one row per hop) and the
weights summed over the hops (divided by r, so they sum to 1), and one HTML page that highlights each
sentence's tokens by that summed weight, with the true label and the predicted class and probability.

Only `matplotlib.figure.Figure` is used (no `pyplot`, no backend switch), so importing this module
has no global side effects and it works without a display.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def sentence_figure(tokens: Sequence[str], attention: np.ndarray, title: str = "") -> Figure:
    """Figure of one sentence: A `(hops, len(tokens))` as a heat map (0..1), and its hop mean below it."""
    attention = np.asarray(attention, "float64")
    if attention.ndim != 2 or attention.shape[1] != len(tokens):
        raise ValueError(f"attention must be (hops, {len(tokens)}), got {attention.shape}")
    hops, n = attention.shape
    summed = attention.mean(axis=0)
    width = min(max(4.0, 0.45 * n + 1.5), 30.0)
    fig = Figure(figsize=(width, 1.6 + 0.12 * hops + 1.2))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [max(hops, 2), 2]})
    # A on an absolute 0..1 scale (comparable across sentences and runs: diffuse hops look pale, sharp
    # ones dark); the hop mean relative to its largest weight, as the HTML highlights.
    image = top.imshow(attention, aspect="auto", cmap="Reds", vmin=0.0, vmax=1.0, interpolation="nearest")
    top.set_ylabel("hop")
    top.set_yticks(range(0, hops, max(1, hops // 10)))
    fig.colorbar(image, ax=top, fraction=0.025, pad=0.01)
    strip = bottom.imshow(summed[None, :], aspect="auto", cmap="Reds", vmin=0.0, interpolation="nearest")
    bottom.set_yticks([0], ["sum / r"])
    bottom.set_xticks(range(n), list(tokens), rotation=60, ha="right", fontsize=8)
    fig.colorbar(strip, ax=bottom, fraction=0.025, pad=0.01)
    if title:
        top.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def save_sentence_png(path: str | Path, tokens: Sequence[str], attention: np.ndarray, title: str = "") -> Path:
    """Write `sentence_figure` as a PNG."""
    path = Path(path)
    sentence_figure(tokens, attention, title).savefig(path, dpi=90)
    return path


def highlight_html(tokens: Sequence[str], weights: Sequence[float]) -> str:
    """Tokens as `<span>`s whose red background grows with their weight (relative to the sentence's largest)."""
    weights = np.asarray(weights, "float64")
    top = weights.max() if weights.size and weights.max() > 0 else 1.0
    return " ".join(
        f'<span style="background: rgba(220, 30, 30, {w / top:.3f})" title="{w:.4f}">{html.escape(t)}</span>'
        for t, w in zip(tokens, weights)
    )


def write_html(path: str | Path, rows: Sequence[dict], title: str = "Self-attention") -> Path:
    """One page, one block per sentence; each row has `tokens`, `weights`, `label`, `predicted`, `probability`."""
    blocks = []
    for row in rows:
        blocks.append(
            '<div class="s"><div class="meta">label <b>{}</b> &middot; predicted <b>{}</b> (p = {:.3f})</div>'
            "<div>{}</div></div>".format(
                html.escape(str(row["label"])),
                html.escape(str(row["predicted"])),
                float(row["probability"]),
                highlight_html(row["tokens"], row["weights"]),
            )
        )
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>'
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}.s{margin:1em 0;line-height:1.8}"
        ".meta{color:#555;font-size:90%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Token background: attention summed over the hops "
        "(darker = more weight; hover for the value).</p>" + "\n".join(blocks) + "</body></html>\n"
    )
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def _slug(text: str, limit: int = 30) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:limit] or "text"


def write_attention_maps(
    out_dir: str | Path,
    texts: Sequence[str],
    tokens: np.ndarray,
    attention: np.ndarray,
    probabilities: np.ndarray,
    labels: Sequence[int],
    class_names: Sequence[str],
) -> dict:
    """PNGs (`NN_<slug>.png`) and `attention.html` in `out_dir` for a batch of sentences.

    Args:
        texts: the raw sentences.
        tokens: `(batch, n)` token strings ("" or b"" = padding).
        attention: A `(batch, hops, n)`.
        probabilities: `(batch, k)` class probabilities.
        labels: true label ids; class_names: their names.

    Returns: `{"pngs": [...], "html": path}` (paths relative to nothing: as written).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, pngs = [], []
    for k, text in enumerate(texts):
        toks = [t.decode() if isinstance(t, bytes) else str(t) for t in np.asarray(tokens)[k]]
        n = sum(1 for t in toks if t)
        a = np.asarray(attention)[k][:, :n]
        predicted = int(np.argmax(probabilities[k]))
        title = (
            f"label {class_names[labels[k]]}, predicted {class_names[predicted]} "
            f"(p = {float(probabilities[k][predicted]):.2f})"
        )
        pngs.append(save_sentence_png(out_dir / f"{k:02d}_{_slug(text)}.png", toks[:n], a, title))
        rows.append(
            {
                "tokens": toks[:n],
                "weights": a.mean(axis=0),
                "label": class_names[labels[k]],
                "predicted": class_names[predicted],
                "probability": float(probabilities[k][predicted]),
            }
        )
    page = write_html(out_dir / "attention.html", rows)
    return {"pngs": pngs, "html": page}
