"""ServiceNow semantics in plain Python: no Flask, no HTTP."""
