"""Reporting: figure data, figures, comparisons and explanations."""
