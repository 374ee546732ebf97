"""Helpers for the training and inference scripts: loading and preparing the data."""
