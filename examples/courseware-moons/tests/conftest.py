"""Test the plugin's source in this checkout, even when an older copy is installed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
