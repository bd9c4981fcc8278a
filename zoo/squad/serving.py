"""End-to-end SQuAD serving (chapter 12): question + context strings in, answer text and offsets out.

`SquadServer` composes the zoo's one definition of the windows (`zoo.squad.windows`) and of the
answer (`zoo.squad.spans`) around a trained span model. The recipe's evaluation calls the same
object, so `predictions.json` is what the exported SavedModel answers. Core TensorFlow ops only: the
SavedModel loads through `tf.saved_model.load` or `keras.layers.TFSMLayer` in any process with
TensorFlow, without tensorflow-text.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.squad.spans import best_answers
from zoo.squad.windows import SquadWindows, WindowConfig


class SquadServer(keras.Model):
    """Serve a trained span model on raw text.

    `{"question": [B] str, "context": [B] str}` -> `{"answer": [B] str, "start": [B] int64,
    "end": [B] int64, "score": [B] float32, "span": [B] str, "null_odds": [B] float32}`.

    `start`/`end` are character offsets into the context (`context[start:end] == answer`); an
    unanswered question (v2.0 null answer, or a context without tokens) gives "" and -1/-1. `score`
    is the start + end logit of the answer (the null score when the answer is ""); `span` is the best
    non-null span and `null_odds` the null score minus its score (see `zoo.squad.spans.best_answers`).

    Args:
        qa_model: `{token_ids, segment_ids, padding_mask}` -> `{start_positions, end_positions}` logits
            (`zoo.models.bert_qa.build_bert_qa`).
        vocabulary, lowercase: the model's WordPiece vocabulary and casing.
        max_seq_length, doc_stride, max_query_length: the windows (`WindowConfig`).
        max_answer_length, n_best, version_2, null_threshold: the span search (run_squad.py's).

    Example:
        >>> server = SquadServer(qa_model, vocabulary, max_seq_length=128, doc_stride=64)
        >>> server({"question": tf.constant(["Who won?"]), "context": tf.constant(["Denver won."])})["answer"]
    """

    def __init__(
        self,
        qa_model: keras.Model,
        vocabulary: list[str],
        lowercase: bool = True,
        max_seq_length: int = 384,
        doc_stride: int = 128,
        max_query_length: int = 64,
        max_answer_length: int = 30,
        n_best: int = 20,
        version_2: bool = False,
        null_threshold: float = 0.0,
        **kwargs,
    ):
        super().__init__(name=kwargs.pop("name", "squad_server"), **kwargs)
        self.qa_model = qa_model
        self.windows = SquadWindows(vocabulary, lowercase, WindowConfig(max_seq_length, doc_stride, max_query_length))
        self.search = dict(
            max_answer_length=max_answer_length,
            n_best=n_best,
            version_2=version_2,
            null_threshold=float(null_threshold),
        )
        self.built = True

    @property
    def input_signature(self) -> list[dict[str, tf.TensorSpec]]:
        return [
            {
                "question": tf.TensorSpec([None], tf.string, name="question"),
                "context": tf.TensorSpec([None], tf.string, name="context"),
            }
        ]

    def call(self, inputs):
        question = tf.reshape(inputs["question"], [-1])
        context = tf.reshape(inputs["context"], [-1])
        windows = self.windows(question, context)
        out = self.qa_model({k: windows[k] for k in ("token_ids", "segment_ids", "padding_mask")})
        return best_answers(
            context,
            windows,
            tf.cast(out["start_positions"], tf.float32),
            tf.cast(out["end_positions"], tf.float32),
            **self.search,
        )
