"""The iris_mlp run in plain Keras, the baseline of the driver's whole-run benchmark (issue 14).

The same work as `python -m zoo.run iris_mlp --strategy one`: the same seeded, stratified
1/3 test + 10% validation split (scikit-learn), the same 10-8-3 model with a Normalization layer
adapted on the training rows, Adam 1e-3, 150 epochs of batch 32 with validation every epoch,
evaluation on the test rows, `model.save` and `model.export`. Imports included in the time.
With `--cpu-replicas N` (N > 1) the CPU is split into N logical devices and the model is built and
trained under `tf.distribute.MirroredStrategy`, as `python -m zoo.run iris_mlp --strategy mirrored
--cpu-replicas N` does.

    python benchmarks/plain_iris.py --data-dir ../shared/data --seed 1 --out /tmp/plain_iris
"""

import argparse
import os
import time

START = time.perf_counter()
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--data-dir", default="../shared/data")
parser.add_argument("--seed", type=int, default=1337)
parser.add_argument("--out", default="/tmp/plain_iris")
parser.add_argument("--cpu-replicas", type=int, default=1)
args = parser.parse_args()
if args.cpu_replicas > 1:  # zoo.training.strategy.split_cpu, written out: this baseline imports no zoo
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.cpu_replicas)
    strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
else:
    strategy = tf.distribute.get_strategy()
keras.utils.set_random_seed(args.seed)

rows = [line.split(",") for line in open(os.path.join(args.data_dir, "uci", "iris.data")) if line.strip()]
x = np.array([r[:4] for r in rows], "float32")
names = sorted({r[4].strip() for r in rows})
y = np.array([names.index(r[4].strip()) for r in rows], "int32")
x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=1 / 3, random_state=args.seed, stratify=y)
x_train, x_val, y_train, y_val = train_test_split(
    x_rest, y_rest, test_size=0.1, random_state=args.seed, stratify=y_rest
)

train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=args.seed).batch(32)
val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(32)
test = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)

with strategy.scope():
    inputs = keras.Input((4,))
    norm = keras.layers.Normalization(axis=-1, mean=x_train.mean(0), variance=x_train.var(0))
    h = keras.layers.Dense(10, activation="relu", kernel_initializer="he_normal")(norm(inputs))
    h = keras.layers.Dense(8, activation="relu", kernel_initializer="he_normal")(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=150, verbose=0)
scores = model.evaluate(test, return_dict=True, verbose=0)
os.makedirs(args.out, exist_ok=True)
model.save(os.path.join(args.out, "model.keras"))
model.export(os.path.join(args.out, "saved_model"), verbose=False)
print(f"test_accuracy {scores['accuracy']:.4f} seconds {time.perf_counter() - START:.1f}")
