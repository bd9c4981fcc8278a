"""Turn `--strategy` and `--cpu-replicas` into a `tf.distribute.Strategy` (after Model Garden's distribute_utils)."""

from __future__ import annotations

import json
import os

import tensorflow as tf

from zoo.errors import UserError

STRATEGIES = ("auto", "one", "mirrored", "multiworker", "tpu")


class _MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy whose `reduce` works for what Keras 3 `fit` hands it.

    Keras 3.15 + TF 2.21 `fit` fails with more than one worker (tensorflow/tensorflow#72388):
    it reduces a whole `(x, y)` batch at once ("Attempt to convert a value (PerReplica ...)"),
    and reduces scalar logs with `axis=0` ("Invalid reduction dimension 0 for input with 0
    dimensions"). Nested values are reduced element by element, as MirroredStrategy does, and
    a scalar has no axis 0 to reduce over, so it is reduced across replicas only.
    """

    def reduce(self, reduce_op, value, axis):
        if tf.nest.is_nested(value):
            return tf.nest.map_structure(lambda v: self.reduce(reduce_op, v, axis), value)
        if axis is not None and self.experimental_local_results(value)[0].shape.rank == 0:
            axis = None
        return super().reduce(reduce_op, value, axis)


def split_cpu(replicas: int) -> None:
    """Split the host CPU into `replicas` logical devices, so mirrored code runs without a GPU.

    Must run before TensorFlow initialises its devices; calling it again with the same count is a no-op.
    """
    if replicas < 1:
        raise UserError(f"--cpu-replicas must be >= 1, got {replicas}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == replicas:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)]
        )
    except RuntimeError:
        raise UserError(
            f"--cpu-replicas {replicas}: TensorFlow's devices are already initialised in this process "
            f"with {len(tf.config.list_logical_devices('CPU'))} CPU device(s); set it before any TF op"
        ) from None


def _tpu_resolver():
    if not (os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR") or os.path.exists("/dev/accel0")):
        return None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return resolver
    except (ValueError, RuntimeError, tf.errors.OpError):
        return None


def resolve(name: str = "auto", cpu_replicas: int | None = None) -> tf.distribute.Strategy:
    """The strategy for `name`; see STRATEGIES.

    `auto`: MultiWorkerMirroredStrategy when `TF_CONFIG` names a cluster, TPUStrategy when a TPU
    resolves, MirroredStrategy over all GPUs (or over `cpu_replicas` logical CPUs) when there is
    more than one device, else TensorFlow's default strategy.

    `one` is TensorFlow's default strategy (`tf.distribute.get_strategy()`: no distribution wrapper,
    ops placed on the GPU when there is one), not `OneDeviceStrategy`: that one makes Keras build a
    distributed iterator for every epoch and every validation pass, which cost small-data recipes
    most of their run time (iris_mlp: about 39 of 49 s).
    """
    if name not in STRATEGIES:
        raise UserError(f"--strategy {name!r}: expected one of {', '.join(STRATEGIES)}")
    if cpu_replicas is not None:
        if cpu_replicas < 1:
            raise UserError(f"--cpu-replicas must be >= 1, got {cpu_replicas}")
        if cpu_replicas > 1:
            split_cpu(cpu_replicas)
    if name == "auto":
        if _tf_config_cluster():
            name = "multiworker"
        elif _tpu_resolver() is not None:
            name = "tpu"
        elif len(_replica_devices()) > 1:
            name = "mirrored"
        else:
            name = "one"
    cluster = _tf_config_cluster()
    if name != "multiworker" and cluster and sum(map(len, cluster.values())) > 1:
        # Trained alone, a non-chief worker would write its run only to a temporary folder and delete it.
        raise _tf_config_error(f"names a cluster of several tasks, which --strategy {name} does not run")
    if name == "one":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=_replica_devices())
    if name == "multiworker":
        if not _tf_config_cluster():
            raise UserError("--strategy multiworker needs TF_CONFIG with a 'cluster' and a 'task' (see README)")
        return _MultiWorkerMirroredStrategy()
    resolver = _tpu_resolver()
    if resolver is None:
        raise UserError("--strategy tpu: no TPU found (set TPU_NAME, or run on a TPU VM / Colab TPU runtime)")
    return tf.distribute.TPUStrategy(resolver)


def _replica_devices() -> list[str]:
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return [d.name for d in gpus]
    return [d.name for d in tf.config.list_logical_devices("CPU")]


_TASK_TYPES = ("chief", "worker")  # what MultiWorkerMirroredStrategy runs (no "ps", no "evaluator")


def _tf_config_error(problem: str) -> UserError:
    # No `param`: TF_CONFIG is an environment variable, not a `--set` hyper-parameter.
    return UserError(f"TF_CONFIG {problem} (see the README's 'Several GPUs, several machines')")


def tf_config() -> dict | None:
    """`TF_CONFIG` parsed and checked, or None when it names no cluster (a single process).

    A cluster needs a `task` of a type it lists (`chief` or `worker`) and an index within that list;
    a `task` without a cluster is refused too, since it would make this process a worker of nothing.
    """
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise _tf_config_error(f"is not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise _tf_config_error(f"must be a JSON object with 'cluster' and 'task', got {type(config).__name__}")
    cluster, task = config.get("cluster"), config.get("task")
    if not cluster:
        if task:
            raise _tf_config_error("has a 'task' but no 'cluster': unset TF_CONFIG to train in one process")
        return None
    if not isinstance(cluster, dict) or not all(
        isinstance(hosts, list) and hosts and all(isinstance(h, str) and ":" in h for h in hosts)
        for hosts in cluster.values()
    ):
        raise _tf_config_error("'cluster' must map task types to non-empty lists of 'host:port' strings")
    if unknown := sorted(set(cluster) - set(_TASK_TYPES)):
        raise _tf_config_error(f"'cluster' has task types {unknown}; the zoo trains with 'chief' and 'worker' only")
    if len(cluster.get("chief", [])) > 1:
        raise _tf_config_error("'cluster' lists more than one 'chief'")
    if not isinstance(task, dict) or "type" not in task:
        raise _tf_config_error("names a cluster but no 'task' ({'type': 'worker', 'index': N}) for this process")
    kind, index = task["type"], task.get("index", 0)
    if kind not in cluster:
        raise _tf_config_error(f"'task' type {kind!r} is not in the cluster (which has {', '.join(cluster)})")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(cluster[kind]):
        raise _tf_config_error(
            f"'task' index {index!r} is outside the cluster's {len(cluster[kind])} {kind!r} address(es)"
        )
    return config


def _tf_config_cluster() -> dict | None:
    config = tf_config()
    return None if config is None else config["cluster"]


def is_chief() -> bool:
    """True unless this process is a non-chief worker of a (checked) TF_CONFIG cluster."""
    config = tf_config()
    if config is None:
        return True
    kind, index = config["task"]["type"], config["task"].get("index", 0)
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in config["cluster"])
