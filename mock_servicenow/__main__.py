"""``python -m mock_servicenow``: the same as the ``mock-servicenow`` command."""

import sys

from mock_servicenow.cli import main

sys.exit(main())
