"""What `da6401-a1`'s checks share, one concept per module.

- `parts`: the parts' stems and the probe's function names.
- `cases`: networks, weights and batches for the checks (reference orientation, input layer first).
- `layout`: the orientation and bias shapes a student's `get_weights` shows, and conversions.
- `calls`: the student's API through the probe, answers read into the reference's terms.
- `forward_evidence`: the mistakes a wrong forward shows.
- `gradient_evidence`: gradients judged against known-right ones, and the mistakes they show.
- `numerical`: central differences of the student's own forward.
- `backward_probes`: calling backward another way, to name an interface slip.
- `optimizer_runs`: recording update_weights and train, and judging them with optimizer_diagnosis.
"""
