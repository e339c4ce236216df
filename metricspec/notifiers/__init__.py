"""Built-in notifiers (``metricspec_notify`` hook implementations), registered like any plugin."""
