"""Evaluation of tracking and capture results against ground truth."""
