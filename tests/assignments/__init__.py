"""Tests of the assignments (course profiles) the grader installs."""
