"""Helpers for the training and inference scripts."""
