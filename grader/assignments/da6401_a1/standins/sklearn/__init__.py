"""Stand-in for scikit-learn in the grader's sandbox: the few helpers a `train.py` reaches for.

`sklearn.model_selection.train_test_split`, `sklearn.metrics` (accuracy, precision, recall, F1,
confusion matrix, classification report) and `sklearn.preprocessing.OneHotEncoder`, written with
numpy. The grader computes its own scores; these only let a student's script run.
`STANDIN` says this is not the real scikit-learn; `USED` is set by the first call.
"""
STANDIN = True
USED = False
__version__ = "standin"


def _mark():
    global USED
    USED = True
