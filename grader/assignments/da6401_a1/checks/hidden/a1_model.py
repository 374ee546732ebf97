"""Hidden checks of `da6401-a1`'s handed-in model: none.

Its public checks already score the model on data no student has (the private test split), so
nothing is left to hide; this module exists because every part has a hidden module, which a
student release leaves out.
"""
