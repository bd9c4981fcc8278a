"""SQuAD v1.1 and v2.0 (chapter 12): the official JSON files, parsed and validated completely."""

from __future__ import annotations

import json
import os
from pathlib import Path

from zoo.data.fetch import Archive, Source
from zoo.errors import CorruptData
from zoo.squad.features import Example

_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/"
_CITATION_V1 = (
    "Rajpurkar, Zhang, Lopyrev, Liang. SQuAD: 100,000+ Questions for Machine Comprehension of Text. EMNLP 2016"
)
_CITATION_V2 = "Rajpurkar, Jia, Liang. Know What You Don't Know: Unanswerable Questions for SQuAD. ACL 2018"
_HOME = "https://rajpurkar.github.io/SQuAD-explorer/"
_LICENCE = "CC BY-SA 4.0"


def _source(name: str, file: str, sha256: str, title: str, size: str, citation: str) -> Source:
    return Source(
        name=name,
        folder="squad",
        files=(file,),
        archives=(Archive(file, sha256, _URL + file),),
        file_sha256={file: sha256},
        title=title,
        size=size,
        licence=_LICENCE,
        citation=citation,
        homepage=_HOME,
    )


SQUAD_V1_TRAIN = _source(
    "squad_v1_train",
    "train-v1.1.json",
    "3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955",
    "SQuAD v1.1 training set",
    "87,599 questions, 30 MB",
    _CITATION_V1,
)
SQUAD_V1_DEV = _source(
    "squad_v1_dev",
    "dev-v1.1.json",
    "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9",
    "SQuAD v1.1 development set",
    "10,570 questions, 4.9 MB",
    _CITATION_V1,
)
SQUAD_V2_TRAIN = _source(
    "squad_v2_train",
    "train-v2.0.json",
    "68dcfbb971bd3e96d5b46c7177b16c1a4e7d4bdef19fb204502738552dede002",
    "SQuAD v2.0 training set (with unanswerable questions)",
    "130,319 questions, 42 MB",
    _CITATION_V2,
)
SQUAD_V2_DEV = _source(
    "squad_v2_dev",
    "dev-v2.0.json",
    "80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8",
    "SQuAD v2.0 development set (with unanswerable questions)",
    "11,873 questions, 4.4 MB",
    _CITATION_V2,
)
SOURCES = {  # (version, split); the official dev set is the validation split
    (1, "train"): SQUAD_V1_TRAIN,
    (1, "validation"): SQUAD_V1_DEV,
    (2, "train"): SQUAD_V2_TRAIN,
    (2, "validation"): SQUAD_V2_DEV,
}


def load(path: str | os.PathLike) -> list[list[Example]]:
    """The examples of a SQuAD JSON file, one list per article; a malformed file raises ValueError naming it.

    Answers whose text is not at `answer_start` are kept (the official evaluation uses the text);
    `zoo.squad.features.convert` counts and skips them for training.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        articles = []
        for article in raw["data"]:
            examples = []
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                if not isinstance(context, str):
                    raise TypeError("context is not a string")
                for qa in paragraph["qas"]:
                    answers = tuple((str(a["text"]), int(a["answer_start"])) for a in qa.get("answers", []))
                    if qa.get("is_impossible", False):
                        answers = ()
                    if not isinstance(qa["question"], str) or not isinstance(qa["id"], str):
                        raise TypeError(f"question {qa.get('id')!r} has a non-string id or question")
                    examples.append(Example(qa["id"], qa["question"], context, answers))
            articles.append(examples)
    except (OSError, UnicodeDecodeError) as error:
        raise CorruptData(f"{path}: cannot read it ({error})") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise CorruptData(f"{path}: not a SQuAD JSON file ({type(error).__name__}: {error})") from None
    if not any(articles):
        raise CorruptData(f"{path}: holds no questions")
    return articles


def gold_answers(examples: list[Example]) -> dict[str, list[str]]:
    """Question id -> answer texts (empty for unanswerable), as the official evaluation reads them."""
    return {e.qid: [text for text, _ in e.answers] for e in examples}
