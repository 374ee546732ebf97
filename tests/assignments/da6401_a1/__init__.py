"""Tests of the `da6401-a1` assignment: its reference, its solution and skeleton, its mistake catalogue."""
