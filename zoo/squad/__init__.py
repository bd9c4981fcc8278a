"""SQuAD question answering (chapter 12): features, post-processing, in-graph serving and `answer`."""

from zoo.squad.api import answer

__all__ = ["answer"]
