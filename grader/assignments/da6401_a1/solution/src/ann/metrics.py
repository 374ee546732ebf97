"""Classification metrics: accuracy, and macro-averaged precision, recall and F1."""
import numpy as np


def labels_of(y_true):
    """Integer labels (B,) from labels or one-hot rows (B, C)."""
    y = np.asarray(y_true)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)


def classification_metrics(labels, predictions, num_classes):
    """accuracy, precision, recall, f1; the last three averaged over classes (a class never
    predicted has precision 0, one never present has recall 0)."""
    precision, recall, f1 = [], [], []
    for c in range(num_classes):
        true_positive = np.sum((predictions == c) & (labels == c))
        predicted, actual = np.sum(predictions == c), np.sum(labels == c)
        p = true_positive / predicted if predicted else 0.0
        r = true_positive / actual if actual else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    return {"accuracy": float(np.mean(predictions == labels)), "precision": float(np.mean(precision)),
            "recall": float(np.mean(recall)), "f1": float(np.mean(f1))}
