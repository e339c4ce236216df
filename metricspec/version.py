"""metricspec's version (``metricspec.__version__``): one place, imported by the modules that write it
(the Results, ``--version``, ``metricspec init``, ``metricspec plugins``) without importing the package's
public API (``metricspec/__init__.py``, above every layer)."""

__version__ = "0.1.0"
