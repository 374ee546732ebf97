"""`da6401-a1`'s checks: public ones in `<stem>.py`, hidden ones in `hidden/<stem>.py`.

Each graded part is the staged probe (grader/assignments/da6401_a1/inside/probe.py) in front of
the student's `ann` package; the checks build networks through it and call the skeleton's API
(`forward`, `backward`, `get_weights`, `set_weights`, `update_weights`, `train`). What the parts
share lives in `lib/`, one concept per module; no part's module imports another's.
"""
