"""Stand-in for wandb.plot: each chart is an inert object, logged to nowhere."""
STANDIN = True
USED = False


class Chart:
    """What a wandb.plot function returns here: nothing to draw."""

    def __init__(self, kind, **kwargs):
        self.kind = kind


def _chart(kind):
    def build(*args, **kwargs):
        global USED
        USED = True
        return Chart(kind)
    build.__name__ = kind
    return build


confusion_matrix = _chart("confusion_matrix")
line = _chart("line")
line_series = _chart("line_series")
scatter = _chart("scatter")
bar = _chart("bar")
histogram = _chart("histogram")
roc_curve = _chart("roc_curve")
pr_curve = _chart("pr_curve")
