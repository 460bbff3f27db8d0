"""Reading and writing repo files: the one contained door, the plan workspace, the transaction."""
