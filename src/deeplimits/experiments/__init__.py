"""The package's validation experiments, one module per area.

Importing a module registers its experiments with :func:`deeplimits.validation.experiment`;
``deeplimits validate`` imports them all (see :mod:`deeplimits.validation.discovery`).
"""
