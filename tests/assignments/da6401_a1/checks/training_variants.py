"""Variants of the `da6401-a1` solution's `src/train.py`, for the training part's checks.

Written like tests/assignments/da6401_a1/catalogue.py (exact one-time replacements in the
solution's files), each a way a training script goes wrong: it crashes, it rejects one of the
spec's flags, it saves its model under another name, it ignores -sz, it never learns (its
learning rate forced to 0, so the epoch-0 weights stay the best), or it never ends.
"""
from __future__ import annotations

from tests.assignments.da6401_a1.catalogue import Variant

TRAIN = "src/train.py"
BUILD = "    model = NeuralNetwork(args)\n"
SIZES = "    args.input_size, args.output_size = X_train.shape[1], 10\n"
WEIGHT_INIT = '    parser.add_argument("-w_i", "--weight_init", default="xavier", choices=["random", "xavier"])\n'
SAVE = '    np.save(os.path.join(save_dir, "best_model.npy"), weights)\n'

CRASHES = Variant("train_crashes", None, (
    (TRAIN, BUILD, "    model = NeuralNetwork(arguments)\n"),
), "a typo after the data is loaded: NameError")
REJECTS_FLAG = Variant("train_rejects_flag", None, (
    (TRAIN, WEIGHT_INIT, ""),
), "no -w_i option: argparse exits with status 2")
SAVES_ELSEWHERE = Variant("train_saves_elsewhere", None, (
    (TRAIN, SAVE, '    np.save(os.path.join(save_dir, "model.npy"), weights)\n'),
), "the model saved as model.npy")
IGNORES_SIZE = Variant("train_ignores_hidden_size", None, (
    (TRAIN, SIZES, SIZES + "    args.hidden_size = [16]  # what worked in my sweep\n"),
), "every hidden layer 16 units, whatever -sz says")
NEVER_LEARNS = Variant("train_never_learns", None, (
    (TRAIN, BUILD, "    args.learning_rate = 0.0\n" + BUILD),
), "the learning rate forced to 0: the initial weights are saved")
HANGS = Variant("train_hangs", None, (
    (TRAIN, BUILD, "    while True:\n        pass\n" + BUILD),
), "a loop that never ends")

TRAINING_VARIANTS = (CRASHES, REJECTS_FLAG, SAVES_ELSEWHERE, IGNORES_SIZE, NEVER_LEARNS, HANGS)
