"""A small demo class that ships with the package, so `grade grader/demo/class` shows what grading looks like."""
