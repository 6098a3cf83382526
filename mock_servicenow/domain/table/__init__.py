"""Records through the Table API: reads, writes, encoded queries, display values, business
rules and ACLs."""
