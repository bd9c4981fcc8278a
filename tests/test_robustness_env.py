"""The environment a run starts in (issue 31): TF_CONFIG checked before any work, TensorFlow's start-up noise."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from zoo.errors import UserError
from zoo.training import strategy as strategies

_TWO_WORKERS = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}


@pytest.mark.parametrize(
    ("tf_config", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"worker"', "JSON object"),
        (json.dumps({"task": {"type": "worker", "index": 1}}), "no 'cluster'"),
        (json.dumps({"cluster": _TWO_WORKERS}), "no 'task'"),
        (json.dumps({"cluster": _TWO_WORKERS, "task": "worker"}), "no 'task'"),
        (json.dumps({"cluster": _TWO_WORKERS, "task": {"type": "worker", "index": 2}}), "index 2 is outside"),
        (json.dumps({"cluster": _TWO_WORKERS, "task": {"type": "worker", "index": -1}}), "index -1 is outside"),
        (json.dumps({"cluster": _TWO_WORKERS, "task": {"type": "worker", "index": "1"}}), "outside"),
        (json.dumps({"cluster": _TWO_WORKERS, "task": {"type": "chief", "index": 0}}), "'chief' is not in"),
        (json.dumps({"cluster": {"worker": "127.0.0.1:1"}, "task": {"type": "worker"}}), "non-empty lists"),
        (json.dumps({"cluster": {"worker": []}, "task": {"type": "worker"}}), "non-empty lists"),
        (json.dumps({"cluster": {"ps": ["h:1"], "worker": ["h:2"]}, "task": {"type": "ps"}}), "'chief' and 'worker'"),
        (json.dumps({"cluster": {"chief": ["h:1", "h:2"]}, "task": {"type": "chief"}}), "more than one 'chief'"),
    ],
)
def test_malformed_tf_config_is_a_user_error_naming_it(monkeypatch, tf_config, says):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(UserError, match=says) as raised:
        strategies.is_chief()
    assert str(raised.value).startswith("TF_CONFIG ") and not raised.value.params  # not a --set flag


@pytest.mark.parametrize(
    ("tf_config", "chief"),
    [
        ("", True),
        ("{}", True),
        (json.dumps({"cluster": _TWO_WORKERS, "task": {"type": "worker", "index": 0}}), True),
        (json.dumps({"cluster": _TWO_WORKERS, "task": {"type": "worker", "index": 1}}), False),
        (json.dumps({"cluster": {"chief": ["h:1"], **_TWO_WORKERS}, "task": {"type": "worker", "index": 0}}), False),
        (json.dumps({"cluster": {"chief": ["h:1"], **_TWO_WORKERS}, "task": {"type": "chief", "index": 0}}), True),
    ],
)
def test_well_formed_tf_config_names_the_chief(monkeypatch, tf_config, chief):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    assert strategies.is_chief() is chief


@pytest.mark.parametrize("name", ["one", "mirrored"])
def test_single_process_strategy_refuses_a_cluster_of_several_tasks(monkeypatch, name):
    """A non-chief worker trained alone would keep its run only in a temporary folder, then delete it."""
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": _TWO_WORKERS, "task": {"type": "worker", "index": 1}}))
    with pytest.raises(UserError, match=f"--strategy {name} does not run"):
        strategies.resolve(name)


def test_worker_of_no_cluster_exits_2_in_one_line_and_writes_nothing(tmp_path):
    """Before: it trained alone as a 'non-chief worker', deleted its temporary run folder and exited 0."""
    env = {"TF_CONFIG": json.dumps({"task": {"type": "worker", "index": 1}})}
    done = run_cli("iris_mlp", "--epochs", "1", "--max-steps", "1", "--out", str(tmp_path / "run"), env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "TF_CONFIG" in lines[0] and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
