"""courseware's built-in plugins: every TensorFlow Playground component.

Installed under the import name ``courseware_builtins`` (see ``pyproject.toml``). Each module here is
an ordinary plugin, registered exactly as a third-party plugin would be, so any of them can be blocked
(``COURSEWARE_BLOCK_PLUGINS=courseware_builtins.activations``) or overridden.
"""
