"""Pictures of the hierarchical attention network's two levels of weights, as in Yang et al. (2016), figure 5.

One review per picture: a row per sentence, the sentence's weight as a blue cell on the left (darkest
for the review's most attended sentence; the weight is written beside it) and each word as a red
cell with the word written on it, shaded by its weight relative to its sentence's largest. The HTML page does the
same as running text (a blue bar before each sentence, red word highlights), one block per review.

The rows are those of `zoo.serving.han.explain`: `{"text", "sentences": [{"text", "weight", "tokens",
"weights"}], "probabilities"}`. Only `matplotlib.figure.Figure` is used (no pyplot, no global state).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from zoo import disk


def review_figure(row: dict, title: str = "", max_tokens: int | None = None) -> Figure:
    """Figure of one review: sentence weights (blue, left) and word weights (red, words written on them)."""
    sentences = row["sentences"]
    if not sentences:
        raise ValueError("the review has no sentence to draw")
    n = max(len(s["tokens"]) for s in sentences) if max_tokens is None else max_tokens
    words = np.full((len(sentences), n), np.nan)
    for i, s in enumerate(sentences):
        k = min(n, len(s["weights"]))
        words[i, :k] = s["weights"][:k]
    relative = words / np.nanmax(np.where(np.isnan(words), 0.0, words), axis=1, keepdims=True).clip(1e-12)
    sentence_weights = np.array([[s["weight"]] for s in sentences])
    fig = Figure(figsize=(min(1.5 + 0.6 * n, 24.0), 1.2 + 0.4 * len(sentences)))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, max(n, 1)]}, sharey=True)
    left.imshow(sentence_weights, aspect="auto", cmap="Blues", vmin=0.0, vmax=max(sentence_weights.max(), 1e-12))
    left.set_xticks([0], ["sentence"])
    left.set_yticks(range(len(sentences)), [f"{s['weight']:.2f}" for s in sentences], fontsize=8)
    right.imshow(relative, aspect="auto", cmap="Reds", vmin=0.0, vmax=1.0)
    for i, s in enumerate(sentences):
        for j, token in enumerate(s["tokens"][:n]):
            dark = relative[i, j] > 0.6
            right.text(j, i, token, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    right.set_xticks([])
    right.set_xlabel("words: weight / the sentence's largest", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def save_review_png(path: str | Path, row: dict, title: str = "", max_tokens: int | None = None) -> Path:
    """Write `review_figure` as a PNG, atomically."""
    path = Path(path)
    fig = review_figure(row, title, max_tokens)
    disk.write_with(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    return path


def review_html(row: dict) -> str:
    """One review as HTML: each sentence with a blue bar of its weight, each word shaded red by its weight."""
    parts = []
    for s in row["sentences"]:
        top = max(s["weights"], default=0.0) or 1.0
        words = " ".join(
            f'<span style="background: rgba(220, 30, 30, {w / top:.3f})" title="{w:.4f}">{html.escape(t)}</span>'
            for t, w in zip(s["tokens"], s["weights"])
        )
        bar = f'<span class="bar" style="background: rgba(30, 80, 220, {s["weight"]:.3f})" title="{s["weight"]:.4f}">'
        parts.append(f"<div>{bar}&nbsp;</span> {words}</div>")
    return "\n".join(parts)


def write_html(path: str | Path, rows: Sequence[dict], labels: Sequence[str], predicted: Sequence[str]) -> Path:
    """One page of reviews (`review_html`), each headed by its true label and the predicted class."""
    blocks = [
        f'<div class="r"><div class="meta">label <b>{html.escape(str(label))}</b> &middot; predicted '
        f"<b>{html.escape(str(guess))}</b> (p = {max(row['probabilities']):.3f})</div>{review_html(row)}</div>"
        for row, label, guess in zip(rows, labels, predicted)
    ]
    page = (
        '<!doctype html><html><head><meta charset="utf-8"><title>Hierarchical attention</title><style>'
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}.r{margin:1.5em 0;line-height:1.8}"
        ".bar{display:inline-block;width:1.2em}.meta{color:#555}</style></head><body>"
        "<p>Blue: the sentence's weight (sentence attention). Red: each word's weight within its sentence "
        "(word attention), relative to the sentence's largest.</p>" + "\n".join(blocks) + "</body></html>"
    )
    path = Path(path)
    disk.write_with(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return path
