"""Datasets, splits, tuning, training and evaluation."""
