"""Stand-in for `sklearn.metrics`: accuracy, precision, recall, F1, confusion matrix, report."""
import numpy as np

import sklearn as _root

STANDIN = True
USED = False


def _mark():
    global USED
    USED = True
    _root._mark()


def _labels(y_true, y_pred, labels=None):
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    return y_true, y_pred, np.asarray(labels)


def accuracy_score(y_true, y_pred, normalize=True, sample_weight=None):
    _mark()
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    hits = float(np.sum(y_true == y_pred))
    return hits / max(len(y_true), 1) if normalize else hits


def confusion_matrix(y_true, y_pred, labels=None, sample_weight=None, normalize=None):
    _mark()
    y_true, y_pred, labels = _labels(y_true, y_pred, labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if t in index and p in index:
            matrix[index[t], index[p]] += 1
    return matrix


def _per_class(y_true, y_pred, labels=None):
    y_true, y_pred, labels = _labels(y_true, y_pred, labels)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    tp = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0).astype(float), matrix.sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1, actual


def _average(values, support, average):
    if average in (None, "none"):
        return values
    if average == "weighted":
        return float(np.sum(values * support) / max(np.sum(support), 1.0))
    return float(np.mean(values)) if len(values) else 0.0  # "macro"; "micro" is handled by the caller


def _score(which, y_true, y_pred, labels=None, average="binary", **_):
    _mark()
    if average == "micro":
        return accuracy_score(y_true, y_pred)
    precision, recall, f1, support = _per_class(y_true, y_pred, labels)
    values = {"precision": precision, "recall": recall, "f1": f1}[which]
    if average == "binary":
        return float(values[-1]) if len(values) else 0.0
    return _average(values, support, average)


def precision_score(y_true, y_pred, labels=None, average="binary", **kwargs):
    return _score("precision", y_true, y_pred, labels, average, **kwargs)


def recall_score(y_true, y_pred, labels=None, average="binary", **kwargs):
    return _score("recall", y_true, y_pred, labels, average, **kwargs)


def f1_score(y_true, y_pred, labels=None, average="binary", **kwargs):
    return _score("f1", y_true, y_pred, labels, average, **kwargs)


def classification_report(y_true, y_pred, labels=None, output_dict=False, **_):
    _mark()
    y_true, y_pred, labels = _labels(y_true, y_pred, labels)
    precision, recall, f1, support = _per_class(y_true, y_pred, labels)
    if output_dict:
        report = {str(label): {"precision": float(p), "recall": float(r), "f1-score": float(f), "support": int(s)}
                  for label, p, r, f, s in zip(labels.tolist(), precision, recall, f1, support)}
        report["accuracy"] = accuracy_score(y_true, y_pred)
        return report
    lines = [f"{'':>8} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}"]
    lines += [f"{label!s:>8} {p:9.2f} {r:9.2f} {f:9.2f} {int(s):9d}"
              for label, p, r, f, s in zip(labels.tolist(), precision, recall, f1, support)]
    lines.append(f"{'accuracy':>8} {'':>9} {'':>9} {accuracy_score(y_true, y_pred):9.2f} {len(y_true):9d}")
    return "\n".join(lines)
