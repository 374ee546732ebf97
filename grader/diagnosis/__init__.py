"""Naming the mistake behind a failed check: evidence that a known slip explains the answer.

A check that fails asks these helpers which known mistake, if any, the student's answer shows.
Each helper compares plain data (the student's arrays, the expected ones, mistaken variants of
the expected ones) and answers with a diagnosis code only when the evidence matches within a
tolerance; otherwise None, never a guess.

- `codes.py`: the codes, one per known mistake (the contract's list and the ones added since);
- `scale.py`: a best-fit scale factor and cosine (sign, 1/B, B, ln 2, ...);
- `layout.py`: a transposed weight gradient, a list of layers in reverse order;
- `variants.py`: answers that each make one known mistake, to compare with the student's;
- `engine_probes.py`: graph evidence for autograd engines (shared nodes, deep chains, broadcasts);
- `text.py`: one sentence per mistake with the lecture's formula, for the feedback.
"""
