"""The worker's side: code that runs next to the student's, inside the sandbox.

This package is copied into the sandbox under a neutral name and must stay standalone: only the
standard library, numpy and relative imports among its own modules.
"""
