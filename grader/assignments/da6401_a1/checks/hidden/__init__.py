"""`da6401-a1`'s hidden checks: random weights, batches and hyper-parameters drawn from the grading seed."""
