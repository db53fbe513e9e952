"""Fixtures of the plugin tests. The helpers live in plugin_site.py: test modules import them from
there, never from `conftest` (several test folders have a conftest.py, and in one pytest run the
name `conftest` means whichever was imported first)."""
from demo_blog import demo_site  # noqa: F401  (a pytest fixture)
from plugin_site import fixed_day, site, stub_sampler  # noqa: F401  (pytest fixtures)
