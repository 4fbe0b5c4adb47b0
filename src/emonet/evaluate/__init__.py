"""Metrics, statistics, reports."""
