"""Running a resolved plan: scheduling, child processes, masking and the run report."""
