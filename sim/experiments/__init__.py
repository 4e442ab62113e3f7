"""Experiments: ensembles and seeding, executors, results directories, designs and sweeps."""
