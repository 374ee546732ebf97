"""The data a da6401-a1 submission trains on in the sandbox: MNIST-shaped, made up, deterministic.

- `synthetic.py`: `mnist` and `fashion_mnist` look-alikes (uint8 images (N, 28, 28), labels 0-9),
  each class a noisy template, with train, test and a private split for the grader;
- `keras_cache.py`: the same written where keras caches the real ones (`~/.keras/datasets`), so
  the stand-in `keras` (see `../standins/`) and a student's own cache reader both find it.
"""
