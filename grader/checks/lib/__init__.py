"""What the exercises' checks share: one concept per module, named for it.

The exercise modules (`grader/checks/<stem>.py`, `grader/checks/hidden/<stem>.py`) hold checks
and import what they share from here, never from one another. The student release ships this
package with the public checks, so nothing here imports the reference or the hidden checks on
import; a helper that needs the reference imports it inside its body (see grader/release.py).
"""
