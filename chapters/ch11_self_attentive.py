"""Chapter 11 walk-through: the self-attentive sentence embedding (Lin et al. 2017), its penalty and
attention maps, and section 11.3's custom regularizers, losses and metric, served from raw strings.

    python chapters/ch11_self_attentive.py --data-dir ../shared/data            # the author's settings
    python chapters/ch11_self_attentive.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch11_self_attentive.py --regularizer orthogonal --label-smoothing 0.1
    python chapters/ch11_self_attentive.py --vectors glove.6B.100d.txt          # pre-trained vectors
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import zoo
from zoo.layers.self_attention import SelfAttention
from zoo.losses import SmoothedSparseCrossentropy, smoothed_sparse_crossentropy
from zoo.metrics.classification import MacroF1
from zoo.regularizers import Orthogonality, l1_activity
from zoo.run import chapter_parser, chapter_settings

SENTENCES = ["a great film , moving and funny", "dull , predictable and far too long",
             "the acting is superb but the plot is a mess"]


def the_layer() -> None:
    """11.2: A = softmax over the tokens of W_s2 tanh(W_s1 H^T); M = A H; P = ||A A^T - I||_F^2."""
    h = keras.random.normal((2, 5, 8), seed=0)  # 2 texts, 5 tokens, 2u = 8 features
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)  # the second text has 2 padding tokens
    layer = SelfAttention(hops=3, attention_units=4, penalty=1.0)
    m, a = layer(h, mask=mask)
    print("A of the padded text (hops x tokens):\n", np.round(np.asarray(a[1]), 3))
    print("each hop sums to 1 over the tokens:", np.round(np.asarray(a).sum(-1), 4).tolist())
    print(f"M: {tuple(m.shape)}; penalty added with add_loss: {float(layer.losses[0]):.4f}")


def chapter_11_3() -> None:
    """11.3: a regulariser as a function and as a class, a loss as a factory and as a class, a metric class."""
    x = keras.random.normal((4, 3), seed=1)
    print(f"l1_activity (a plain function)           : {float(l1_activity(x)):.5f}")
    print(f"Orthogonality(1e-3) (Regularizer subclass): {float(Orthogonality(1e-3)(x)):.5f}, "
          f"config {Orthogonality(1e-3).get_config()}")
    y_true, y_pred = np.array([0, 2, 1]), np.array([[.7, .2, .1], [.1, .3, .6], [.3, .4, .3]], "float32")
    factory = smoothed_sparse_crossentropy(0.1)  # a closure: fine for compile, not restorable from .keras
    print(f"loss factory   : {float(np.mean(factory(y_true, y_pred))):.4f}")
    print(f"Loss subclass  : {float(SmoothedSparseCrossentropy(0.1)(y_true, y_pred)):.4f} (saved with the model)")
    f1 = MacroF1(3)
    f1.update_state(y_true, y_pred)
    print(f"MacroF1 metric : {float(f1.result()):.4f}")


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--penalty", type=float, default=1.0, help="penalty coefficient (0 = off)")
    parser.add_argument("--regularizer", default="none", choices=("none", "l1_activity", "orthogonal"))
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--vectors", default="", help="word2vec/GloVe text file of pre-trained vectors")
    args = parser.parse_args()

    the_layer()
    chapter_11_3()

    result = zoo.fit("self_attentive_mr", **chapter_settings(args, "self_attentive_mr"), penalty=args.penalty,
                     regularizer=args.regularizer, label_smoothing=args.label_smoothing, vectors=args.vectors)
    metrics = result.metrics
    print(f"self-attentive dev accuracy: {metrics['val_accuracy']:.3f} (book split; lstm_mr and textcnn_mr "
          f"use the same one)")
    print("penalty per epoch:", metrics.get("attention_penalty_per_epoch"))
    print(f"mean overlap of two hops' attention: {metrics.get('attention_overlap', float('nan')):.3f} "
          f"(1 = the hops read the same tokens)")
    print("attention maps:", result.run_dir / "attention" / "attention.html")

    # The SavedModel takes raw strings: `serve` gives probabilities, `explain` the weights too.
    saved = str(result.run_dir / "saved_model")
    probabilities = keras.layers.TFSMLayer(saved, call_endpoint="serve")(tf.constant(SENTENCES))
    explained = keras.layers.TFSMLayer(saved, call_endpoint="explain")(tf.constant(SENTENCES))
    for k, sentence in enumerate(SENTENCES):
        tokens = [t.decode() for t in np.asarray(explained["tokens"][k]) if t]
        weights = np.asarray(explained["weights"][k])[:len(tokens)]
        top = ", ".join(f"{tokens[i]} {weights[i]:.2f}" for i in np.argsort(-weights)[:3])
        print(f"  P(positive) = {float(probabilities[k][1]):.2f}  {sentence!r}  most attended: {top}")


if __name__ == "__main__":
    main()
