"""The environment a run starts in (issue 31): TF_CONFIG checked before any work, TensorFlow's start-up noise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import zoo
from tests.conftest import ROOT, run_cli
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


def _zoo_list(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # conftest sets it
    return subprocess.run(
        [sys.executable, "-m", "zoo.run", "--list"], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_the_command_line_starts_without_tensorflows_start_up_lines():
    done = _zoo_list()
    assert done.returncode == 0 and "iris_mlp" in done.stdout
    assert done.stderr == ""  # before: absl's banner, oneDNN and CUDA INFO lines, "failed call to cuInit"


def test_a_log_level_the_user_set_is_left_alone():
    done = _zoo_list(TF_CPP_MIN_LOG_LEVEL="0")
    assert done.returncode == 0 and "absl::InitializeLog" in done.stderr  # nothing hidden
    script = "import os, zoo; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    shown = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}, text=True, capture_output=True
    )
    assert shown.stdout.strip() == "0"


@pytest.mark.parametrize(
    ("line", "noise"),
    [
        ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
        ("I0000 00:00:1796611947.827347   25868 port.cc:153] oneDNN custom operations are on.", True),
        ("E0000 00:00:1.2   1 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error", True),
        ("E0000 00:00:1.2   1 op_kernel.cc:1858] OP_REQUIRES failed at lookup_table_op.cc:1069", False),
        ("W0000 00:00:1.2   1 local_rendezvous.cc:412] Local rendezvous is aborting", False),
        ("UserWarning: something a library warns about", False),
    ],
)
def test_only_the_start_up_lines_are_dropped(line, noise):
    assert bool(zoo._START_NOISE.match(line)) is noise
