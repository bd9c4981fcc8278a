"""Serving a BERT on raw strings (chapter 12): `fill_mask` and `encode` for a pre-trained one, `serve` for a classifier.

Tokenisation (keras-hub's WordPiece, lower-cased) and packing (`[CLS] text [SEP]`, padded to the model's
sequence length, longer texts truncated) run inside the exported graph. The tokenizer is a
tensorflow-text op: a process loading the SavedModel first runs `import tensorflow_text` (importing
`keras_hub` does it).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from zoo.data.bert_pretraining import TextPacker


class BertFillMask(keras.Model):
    """A pre-trained BERT (`zoo.models.bert_pretraining.BertPretrainer`) on raw strings.

    `fill_mask(texts)` (also the `serve` endpoint): every `[MASK]` written in a string ->
    `{"tokens": [B, M, top_k] str, "probabilities": [B, M, top_k] float32, "positions": [B, M] int32,
    "masks": [B] int32}`, M the most masks in one string of the batch; a string's slots past its own
    masks hold "" / 0 / -1. `positions` are token positions (`[CLS]` is 0). Masks past the sequence
    length are cut off with the text (`masks` counts the ones answered).

    `encode(texts)` -> `{"pooled": [B, H], "sequence": [B, L, H], "padding_mask": [B, L] bool}`: the
    pooled `[CLS]` vector and one vector per token position. The pooler is trained by next-sentence
    prediction only: after `next_sentence=false` it is still at its random start, and `sequence` (or
    its mean over real tokens) is the vector to use.

    Args:
        pretrainer: the trained pre-training model.
        vocabulary: its WordPiece vocabulary.
        sequence_length: tokens per string, `[CLS]` and `[SEP]` included (the text's head is kept).
        top_k: candidates per mask.

    Example:
        >>> server = BertFillMask(pretrainer, vocabulary, sequence_length=128)
        >>> server.fill_mask(tf.constant(["the film was [MASK] ."]))["tokens"]
    """

    def __init__(self, pretrainer: keras.Model, vocabulary: Sequence[str], sequence_length: int, top_k: int = 5, **kw):
        super().__init__(name=kw.pop("name", "bert_fill_mask"), **kw)
        self.pretrainer = pretrainer
        self.packer = TextPacker(vocabulary, sequence_length, "head", name="packer")
        self.mask_id = self.packer.special.mask
        self.top_k = min(int(top_k), len(vocabulary) - 4)
        self.vocabulary = tf.constant(list(vocabulary))
        special = self.packer.special  # never a masked token's answer ([UNK] can be: an unknown word)
        banned = [special.pad, special.cls, special.sep, special.mask]
        self.banned = tf.constant([-1e9 if i in banned else 0.0 for i in range(len(vocabulary))], tf.float32)
        self.input_signature = [tf.TensorSpec([None], tf.string, name="texts")]
        self.endpoints = {
            "fill_mask": (self.fill_mask, self.input_signature),
            "encode": (self.encode, self.input_signature),
        }
        self.built = True

    def call(self, texts):
        return self.fill_mask(texts)

    def fill_mask(self, texts):
        packed = self.packer(texts)
        ids = packed["token_ids"]
        is_mask = tf.equal(ids, self.mask_id)
        where = tf.ragged.boolean_mask(tf.broadcast_to(tf.range(tf.shape(ids)[1]), tf.shape(ids)), is_mask)
        positions = where.to_tensor(default_value=-1)
        valid = positions >= 0
        logits = self.pretrainer({**packed, "mask_positions": tf.maximum(positions, 0)})["mlm"]
        top = tf.math.top_k(tf.nn.softmax(tf.cast(logits, tf.float32) + self.banned), k=self.top_k)
        return {
            "tokens": tf.where(valid[..., None], tf.gather(self.vocabulary, top.indices), ""),
            "probabilities": tf.where(valid[..., None], top.values, 0.0),
            "positions": positions,
            "masks": tf.cast(where.row_lengths(), tf.int32),
        }

    def encode(self, texts):
        packed = self.packer(texts)
        features = self.pretrainer.backbone({k: packed[k] for k in ("token_ids", "segment_ids", "padding_mask")})
        return {
            "pooled": tf.cast(features["pooled_output"], tf.float32),
            "sequence": tf.cast(features["sequence_output"], tf.float32),
            "padding_mask": packed["padding_mask"],
        }


class BertTextClassifier(keras.Model):
    """A fine-tuned BERT classifier on raw strings: `serve(texts)` -> class probabilities (as it was trained).

    Args:
        classifier: `{token_ids, segment_ids, padding_mask}` -> probabilities
            (`zoo.models.bert_pretraining.build_bert_classifier`).
        packer: the `TextPacker` the training texts went through (vocabulary, length, truncation).
    """

    def __init__(self, classifier: keras.Model, packer: TextPacker, **kw):
        super().__init__(name=kw.pop("name", "bert_text_classifier"), **kw)
        self.classifier, self.packer = classifier, packer
        self.input_signature = [tf.TensorSpec([None], tf.string, name="texts")]
        self.built = True

    def call(self, texts):
        return self.classifier(self.packer(texts))


def fill_mask_rows(server, texts) -> list[dict]:
    """`[{"text", "masks": [[(token, probability), ...] per mask]}]` from a `BertFillMask` (or its SavedModel)."""
    out = server.fill_mask(tf.constant(list(texts)))
    rows = []
    for i, text in enumerate(texts):
        masks = []
        for m in range(int(out["masks"][i])):
            tokens = [t.decode() for t in out["tokens"][i, m].numpy()]
            masks.append([(t, round(float(p), 4)) for t, p in zip(tokens, out["probabilities"][i, m].numpy())])
        rows.append({"text": text, "masks": masks})
    return rows
