"""The scikit-learn, tqdm, matplotlib and seaborn stand-ins: a student's `train.py` runs with them
as it would with the real libraries, in a fresh interpreter with only the stand-ins on the path."""
from __future__ import annotations

import pytest

from tests.assignments.da6401_a1.test_standins import run_script

SPLIT = """
import json
import numpy as np
from sklearn.model_selection import train_test_split
X, y = np.arange(200).reshape(100, 2), np.arange(100)
a = train_test_split(X, y, test_size=0.1, random_state=3)
b = train_test_split(X, y, test_size=0.1, random_state=3)
c = train_test_split(list(range(10)), train_size=7, shuffle=False)
print(json.dumps({"shapes": [p.shape[0] for p in a], "same": all(np.array_equal(p, q) for p, q in zip(a, b)),
                  "paired": bool(np.all(a[0][:, 0] == 2 * a[2]) and np.all(a[1][:, 0] == 2 * a[3])),
                  "disjoint": not set(a[2].tolist()) & set(a[3].tolist()), "lists": c}))
"""


def test_train_test_split_splits_every_array_alike_and_reproducibly(tmp_path):
    out = run_script(SPLIT, tmp_path)
    # 10% of 100 rounds up to 10 for testing, the rest trains, as scikit-learn sizes it
    assert out["shapes"] == [90, 10, 90, 10] and out["same"] and out["paired"] and out["disjoint"]
    assert out["lists"] == [[0, 1, 2, 3, 4, 5, 6], [7, 8, 9]]


METRICS = """
import json
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix, f1_score,
                             precision_score, recall_score)
import sklearn
t, p = [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]
print(json.dumps({"acc": accuracy_score(t, p), "cm": confusion_matrix(t, p).tolist(),
                  "p": precision_score(t, p, average="macro"), "r": recall_score(t, p, average="macro"),
                  "f1": f1_score(t, p, average="macro"), "micro": f1_score(t, p, average="micro"),
                  "weighted": recall_score(t, p, average="weighted"),
                  "report": sorted(classification_report(t, p, output_dict=True)), "used": sklearn.USED}))
"""


def test_metrics_agree_with_a_confusion_matrix_worked_by_hand(tmp_path):
    out = run_script(METRICS, tmp_path)
    # rows are true classes: class 0 -> (0, 1) once each, class 1 -> 1 twice, class 2 -> (2, 0)
    assert out["cm"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert out["acc"] == pytest.approx(4 / 6) and out["micro"] == pytest.approx(4 / 6)
    # per class: precision 1/2, 2/3, 1; recall 1/2, 1, 1/2; F1 1/2, 4/5, 2/3
    assert out["p"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert out["r"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3) == out["weighted"]  # equal supports
    assert out["f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert out["report"] == ["0", "1", "2", "accuracy"] and out["used"] is True


PLOTS = """
import json, os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import seaborn as sns
from tqdm import tqdm, trange
from tqdm.auto import tqdm as auto_tqdm
fig, ax = plt.subplots(1, 2, figsize=(8, 3))
ax[0].plot([1, 2, 3]); plt.title("loss"); sns.heatmap([[1, 2], [3, 4]], annot=True)
plt.savefig("curves.png"); plt.close()
seen = [i for i in tqdm(range(5), desc="epochs")] + list(trange(2)) + list(auto_tqdm([7]))
print(json.dumps({"seen": seen, "files": sorted(os.listdir("."))}))
"""


def test_plots_and_progress_bars_run_and_leave_nothing_behind(tmp_path):
    out = run_script(f"import os\nos.chdir({str(tmp_path)!r})\n" + PLOTS, tmp_path)
    assert out["seen"] == [0, 1, 2, 3, 4, 0, 1, 7] and out["files"] == []
